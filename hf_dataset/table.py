"""One language's built probes, with what was repaired and what was dropped: what the build writes and the card shows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LanguageTable:
    language: str
    country: str
    rule: str  # the collapse rule the labels follow
    rows: list[dict] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (probe id, reason)
    fixes: dict[str, str] = field(default_factory=dict)  # English only: probe id -> recorded fix

    @property
    def labelled(self) -> int:
        return sum(row["answer"] is not None for row in self.rows)

    @property
    def repaired(self) -> int:
        return sum(bool(row["quirk"]) for row in self.rows)

    @property
    def dropped(self) -> list[tuple[str, str]]:
        """Probes dropped for their own sake: not the sections the paper leaves out."""
        return [(probe_id, reason) for probe_id, reason in self.excluded if not reason.endswith("excluded by the paper")]
