"""What one wvs_selfalign task asks, read once from its YAML `metadata` (and lm-eval's `--metadata`) and checked.

lm-eval keeps its own `version` there and merges `--model_args` into every task's metadata, so keys this project
does not know are let through, except those that look like a misspelling of one it does (`reshufle`): a silent typo
would run another experiment.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from culture_metrics.prompt import DEFAULT_FORMAT, FORMATS
from hf_dataset.collapse import DEFAULT_RULE, RULES
from hf_dataset.languages import LANGUAGES


if TYPE_CHECKING:
    from collections.abc import Mapping


class VariantError(ValueError):
    """A task's metadata asks for something this project does not have (a wrong key, type or value)."""


@dataclass(frozen=True)
class Variant:
    """The settings of one task variant; see the task folder's README for what each changes."""

    language: str
    format: str = DEFAULT_FORMAT
    persona: bool = False
    explain: bool = False
    reshuffle: bool = False
    placebo: bool = False
    country: str | None = None
    collapse: str = DEFAULT_RULE
    clean: bool = False
    dataset: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            kind = bool if field.type == "bool" else str
            if not isinstance(value, kind) and not (value is None and "None" in field.type):
                raise VariantError(f"metadata {field.name}: {value!r} is not a {kind.__name__}")
        _check_choice("language", self.language, LANGUAGES)
        _check_choice("prompt format", self.format, FORMATS)
        _check_choice("collapse rule", self.collapse, RULES)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Variant:
        metadata = dict(metadata or {})
        names = [field.name for field in fields(cls)]
        for key in metadata.keys() - set(names):
            near = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
            if near:
                raise VariantError(f"unknown metadata key {key!r}; did you mean {near[0]!r}?")
        if "language" not in metadata:
            raise VariantError("metadata has no language")
        return cls(**{name: _unset_as_none(metadata[name]) for name in names if name in metadata})


def _check_choice(what: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise VariantError(f"unknown {what} {value!r}; known: {' '.join(known)}")


def _unset_as_none(value: Any) -> Any:
    """An empty `country` or `dataset` (`--metadata dataset=`) means unset, as the dataset reader takes it."""
    return None if value == "" else value
