"""The paper's Table 1 (data/paper_table1.csv, see data/PAPER.md), which of a report's runs it speaks of, and
how a run compares with it.

A run is the paper's model when its model name ends with the model's checkpoint (`Meta-Llama-3-8B-Instruct`, with
or without its owner, or a local folder of that name), or when the user names it (`--paper-model RUN=Llama3-8B`).
Only the paper's setting compares: the plain task (chrF++ over all categories), the language's own country.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any


TABLE = Path(__file__).with_name("data") / "paper_table1.csv"
CHANGES = ("improved", "unchanged", "decreased")


@dataclass(frozen=True)
class PaperRow:
    model: str
    checkpoint: str
    temperature: float
    language: str
    figures: dict[str, float]  # improved / unchanged / decreased, in % of the misaligned probes


def load(path: Path = TABLE) -> list[PaperRow]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            PaperRow(row["model"], row["checkpoint"], float(row["temperature"]), row["language"],
                     {change: float(row[change]) for change in CHANGES})
            for row in csv.DictReader(handle)
        ]


def models(rows: list[PaperRow]) -> list[str]:
    return list(dict.fromkeys(row.model for row in rows))


def paper_model(run_model: str, rows: list[PaperRow], named: dict[str, str]) -> str | None:
    """The paper's model a run's model is, by the user's naming or by its checkpoint name; None if none."""
    if run_model in named:
        return named[run_model]
    name = run_model.rstrip("/").casefold()
    for row in rows:
        checkpoint = row.checkpoint.split(" ")[0].casefold()
        if name == checkpoint or name.endswith("/" + checkpoint.split("/")[-1]) or name == checkpoint.split("/")[-1]:
            return row.model
    return None


def figures(rows: list[PaperRow], model: str, language: str) -> dict[str, float] | None:
    return next((row.figures for row in rows if row.model == model and row.language == language), None)


def beside(model: str, theirs: dict[str, float], ours: dict[str, float | None],
           ours_by_chance: dict[str, float | None]) -> dict[str, Any]:
    """The paper's Table 1 figures for a run, ours, and ours minus the paper's, in %."""
    return {
        "model": model,
        "paper": theirs,
        "ours": ours,
        "ours_by_chance": ours_by_chance,
        "difference": {c: None if ours[c] is None else ours[c] - theirs[c] for c in CHANGES},
    }


def reference(rows: list[PaperRow], languages: set[str]) -> list[dict[str, Any]]:
    """The paper's Table 1 rows for the report's languages: shown for reference, labelled as the paper's."""
    return [{"paper_model": r.model, "checkpoint": r.checkpoint, "temperature": r.temperature,
             "language": r.language, **r.figures} for r in rows if r.language in languages]
