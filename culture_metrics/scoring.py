"""One document's record (culture_metrics.record) from its results, read by role (culture_metrics.plan)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from culture_metrics import countries, plan, record
from culture_metrics.answers import parse_answer


if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def sampled_record(
    doc: Mapping[str, Any],
    slots: Sequence[plan.Slot],
    results: Sequence[Sequence[str]],
    *,
    skipped: int,
    demonstrations: Sequence[str],
    distinct: Sequence[int],
    collapse: str,
) -> record.Record:
    """`distinct`: the number of distinct raw responses of each request sampled more than once (empty if greedy)."""
    named = {role: [parsed(doc, r) for r in responses] for role, responses in plan.responses(slots, results).items()}
    zeroshot, selfalign = named[plan.ZEROSHOT], named[plan.SELFALIGN]
    return record.record(
        p0=agreement(doc, zeroshot),
        p1=agreement(doc, selfalign),
        tolerance=record.SAMPLED_TOLERANCE,
        zeroshot=zeroshot,
        selfalign=selfalign,
        placebo=named[plan.PLACEBO],
        answer=doc["answer"],
        skipped=skipped,
        q0=option_a_share(doc, zeroshot),
        q1=option_a_share(doc, selfalign),
        share_a=doc["share_a"],
        demonstrations=demonstrations,
        distinct=distinct,
        **countries.of_document(doc, collapse),
    )


def logprob_record(
    doc: Mapping[str, Any],
    slots: Sequence[plan.Slot],
    results: Sequence[tuple[float, bool]],
    *,
    skipped: int,
    demonstrations: Sequence[str],
    collapse: str,
) -> record.Record:
    loglik = plan.loglikelihoods(slots, results)
    q0, q1 = (option_a_probability(loglik[role, "option_a"], loglik[role, "option_b"])
              for role in (plan.ZEROSHOT, plan.SELFALIGN))
    return record.record(
        p0=majority_share(doc, q0),
        p1=majority_share(doc, q1),
        tolerance=record.LOGPROB_TOLERANCE,
        responses=len(results),
        skipped=skipped,
        q0=q0,
        q1=q1,
        share_a=doc["share_a"],
        demonstrations=demonstrations,
        **countries.of_document(doc, collapse),
    )


def parsed(doc: Mapping[str, Any], response: str) -> str | None:
    """The option a response names, as its text; None when it names neither or both."""
    side = parse_answer(response, doc["option_a"], doc["option_b"], doc["template"])
    return None if side is None else doc[f"option_{side}"]


def agreement(doc: Mapping[str, Any], answers: Sequence[str | None]) -> float:
    """Share of the responses that give the country's majority answer (invalid ones count as not)."""
    return sum(answer == doc["answer"] for answer in answers) / len(answers)


def option_a_share(doc: Mapping[str, Any], answers: Sequence[str | None]) -> float | None:
    """The model's share on option_a's side among its valid responses; None when none was valid."""
    valid = [answer for answer in answers if answer is not None]
    return sum(answer == doc["option_a"] for answer in valid) / len(valid) if valid else None


def option_a_probability(loglik_a: float, loglik_b: float) -> float:
    """Probability of option_a, renormalised over the two options."""
    gap = loglik_b - loglik_a
    return 0.0 if gap > 700 else 1 / (1 + math.exp(gap))


def majority_share(doc: Mapping[str, Any], q: float) -> float:
    return q if doc["answer"] == doc["option_a"] else 1 - q
