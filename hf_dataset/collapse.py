"""How WVS answer codes vote for a probe's two options, and the label that follows for one country.

The rule (see COLLAPSE.md): opposite ends of the answer scale vote for option_a and option_b, a neutral midpoint is
left out, the side with more votes is the label and a tie gives none.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hf_dataset.errors import DataError

HERE = Path(__file__).parent
COLLAPSE_TABLE = HERE / "collapse.tsv"
QUIRKS_TABLE = HERE / "probe_quirks.tsv"

Side = Literal["a", "b"]


@dataclass(frozen=True)
class Collapse:
    option_a: frozenset[int]
    option_b: frozenset[int]
    left_out: frozenset[int]
    excluded: str  # why the probe cannot be collapsed honestly; "" when it can


@dataclass(frozen=True)
class Label:
    side: Side | None
    share_a: float | None
    respondents: int | None


NO_LABEL = Label(None, None, None)


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


def _rows(path: Path, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        found = next(reader, None)
        if found != header:
            raise DataError(f"{path}: line 1: header must be {header}, found {found}")
        rows = []
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                raise DataError(f"{path}: line {line}: {len(cells)} columns, expected {len(header)}")
            rows.append((line, dict(zip(header, cells))))
        return rows


def load_collapse(path: Path = COLLAPSE_TABLE) -> dict[str, Collapse]:
    table: dict[str, Collapse] = {}
    for line, row in _rows(path, ["id", "option_a", "option_b", "left_out", "excluded", "note"]):
        where = f"{path}: line {line}"
        if row["id"] in table:
            raise DataError(f"{where}: duplicate probe id {row['id']}")
        rule = Collapse(
            parse_codes(row["option_a"], where),
            parse_codes(row["option_b"], where),
            parse_codes(row["left_out"], where),
            row["excluded"].strip(),
        )
        if not rule.excluded:
            if not rule.option_a or not rule.option_b:
                raise DataError(f"{where}: {row['id']} needs codes for both options, or a reason to exclude it")
            if (rule.option_a & rule.option_b) or (rule.left_out & (rule.option_a | rule.option_b)):
                raise DataError(f"{where}: {row['id']} puts one answer code on two sides")
        table[row["id"]] = rule
    return table


def load_quirks(path: Path = QUIRKS_TABLE) -> dict[tuple[str, str], tuple[str, str]]:
    """{(language, probe id): (action, reason)}; action 'swap' flips the votes, 'exclude' drops the probe."""
    quirks = {}
    for line, row in _rows(path, ["language", "id", "action", "reason"]):
        if row["action"] not in ("swap", "exclude"):
            raise DataError(f"{path}: line {line}: action must be swap or exclude, found {row['action']!r}")
        quirks[(row["language"], row["id"])] = (row["action"], row["reason"])
    return quirks


def label(answers: dict[int, int] | None, rule: Collapse, *, swap: bool = False, where: str = "") -> Label:
    """The majority side of one country's answers to one probe; no figures or a tie give no label."""
    if not answers:
        return NO_LABEL
    unknown = set(answers) - rule.option_a - rule.option_b - rule.left_out
    if unknown:
        raise DataError(f"{where}: answer code(s) {sorted(unknown)} are not in the collapse table")
    votes_a = sum(answers.get(code, 0) for code in rule.option_a)
    votes_b = sum(answers.get(code, 0) for code in rule.option_b)
    if swap:
        votes_a, votes_b = votes_b, votes_a
    total = votes_a + votes_b
    if total == 0:
        return NO_LABEL
    side: Side | None = "a" if votes_a > votes_b else "b" if votes_b > votes_a else None
    return Label(side, votes_a / total, total)
