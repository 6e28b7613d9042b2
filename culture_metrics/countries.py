"""One run's responses scored against every WVS-7 country, not only its target (issue: "which countries?").

The zero-shot prompt does not depend on the country and the self-aligned one only through its demonstrations, so
the responses a run already logged can be held against each country's majority answer. A probe's labels per
country come from the labelling code the tasks use (`hf_dataset.build.label_row` with the committed figures and the
run's collapse rule); a country with no figures for the probe's question, or a tie, gives no label and the probe is
left out of that country's figures. Labels do not depend on the model: they are computed once per probe and rule,
and every record of the probe shares them (`Labels`), however many runs a report reads.

Per probe and labelling country c (the definitions the metrics module aggregates):
- `zeroshot` / `selfalign`: share of the responses that give c's majority answer (invalid ones count as not;
  in `_logprob` tasks the probability on its side), as p0 and p1 are for the target;
- `zeroshot_valid` / `selfalign_valid`: the same among valid responses only (None when none was valid);
- `zeroshot_soft_gap` / `selfalign_soft_gap`: |model share on option_a - c's share_a|.
A probe has two options, so each figure but the soft gap takes one of two values per probe, whichever answer c
holds: they are computed per answer (`_by_answer`) and spread over the countries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from hf_dataset.build import label_row
from hf_dataset.collapse import load_collapse
from hf_dataset.wvs import load_counts


if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterator, KeysView, Sequence, ValuesView

    from culture_metrics.record import Record


# The fields of the probe its labels depend on.
LABEL_FIELDS = ("id", "question", "option_a", "option_b")
SHARES = {"zeroshot": "q0", "selfalign": "q1"}  # each draw's share on option_a's side
SOFT_GAP = "_soft_gap"
FIGURES = ("zeroshot", "selfalign", "zeroshot_valid", "selfalign_valid", "zeroshot_soft_gap", "selfalign_soft_gap")


@cache
def _tables() -> tuple[dict, dict]:
    return load_collapse(), load_counts()


@cache
def _labels(key: tuple, collapse: str) -> dict[str, tuple[str, float]]:
    rules, counts = _tables()
    row = dict(zip(LABEL_FIELDS, key, strict=True))
    labelled = {}
    for country in sorted(counts):
        answers = counts[country].get(f"Q{row['question']}")
        labelled_row = label_row(row, rules[row["id"]], answers, country=country, collapse=collapse)
        if labelled_row["answer"] is not None:
            labelled[country] = (labelled_row["answer"], labelled_row["share_a"])
    return labelled


def labels(doc: Mapping[str, Any], collapse: str) -> dict[str, tuple[str, float]]:
    """{country: (its majority answer, its share_a)} for every country whose figures label the probe."""
    return dict(_labels(tuple(doc[name] for name in LABEL_FIELDS), collapse))


class Labels(Mapping[str, tuple[str, float]]):
    """{country: (majority answer, share_a)} of one probe and target: made once per probe, read-only, shared by the
    probe's records in every run a report reads, and pickled as the probe it labels (no copy between processes).
    """

    __slots__ = ("_by_country", "_probe")

    def __init__(self, probe: tuple, by_country: dict[str, tuple[str, float]]) -> None:
        self._probe, self._by_country = probe, by_country

    def __getitem__(self, country: str) -> tuple[str, float]:
        return self._by_country[country]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_country)

    def __len__(self) -> int:
        return len(self._by_country)

    def __contains__(self, country: object) -> bool:
        return country in self._by_country

    # The dict's own views: Mapping's would look every country up again, and a report iterates them per record.
    def keys(self) -> KeysView[str]:
        return self._by_country.keys()

    def values(self) -> ValuesView[tuple[str, float]]:
        return self._by_country.values()

    def items(self) -> ItemsView[str, tuple[str, float]]:
        return self._by_country.items()

    def __reduce__(self) -> tuple:
        return _labels_of, self._probe


@cache
def _labels_of(key: tuple, collapse: str, country: str, answer: str, share_a: float) -> Labels:
    by_country = {**_labels(key, collapse), country: (answer, share_a)}
    return Labels((key, collapse, country, answer, share_a), by_country)


def of_document(doc: Mapping[str, Any], collapse: str) -> dict[str, Any]:
    """What a record keeps for these figures: its target, option_a, and every country's labels.

    The target keeps the document's own label (a dataset built from the respondent-level WVS file may label it
    otherwise than the committed figures do).
    """
    key = tuple(doc[name] for name in LABEL_FIELDS)
    labels_of = _labels_of(key, collapse, doc["country"], doc["answer"], doc["share_a"])
    return {"country": doc["country"], "option_a": doc["option_a"], "countries": labels_of}


def without_labels(r: Record) -> Record:
    """The record as logged: without the countries' labels, which of_document derives again from the document."""
    return {key: value for key, value in r.items() if key != "countries"}


