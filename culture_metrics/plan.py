"""The requests a document makes, by role, and the results read back by role: the task's protocol in one place.

Sampled tasks ask the zero-shot prompt (`zeroshot`) and the self-aligned prompt (`selfalign`) for `repeats`
responses each. With metadata `reshuffle: true` the self-aligned prompt is built once per sample instead, each draw
with its own seeded order of the same demonstrations (the paper's robustness check). With `placebo: true` the
zero-shot prompt is asked again as its own request (`placebo`), the second, independent zero-shot draw the placebo
metrics compare with. `_logprob` tasks ask for the log-likelihood of each option after each prompt and sample
nothing, so they have neither draws nor a placebo.
lm-eval hands each document's results back in request order; `responses` and `loglikelihoods` name them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from culture_metrics.variant import Variant


ZEROSHOT, SELFALIGN, PLACEBO = "zeroshot", "selfalign", "placebo"
OPTIONS = ("option_a", "option_b")


@dataclass(frozen=True)
class Slot:
    """One request of a document: its role, which self-aligned prompt it asks (`draw`), how many responses it
    draws (`samples`), and for log-likelihoods the option whose text it scores.
    """

    role: str
    samples: int = 1
    draw: int = 0
    option: str | None = None


@dataclass(frozen=True)
class Request:
    slot: Slot
    prompt: str
    continuation: str | None = None


def layout(variant: Variant, *, logprob: bool, repeats: int) -> tuple[Slot, ...]:
    """The requests of every document of a task, in the order lm-eval returns their results."""
    if logprob:
        return tuple(Slot(role, option=option) for role in (ZEROSHOT, SELFALIGN) for option in OPTIONS)
    aligned = ([Slot(SELFALIGN, 1, draw) for draw in range(repeats)] if variant.reshuffle
               else [Slot(SELFALIGN, repeats)])
    placebo = [Slot(PLACEBO, repeats)] if variant.placebo else []
    return (Slot(ZEROSHOT, repeats), *aligned, *placebo)


def draws(slots: Sequence[Slot]) -> int:
    """How many self-aligned prompts the layout asks: one, or one per sample when reshuffled."""
    return 1 + max(slot.draw for slot in slots)


def requests(
    doc: Mapping[str, Any], slots: Sequence[Slot], zeroshot: str, selfaligned: Sequence[str], delimiter: str = " "
) -> list[Request]:
    """The document's requests: `selfaligned` holds one prompt per draw; `delimiter` precedes a scored option."""
    return [
        Request(slot, zeroshot if slot.role in (ZEROSHOT, PLACEBO) else selfaligned[slot.draw],
                None if slot.option is None else f"{delimiter}{doc[slot.option]}")
        for slot in slots
    ]


def responses(slots: Sequence[Slot], results: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """Each role's responses, a reshuffled task's draws joined in draw order; an absent role has none."""
    named: dict[str, list[str]] = {ZEROSHOT: [], SELFALIGN: [], PLACEBO: []}
    for slot, result in zip(slots, results, strict=True):
        named[slot.role] += result
    return named


def loglikelihoods(slots: Sequence[Slot], results: Sequence[tuple[float, bool]]) -> dict[tuple[str, str], float]:
    """(role, option) -> the log-likelihood of the option after the role's prompt."""
    return {(slot.role, slot.option): loglik for slot, (loglik, _) in zip(slots, results, strict=True)}
