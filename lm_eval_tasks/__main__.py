"""`python -m lm_eval_tasks [install | uninstall]`: print the task folder, or make the installed lm-eval find it.

`install` links the task files into lm-eval's own task tree (`lm_eval_tasks.installation`), so that
`lm_eval --tasks wvs_selfalign_ro` works as written; `uninstall` removes them. Run `install` again after upgrading
the project. Releases with task plugins find the folder through the package's `lm_eval.tasks` entry point instead,
and `--include_path "$(python -m lm_eval_tasks)"` always works.
"""

from __future__ import annotations

import argparse
import sys

from lm_eval_tasks import PATH
from lm_eval_tasks.installation import install, lm_eval_task_tree, uninstall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lm_eval_tasks", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=("install", "uninstall"),
                        help="without a command: print the task folder (for --include_path)")
    args = parser.parse_args(argv)
    if args.command is None:
        print(PATH)
    elif args.command == "install":
        print(f"installed the wvs_selfalign tasks into {install(lm_eval_task_tree())}")
    else:
        removed = uninstall(lm_eval_task_tree())
        print(f"removed {removed}" if removed else "nothing to remove: the tasks were not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
