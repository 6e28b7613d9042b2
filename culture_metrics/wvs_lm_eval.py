"""`wvs-lm-eval`: lm-eval's own command line, with the project's tasks and the `hf-prefix` backend registered.

It takes exactly lm_eval's arguments (`wvs-lm-eval run --model hf-prefix --tasks wvs_selfalign_ro ...`); lm-eval
0.4.13 resolves `--model` and `--tasks` against its own registries before any other code runs, so this command
registers them first and then hands over to lm-eval. An `--include_path` the user gives is kept: lm-eval then
reads the user's folder instead of the project's.
"""

from __future__ import annotations

import sys

from lm_eval_tasks import PATH


def arguments(argv: list[str]) -> list[str]:
    """lm_eval's arguments with the project's task folder added where the command reads tasks."""
    if not argv or argv[0] in ("-h", "--help") or "--include_path" in argv:
        return argv
    return [*argv, "--include_path", str(PATH)]


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    import culture_metrics.hf_prefix  # noqa: F401  (registers the hf-prefix model backend)

    sys.argv = [sys.argv[0], *arguments(sys.argv[1:])]
    cli_evaluate()


if __name__ == "__main__":
    main()
