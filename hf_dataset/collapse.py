"""How WVS answer codes vote for a probe's two options, and the label that follows for one country.

Two rules (see COLLAPSE.md), both stated code by code in `collapse.tsv`:
- `paper` (default): a scale's non-committal middle ("Hard to say", "Neither", a midpoint) counts with option_b, so
  option_a must beat every other answer; this reproduces the paper's published US labels.
- `drop_middle`: the middle votes for neither option.
Off-scale answers ("not a member", "not allowed to vote") vote for neither under both rules. The side with more
votes is the label; a tie, or no figures, gives none.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hf_dataset.errors import DataError


COLLAPSE_TABLE = Path(__file__).with_name("collapse.tsv")
RULES: tuple[str, ...] = ("paper", "drop_middle")
DEFAULT_RULE = "paper"
HEADER = [
    "id", "paper_a", "paper_b", "paper_out", "drop_middle_a", "drop_middle_b", "drop_middle_out", "countries",
    "excluded", "note",
]

Side = Literal["a", "b"]


@dataclass(frozen=True)
class Sides:
    option_a: frozenset[int]
    option_b: frozenset[int]
    left_out: frozenset[int]


@dataclass(frozen=True)
class Collapse:
    rules: dict[str, Sides]
    countries: frozenset[str]  # the only countries whose figures answer the probe's question; empty: all
    excluded: str  # why the probe cannot be collapsed honestly; "" when it can

    def sides(self, rule: str = DEFAULT_RULE) -> Sides:
        return self.rules[check_rule(rule)]


@dataclass(frozen=True)
class Label:
    side: Side | None
    share_a: float | None
    respondents: int | None


NO_LABEL = Label(None, None, None)


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise DataError(f"unknown collapse rule {rule!r}; known: {' '.join(RULES)}")
    return rule


def parse_codes(text: str, where: str) -> frozenset[int]:
    """'1-2,5' -> {1, 2, 5}."""
    codes: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError as error:
            raise DataError(f"{where}: {text!r} is not a list of answer codes such as 1-2,5") from error
        if first > last:
            raise DataError(f"{where}: empty range {part!r}")
        codes.update(range(first, last + 1))
    return frozenset(codes)


def tsv_rows(path: Path, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a project table as dicts, each with its line number; the header must match exactly."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        found = next(reader, None)
        if found != header:
            raise DataError(f"{path}: line 1: header must be {header}, found {found}")
        rows = []
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                raise DataError(f"{path}: line {line}: {len(cells)} columns, expected {len(header)}")
            rows.append((line, dict(zip(header, cells, strict=False))))
        return rows


def _sides(row: dict[str, str], rule: str, where: str) -> Sides:
    sides = Sides(*(parse_codes(row[f"{rule}_{part}"], where) for part in ("a", "b", "out")))
    if not row["excluded"].strip():
        if not sides.option_a or not sides.option_b:
            raise DataError(f"{where}: {row['id']} needs {rule} codes for both options, or a reason to exclude it")
        if (sides.option_a & sides.option_b) or (sides.left_out & (sides.option_a | sides.option_b)):
            raise DataError(f"{where}: {row['id']} puts one answer code on two sides under the {rule} rule")
    return sides


def load_collapse(path: Path = COLLAPSE_TABLE) -> dict[str, Collapse]:
    table: dict[str, Collapse] = {}
    for line, row in tsv_rows(path, HEADER):
        where = f"{path}: line {line}"
        if row["id"] in table:
            raise DataError(f"{where}: duplicate probe id {row['id']}")
        rules = {rule: _sides(row, rule, where) for rule in RULES}
        codes = {rule: s.option_a | s.option_b | s.left_out for rule, s in rules.items()}
        if len(set(codes.values())) > 1:
            raise DataError(f"{where}: {row['id']}: the rules must place the same answer codes")
        countries = frozenset(filter(None, (c.strip() for c in row["countries"].split(","))))
        table[row["id"]] = Collapse(rules, countries, row["excluded"].strip())
    return table


def label(answers: dict[int, int] | None, sides: Sides, *, where: str = "") -> Label:
    """The majority side of one country's answers to one probe; no figures or a tie give no label."""
    if not answers:
        return NO_LABEL
    unknown = set(answers) - sides.option_a - sides.option_b - sides.left_out
    if unknown:
        raise DataError(f"{where}: answer code(s) {sorted(unknown)} are not in the collapse table")
    votes_a = sum(answers.get(code, 0) for code in sides.option_a)
    votes_b = sum(answers.get(code, 0) for code in sides.option_b)
    total = votes_a + votes_b
    if total == 0:
        return NO_LABEL
    side: Side | None = "a" if votes_a > votes_b else "b" if votes_b > votes_a else None
    return Label(side, votes_a / total, total)
