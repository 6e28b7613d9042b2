"""Model backends that exist only in the tests, with a known answer to "do the demonstrations change anything?".

Registered in lm-eval's model registry on import; run as a script, this file is lm-eval's command line with them:
`python tests/scripted_models.py run --model wvs-test-context-blind --tasks wvs_selfalign_en ...`. All read the
probe from the prompt's last "Q: <sentence> A:" line (the `paper` format) and draw each response with its own
seeded generator, keyed by the probe, the request's idx and the sample's number, so every draw is independent.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import TYPE_CHECKING

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from culture_metrics import countries
from hf_dataset.probes import read_english


if TYPE_CHECKING:
    from lm_eval.api.instance import Instance


PROBES = {probe.template: probe for probe in read_english()[0]}
QUERY = re.compile(r"^Q: (.*) A:$", re.MULTILINE)


def demonstrations(context: str) -> list[str]:
    """The lines before the query: the demonstrations of a self-aligned prompt, none in a zero-shot one."""
    return context.split("\n\n")[-1].splitlines()[:-1]


class ScriptedLM(LM):
    def __init__(self, seed: int = 0, **_: object) -> None:
        super().__init__()
        self.seed = int(seed)

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        drawn: Counter = Counter()
        responses = []
        for request in requests:
            context = request.args[0]
            template = QUERY.findall(context)[-1]
            key = (request.doc_id, request.idx)
            rng = random.Random(f"{self.seed}|{template}|{request.idx}|{drawn[key]}")
            drawn[key] += 1
            responses.append(" " + self.answer(PROBES[template], context, request.doc, rng))
        return responses

    def answer(self, probe, context: str, doc: dict, rng: random.Random) -> str:
        raise NotImplementedError

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("sampled tasks only")

    loglikelihood_rolling = loglikelihood


@register_model("wvs-test-context-blind")
class ContextBlindLM(ScriptedLM):
    """Ignores everything before the probe: option_a with a fixed probability per probe (uniform over probes)."""

    def answer(self, probe, context: str, doc: dict, rng: random.Random) -> str:
        p_a = random.Random(f"{self.seed}|{probe.template}").random()
        return probe.option_a if rng.random() < p_a else probe.option_b


@register_model("wvs-test-copier")
class CopierLM(ScriptedLM):
    """Wrong zero-shot (the country's answer 1 time in 10: it reads the label to miss it); with demonstrations, the
    option the most demonstrations completed their sentence with, of the probe's two option words.
    """

    def answer(self, probe, context: str, doc: dict, rng: random.Random) -> str:
        suggested = self.suggested(probe, context)
        if suggested:
            return suggested
        other = probe.option_b if doc["answer"] == probe.option_a else probe.option_a
        return doc["answer"] if rng.random() < 0.1 else other

    @staticmethod
    def suggested(probe, context: str) -> str | None:
        """The option most demonstrations contain; the longer one wins an overlap."""
        lines = demonstrations(context)
        longer, shorter = sorted((probe.option_a, probe.option_b), key=len, reverse=True)
        votes = Counter()
        for line in lines:
            for option in (longer, shorter):
                if re.search(rf"\b{re.escape(option)}\b", line):
                    votes[option] += 1
                    break
        (best, count), *rest = votes.most_common() or [(None, 0)]
        return best if count and (not rest or rest[0][1] < count) else None


@register_model("wvs-test-country")
class CountryLM(ScriptedLM):
    """Answers like country `like` (ISO3), with or without demonstrations: each response its majority answer under
    the `paper` rule, or with `mix` (0 to 1) that share of responses country `mixed_with`'s instead; a probe the
    country cannot label gets a fair coin. (Not `country`: lm-eval hands model arguments to the tasks' metadata.)
    """

    def __init__(self, like: str, mixed_with: str | None = None, mix: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.countries, self.mix = (like, mixed_with), float(mix)

    def answer(self, probe, context: str, doc: dict, rng: random.Random) -> str:
        country = self.countries[rng.random() < self.mix]
        label = countries.labels(doc, "paper").get(country)
        return label[0] if label else rng.choice([probe.option_a, probe.option_b])


@register_model("wvs-test-format-learner")
class FormatLearnerLM(ContextBlindLM):
    """The context-blind model's preferences, but demonstrations only teach it to name an option: it answers
    outside the options ("maybe") 60% of the time zero-shot and 10% of the time after demonstrations.
    """

    def answer(self, probe, context: str, doc: dict, rng: random.Random) -> str:
        option = super().answer(probe, context, doc, rng)
        return "maybe" if rng.random() < (0.1 if demonstrations(context) else 0.6) else option


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()
