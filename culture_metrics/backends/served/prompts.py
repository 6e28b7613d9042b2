"""The distinct prompts among lm-eval's repeated requests, and each sample's seed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from culture_metrics.generation import samples


if TYPE_CHECKING:
    from lm_eval.models.api_models import JsonChatStr

    from culture_metrics.backends.served.answers import Answer


SEED_RANGE = 2**31 - 1  # seeds every server accepts (vLLM, OpenAI and transformers take any int below it)


def sample_seed(run_seed: int, task: str | None, doc_id: int | None, request: int, sample: int) -> int:
    """One sample's seed: a hash of the run's seed and the sample's identity, the same in every process."""
    identity = json.dumps([run_seed, task, doc_id, request, sample])
    return int(hashlib.sha256(identity.encode()).hexdigest()[:16], 16) % SEED_RANGE


@dataclass
class Prompt:
    """One request lm-eval repeats: its prompt, settings, and where each of its samples goes in the results."""

    message: str | JsonChatStr | list[int]
    gen_kwargs: dict
    positions: list[int] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return samples(self.gen_kwargs)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(len(self.positions)) if i not in self.answers]

    @property
    def answered(self) -> int:
        """Samples answered: a greedy prompt's one answer stands for all of its repeats."""
        return len(self.positions) if self.answers and not self.sampled else len(self.answers)

    def jobs(self, with_n: bool) -> list[list[int]]:
        """The samples to ask for, one list a request: all missing ones at once with `n`, else one each.

        A greedy prompt is asked once; its one answer stands for every repeat.
        """
        if not self.sampled:
            return [] if self.answers else [[0]]
        missing = self.missing
        if not missing:
            return []
        return [missing] if with_n else [[sample] for sample in missing]

    def collapsed(self) -> bool:
        """Every sample of a sampled prompt is one answer repeated."""
        return (self.sampled and len(self.positions) > 1 == len({a.text for a in self.answers.values()})
                and not self.missing)
