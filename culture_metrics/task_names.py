"""The names of this project's tasks, `wvs_selfalign_<language>[_<variant>]`, and their groups, in one place."""

from __future__ import annotations

from dataclasses import dataclass


PREFIX = "wvs_selfalign"
# The plain task, without a variant suffix, is the paper's setting: chrF++ demonstrations from all categories.
DEFAULT_STRATEGY = "chrf"


class TaskNameError(ValueError):
    """A name that is not `wvs_selfalign_<language>[_<variant>]`."""


@dataclass(frozen=True)
class TaskName:
    language: str
    variant: str = ""

    def __str__(self) -> str:
        return f"{PREFIX}_{self.language}" + (f"_{self.variant}" if self.variant else "")

    @property
    def strategy(self) -> str:
        """The variant as the report names it: its suffix, or the paper's chrF++ setting for the plain task."""
        return self.variant or DEFAULT_STRATEGY


def parse(task: str) -> TaskName:
    language, _, variant = task.removeprefix(f"{PREFIX}_").partition("_")
    if not task.startswith(f"{PREFIX}_") or not language:
        raise TaskNameError(f"{task!r} is not a {PREFIX} task")
    return TaskName(language, variant)


def group_name(variant: str) -> str:
    """The group of one variant's tasks in every language, which lm-eval scores as a whole."""
    return PREFIX + (f"_{variant}" if variant else "")


def strategy_of(task: str) -> str:
    """The report's name for a task's variant; a task of this project's class under another name keeps its own."""
    try:
        return parse(task).strategy
    except TaskNameError:
        return task
