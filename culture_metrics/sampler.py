"""Few-shot samplers that pick the self-alignment demonstrations for one probe (lm-eval's ContextSampler API).

Every strategy draws from the labelled probes of the same language and never from the probe's own WVS question
(split probes such as Q130a-d share one), so no demonstration can leak the answer. Choices depend only on the seed
and the probe, never on which documents came before, so a probe gets the same demonstrations with any --limit,
batch order or number of processes.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from lm_eval.api.samplers import ContextSampler

from culture_metrics.prompt import DEFAULT_SEED
from culture_metrics.selection import ChrfIndex


if TYPE_CHECKING:
    from collections.abc import Sequence

# The document key naming which of a probe's self-aligned prompts is built (reshuffled tasks build one per sample):
# the choice travels with the document lm-eval hands the sampler, so building a prompt changes no state.
DRAW = "selfalign_draw"


def with_draw(doc: dict[str, Any], draw: int) -> dict[str, Any]:
    return {**doc, DRAW: draw} if draw else doc


class SelfAlignSampler(ContextSampler):
    """Base: the candidate pool and a per-probe random generator; subclasses rank or draw candidates."""

    within_category: ClassVar[bool] = False

    def __init__(self, df: Sequence[dict[str, Any]] | None = None, *, rnd: int | None = None, **kwargs) -> None:
        super().__init__(df, rnd=rnd, **kwargs)
        self.seed = DEFAULT_SEED if rnd is None else rnd
        self._index: ChrfIndex | None = None

    def set_rnd(self, rnd: int | None) -> SelfAlignSampler:
        self.seed = DEFAULT_SEED if rnd is None else rnd
        return super().set_rnd(rnd)

    def replace_df(self, df: Sequence[dict[str, Any]]) -> SelfAlignSampler:
        self._index = None
        return super().replace_df(df)

    def sample(self, n: int, eval_doc: dict[str, Any] | None = None, df=None, **kwargs) -> list[dict[str, Any]]:
        if eval_doc is None:
            raise ValueError(
                "self-alignment samplers need the probe itself: set fewshot_config.split equal to test_split"
            )
        if df:
            self.replace_df(df)
        docs = self.fewshot_docs()
        allowed = np.array([d["question"] != eval_doc["question"] and d["answer"] is not None for d in docs])
        if allowed.sum() < n:
            raise ValueError(
                f"{eval_doc['language']} {eval_doc['id']}: only {int(allowed.sum())} labelled probes of other "
                f"questions to draw {n} demonstrations from"
            )
        rng = random.Random(f"{self.seed}:{eval_doc['language']}:{eval_doc['id']}")
        ranking = self.rank(eval_doc, docs, rng)
        same = np.array([d["category"] == eval_doc["category"] for d in docs])
        ordered = [int(i) for i in ranking if allowed[i]]
        if self.within_category:
            # Categories too small for n demonstrations are topped up from the others, in the same ranking.
            ordered = [i for i in ordered if same[i]] + [i for i in ordered if not same[i]]
        chosen = [docs[i] for i in ordered[:n]]
        draw = eval_doc.get(DRAW, 0)
        return self.arrange(chosen, random.Random(f"{self.seed}:{eval_doc['language']}:{eval_doc['id']}:{draw}"))

    def rank(self, eval_doc: dict[str, Any], docs: Sequence[dict[str, Any]], rng: random.Random) -> Sequence[int]:
        """Indices of all candidates, best first."""
        raise NotImplementedError

    def arrange(self, chosen: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
        """The order the demonstrations appear in: the ranking's, unless a strategy says otherwise.

        `rng` is seeded by the probe and the draw, so each self-aligned prompt of a probe can get its own order.
        """
        return chosen

    def chrf_ranking(self, eval_doc: dict[str, Any], docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """Candidates by chrF++ (probe = hypothesis, candidate = reference), highest first; ties keep dataset order."""
        if self._index is None:
            self._index = ChrfIndex([d["template"] for d in docs])
        scores = self._index.scores(eval_doc["template"])
        return np.argsort(-scores, kind="stable")


class RandomSampler(SelfAlignSampler):
    def rank(self, eval_doc, docs, rng):
        order = list(range(len(docs)))
        rng.shuffle(order)
        return order


class RandomCategorySampler(RandomSampler):
    within_category = True


class ChrfSampler(SelfAlignSampler):
    """The paper's best: the most chrF++-similar probes of any category, most similar first."""

    def rank(self, eval_doc, docs, rng):
        return self.chrf_ranking(eval_doc, docs)


class ChrfCategorySampler(ChrfSampler):
    within_category = True


class ShuffledChrfSampler(ChrfSampler):
    """Robustness check: the same demonstrations as ChrfSampler, in a seeded random order for each draw."""

    def arrange(self, chosen, rng):
        chosen = list(chosen)
        rng.shuffle(chosen)
        return chosen
