"""Linking the task folder into the installed lm-eval's own task tree, so that `--tasks` names resolve as written.

lm-eval 0.4.13 resolves `--tasks` names against its own task tree before any other code runs, and has no plugin
mechanism for tasks. `install` links this folder's task files into that tree (a folder of symbolic links, copies
where the file system has none) and leaves a marker naming the folder it came from; `uninstall` removes them.
"""

from __future__ import annotations

import shutil
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


def installed(tree: Path) -> bool:
    """Whether lm-eval's tree holds this very folder's tasks (an install from another checkout does not count)."""
    marker = tree / FOLDER.name / MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == str(FOLDER)