def _by_answer(r: Record, answer: str) -> dict[str, float | None]:
    """The figures of a country whose majority answer is `answer`, but the soft gap (which needs its share_a)."""
    figures: dict[str, float | None] = {}
    for draw, share in SHARES.items():
        q = r[share]
        valid = None if q is None else q if answer == r["option_a"] else 1 - q
        answers = r[draw]
        if answers:
            figures[draw] = answers.count(answer) / len(answers)
        else:  # a `_logprob` record: every "response" is valid
            figures[draw] = valid if valid is not None else 0.0
        figures[f"{draw}_valid"] = valid
    return figures


def alignments(r: Record) -> dict[str, dict[str, float | None]]:
    """Per labelling country, the probe's figures listed in the module docstring."""
    by_answer = {answer: _by_answer(r, answer) for answer in {answer for answer, _ in r["countries"].values()}}
    return {
        country: {**by_answer[answer], **{f"{draw}{SOFT_GAP}": None if r[share] is None else abs(r[share] - share_a)
                                          for draw, share in SHARES.items()}}
        for country, (answer, share_a) in r["countries"].items()
    }


def specificity(r: Record, valid: bool = False) -> float | None:
    """Gain toward the target minus the mean gain toward the other countries that label the probe.

    Gain: self-aligned minus zero-shot alignment with a country's majority (`valid`: among valid responses).
    None when no other country labels the probe, or (`valid`) when a draw had no valid response.
    """
    labelled = r["countries"]
    if r["country"] not in labelled or len(labelled) < 2:
        return None
    suffix = "_valid" if valid else ""
    gains = {}
    for answer in {answer for answer, _ in labelled.values()}:
        figures = _by_answer(r, answer)
        before, after = figures[f"zeroshot{suffix}"], figures[f"selfalign{suffix}"]
        if before is None or after is None:
            return None
        gains[answer] = after - before
    others = [gains[answer] for country, (answer, _) in labelled.items() if country != r["country"]]
    return gains[labelled[r["country"]][0]] - sum(others) / len(others)


@dataclass(frozen=True)
class Table:
    """The figures of a run's probes for every country at once: per figure, probes x countries, NaN where the
    country does not label the probe or the figure has no value (`alignments` None).
    """

    countries: tuple[str, ...]
    figures: dict[str, np.ndarray]


def table(records: Sequence[Record]) -> Table:
    """Every record's `alignments` as arrays (a report holds hundreds of runs of hundreds of probes): each figure
    per answer, then spread over the countries by the answer each holds.
    """
    names = tuple(sorted({country for r in records for country in r["countries"]}))
    column = {country: index for index, country in enumerate(names)}
    shape = (len(records), len(names))
    labelled, on_a, share_a = np.zeros(shape, bool), np.zeros(shape, bool), np.full(shape, np.nan)
    sides = {figure: np.full((len(records), 2), np.nan) for figure in FIGURES if not figure.endswith(SOFT_GAP)}
    for row, r in enumerate(records):
        held = r["countries"]
        columns = [column[country] for country in held]
        labelled[row, columns] = True
        on_a[row, columns] = [answer == r["option_a"] for answer, _ in held.values()]
        share_a[row, columns] = [share for _, share in held.values()]
        for answer in {answer for answer, _ in held.values()}:
            for figure, value in _by_answer(r, answer).items():
                if value is not None:
                    sides[figure][row, 0 if answer == r["option_a"] else 1] = value
    figures = {figure: np.where(on_a, side[:, :1], side[:, 1:]) for figure, side in sides.items()}
    for draw, share in SHARES.items():
        q = np.array([np.nan if r[share] is None else r[share] for r in records], dtype=float)
        figures[f"{draw}{SOFT_GAP}"] = np.abs(q[:, None] - share_a)
    return Table(names, {figure: np.where(labelled, figures[figure], np.nan) for figure in FIGURES})


def rank(table: Mapping[str, float], country: str) -> int | None:
    """1 + the number of countries with a strictly higher value: ties share the better rank."""
    if country not in table:
        return None
    return 1 + sum(value > table[country] for value in table.values())
