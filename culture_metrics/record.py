"""One document's record: what process_results keeps of a probe, and its outcome, from which every metric is taken.

A record holds p0 and p1, the share of the zero-shot and of the self-aligned responses that give the country's
majority answer (or, in the `_logprob` tasks, the probability mass on it), plus the parsed answers so that anyone
can recompute every figure from `--log_samples`.

`tolerance` is 0 for sampled responses and 0.01 for probabilities: a document is misaligned when p0 < 1 - tolerance,
improved when p1 - p0 > tolerance, decreased when p0 - p1 > tolerance, unchanged otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


Record = dict[str, Any]

SAMPLED_TOLERANCE = 0.0
LOGPROB_TOLERANCE = 0.01


def record(
    *,
    p0: float,
    p1: float,
    tolerance: float,
    zeroshot: Sequence[str | None] = (),
    selfalign: Sequence[str | None] = (),
    placebo: Sequence[str | None] = (),
    answer: str | None = None,
    responses: int | None = None,
    skipped: int = 0,
    q0: float | None = None,
    q1: float | None = None,
    share_a: float | None = None,
    demonstrations: Sequence[str] = (),
    distinct: Sequence[int] = (),
    country: str | None = None,
    option_a: str | None = None,
    countries: Mapping[str, Sequence] | None = None,
) -> Record:
    """One document's outcome.

    `zeroshot`/`selfalign` hold each parsed response (None for an invalid one), `placebo` those of the second
    zero-shot draw (empty unless metadata `placebo`), `answer` the country's majority answer they are counted
    against; `responses` counts the model outputs the figures rest on (generations, or scored options in
    `_logprob` tasks). `q0`/`q1` are the model's
    share on option_a's side (None when no response was valid) and `share_a` the country's; `demonstrations` are
    the self-aligned prompt's demonstrations as completed sentences, for readers of the samples; `distinct` the
    number of distinct raw responses of each prompt sampled more than once (empty when nothing is sampled).
    `country` is the target country, `option_a` the probe's first option and `countries` {country: [majority answer,
    share_a]} for every country whose figures label the probe (culture_metrics.countries), the target included;
    the labels are not logged (metrics.RECORD), whoever reads the samples derives them again.
    """
    return {
        "p0": p0,
        "p1": p1,
        "tolerance": tolerance,
        "zeroshot": list(zeroshot),
        "selfalign": list(selfalign),
        "placebo": list(placebo),
        "answer": answer,
        "responses": len(zeroshot) + len(selfalign) + len(placebo) if responses is None else responses,
        "skipped": skipped,
        "q0": q0,
        "q1": q1,
        "share_a": share_a,
        "demonstrations": list(demonstrations),
        "distinct": list(distinct),
        "country": country,
        "option_a": option_a,
        "countries": dict(countries or {}),
    }


def is_misaligned(r: Record) -> bool:
    return r["p0"] < 1 - r["tolerance"]


def change(r: Record) -> str:
    """'improved', 'decreased' or 'unchanged' for one document."""
    if r["p1"] - r["p0"] > r["tolerance"]:
        return "improved"
    if r["p0"] - r["p1"] > r["tolerance"]:
        return "decreased"
    return "unchanged"


def error_reduction_of(r: Record) -> float:
    """((1-p0) - (1-p1)) / (1-p0): the share of the zero-shot error that self-alignment removed."""
    return ((1 - r["p0"]) - (1 - r["p1"])) / (1 - r["p0"])


def correct(r: Record, draw: str) -> int:
    """How many responses of a draw ('zeroshot', 'selfalign', 'placebo') give the majority answer."""
    return r[draw].count(r["answer"])


def shift(r: Record, before: str, after: str) -> str:
    """'improved', 'decreased' or 'unchanged' from draw `before` to draw `after`, by their shares correct."""
    gain = correct(r, after) * len(r[before]) - correct(r, before) * len(r[after])
    return "improved" if gain > 0 else "decreased" if gain < 0 else "unchanged"
