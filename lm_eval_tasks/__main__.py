"""`python -m lm_eval_tasks [install | uninstall]`: print the task folder, or make the installed lm-eval find it.

lm-eval 0.4.13 resolves `--tasks` names against its own task tree before any other code runs, and has no plugin
mechanism for tasks. `install` links this folder's task files into that tree (a folder of symbolic links, copies
where the file system has none), so that `lm_eval --tasks wvs_selfalign_ro` works as written; `uninstall` removes
them. Run `install` again after upgrading the project. Releases with task plugins find the folder through the
package's `lm_eval.tasks` entry point instead, and `--include_path "$(python -m lm_eval_tasks)"` always works.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from lm_eval_tasks import PATH


FOLDER = PATH / "wvs_selfalign"
MARKER = ".installed_by_wvs_selfalign"
PATTERNS = ("*.yaml", "*_yaml", "README.md")


def lm_eval_task_tree() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).parent


def install(tree: Path) -> Path:
    target = tree / FOLDER.name
    if target.exists() and not (target / MARKER).exists():
        raise SystemExit(f"error: {target} exists and was not installed by this project; not touching it")
    uninstall(tree)
    target.mkdir()
    for pattern in PATTERNS:
        for source in sorted(FOLDER.glob(pattern)):
            try:
                (target / source.name).symlink_to(source)
            except OSError:
                shutil.copy2(source, target / source.name)
    (target / MARKER).write_text(f"{FOLDER}\n", encoding="utf-8")
    return target


def uninstall(tree: Path) -> Path | None:
    target = tree / FOLDER.name
    if not (target / MARKER).exists():
        return None
    shutil.rmtree(target)
    return target


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
