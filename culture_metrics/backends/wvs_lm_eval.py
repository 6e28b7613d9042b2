"""`wvs-lm-eval`: lm-eval's own command line, with the project's tasks and model backends registered.

It takes exactly lm_eval's arguments (`wvs-lm-eval run --model hf-prefix --tasks wvs_selfalign_ro ...`); lm-eval
0.4.13 resolves `--model` and `--tasks` against its own registries before any other code runs, so this command
registers the backends (`hf-prefix`, `served-chat`, `served-completions`) and the tasks first and then hands over to
lm-eval. The task folder is added as `--include_path` only where lm-eval does not already find it: after
`python -m lm_eval_tasks install` it is in lm-eval's own tree, and adding it again would override every task with
itself, one warning each. An `--include_path` the user gives is kept: lm-eval then reads the user's folder. A served
run that cannot go on ends with its one-line reason, not a traceback that buries it.
"""

from __future__ import annotations

import sys

from lm_eval_tasks import PATH
from lm_eval_tasks.installation import installed, lm_eval_task_tree


def arguments(argv: list[str]) -> list[str]:
    """lm_eval's arguments, with the project's task folder added where lm-eval would not find the tasks."""
    given = any(arg == "--include_path" or arg.startswith("--include_path=") for arg in argv)
    if not argv or argv[0] in ("-h", "--help") or given or installed(lm_eval_task_tree()):
        return argv
    return [*argv, "--include_path", str(PATH)]


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    import culture_metrics.backends  # noqa: F401  (registers the model backends)
    from culture_metrics.backends.served import ServedFailure

    sys.argv = [sys.argv[0], *arguments(sys.argv[1:])]
    try:
        cli_evaluate()
    except ServedFailure as failure:
        sys.exit(str(failure))  # one line, the last the user reads: what happened, what is kept, what to change


if __name__ == "__main__":
    main()
