"""One run's responses scored against every WVS-7 country, not only its target (issue: "which countries?").

The zero-shot prompt does not depend on the country and the self-aligned one only through its demonstrations, so
the responses a run already logged can be held against each country's majority answer. A probe's labels per
country come from the labelling code the tasks use (`hf_dataset.build.label_row` with the committed figures and the
run's collapse rule); a country with no figures for the probe's question, or a tie, gives no label and the probe is
left out of that country's figures. Labels do not depend on the model: they are computed once per probe and rule.

Per probe and labelling country c (the definitions the metrics module aggregates):
- `zeroshot` / `selfalign`: share of the responses that give c's majority answer (invalid ones count as not;
  in `_logprob` tasks the probability on its side), as p0 and p1 are for the target;
- `zeroshot_valid` / `selfalign_valid`: the same among valid responses only (None when none was valid);
- `zeroshot_soft_gap` / `selfalign_soft_gap`: |model share on option_a - c's share_a|.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from hf_dataset.build import label_row
from hf_dataset.collapse import load_collapse
from hf_dataset.wvs import load_counts


if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from culture_metrics.record import Record


# The fields of the probe its labels depend on.
LABEL_FIELDS = ("id", "question", "option_a", "option_b")
DRAWS = ("zeroshot", "selfalign")


@cache
def _tables() -> tuple[dict, dict]:
    return load_collapse(), load_counts()


@cache
def _labels(key: tuple, collapse: str) -> dict[str, list]:
    rules, counts = _tables()
    row = dict(zip(LABEL_FIELDS, key, strict=True))
    labelled = {}
    for country in sorted(counts):
        answers = counts[country].get(f"Q{row['question']}")
        labelled_row = label_row(row, rules[row["id"]], answers, country=country, collapse=collapse)
        if labelled_row["answer"] is not None:
            labelled[country] = [labelled_row["answer"], labelled_row["share_a"]]
    return labelled


def labels(doc: Mapping[str, Any], collapse: str) -> dict[str, list]:
    """{country: [its majority answer, its share_a]} for every country whose figures label the probe."""
    return dict(_labels(tuple(doc[name] for name in LABEL_FIELDS), collapse))


def of_document(doc: Mapping[str, Any], collapse: str) -> dict[str, Any]:
    """What a record keeps for these figures: its target, option_a, and every country's labels.

    The target keeps the document's own label (a dataset built from the respondent-level WVS file may label it
    otherwise than the committed figures do).
    """
    every = {**labels(doc, collapse), doc["country"]: [doc["answer"], doc["share_a"]]}
    return {"country": doc["country"], "option_a": doc["option_a"], "countries": every}


def without_labels(r: Record) -> Record:
    """The record as logged: without the countries' labels, which of_document derives again from the document."""
    return {key: value for key, value in r.items() if key != "countries"}


def _side(q: float | None, answer: str, option_a: str) -> float | None:
    """The model's share (or probability) on `answer`'s side, from its share q on option_a's."""
    return None if q is None else q if answer == option_a else 1 - q


def alignments(r: Record) -> dict[str, dict[str, float | None]]:
    """Per labelling country, the probe's figures listed in the module docstring."""
    shares = {}  # a probe has two options: each draw's figures per answer, computed once for all countries
    for draw, q in zip(DRAWS, ("q0", "q1"), strict=True):
        for answer in {answer for answer, _ in r["countries"].values()}:
            answers, valid = r[draw], _side(r[q], answer, r["option_a"])
            if answers:
                share = sum(a == answer for a in answers) / len(answers)
            else:  # a `_logprob` record: every "response" is valid
                share = valid if valid is not None else 0.0
            shares[draw, answer] = (share, valid)
    figures = {}
    for country, (answer, share_a) in r["countries"].items():
        per_country: dict[str, float | None] = {}
        for draw, q in zip(DRAWS, ("q0", "q1"), strict=True):
            per_country[draw], per_country[f"{draw}_valid"] = shares[draw, answer]
            per_country[f"{draw}_soft_gap"] = None if r[q] is None else abs(r[q] - share_a)
        figures[country] = per_country
    return figures


def specificity(r: Record, valid: bool = False) -> float | None:
    """Gain toward the target minus the mean gain toward the other countries that label the probe.

    Gain: self-aligned minus zero-shot alignment with a country's majority (`valid`: among valid responses).
    None when no other country labels the probe, or (`valid`) when a draw had no valid response.
    """
    suffix = "_valid" if valid else ""
    gains = {}
    for country, figures in alignments(r).items():
        before, after = figures[f"zeroshot{suffix}"], figures[f"selfalign{suffix}"]
        if before is None or after is None:
            return None
        gains[country] = after - before
    target = gains.pop(r["country"], None)
    if target is None or not gains:
        return None
    return target - sum(gains.values()) / len(gains)


def rank(table: Mapping[str, float], country: str) -> int | None:
    """1 + the number of countries with a strictly higher value: ties share the better rank."""
    if country not in table:
        return None
    return 1 + sum(value > table[country] for value in table.values())


def means(tables: Iterable[Mapping[str, float | None]]) -> dict[str, tuple[float, int]]:
    """{country: (mean of its per-probe values, how many)} over the probes with a value for it."""
    sums: dict[str, list] = {}
    for table in tables:
        for country, value in table.items():
            if value is not None:
                entry = sums.setdefault(country, [0.0, 0])
                entry[0] += value
                entry[1] += 1
    return {country: (total / n, n) for country, (total, n) in sums.items()}
