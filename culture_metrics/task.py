"""The lm-eval Task that asks every probe twice in one run: zero-shot, and after self-alignment demonstrations.

Each document yields two prompts built by the harness's own few-shot machinery (so system prompts, descriptions
and chat templates behave as for any task): `[zero-shot, self-aligned]`. Sampled tasks send each prompt as a
generate_until request repeated `repeats` times; with metadata `reshuffle: true` the self-aligned prompt is built
once per sample instead, each with its own seeded order of the same demonstrations (the paper's robustness check).
With metadata `placebo: true` a last request draws the zero-shot prompt's `repeats` samples again: the second,
independent zero-shot draw the placebo metrics compare with (culture_metrics.metrics).
fewshot_context returns the self-aligned prompt, the one string lm-eval expects; construct_requests, where
requests are built, adds the zero-shot prompt.
`_logprob` tasks send the two options of each prompt as loglikelihood requests. The prompt formats are defined in
`culture_metrics.prompt`, the metrics in `culture_metrics.metrics`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from copy import deepcopy
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask

from culture_metrics import metrics
from culture_metrics.answers import parse_answer
from culture_metrics.prompt import (
    DEFAULT_FORMAT,
    DEFAULT_SEED,
    EXPLAIN,
    check_format,
    completed,
    demonstration,
    instruction,
    persona_line,
    probe_text,
)
from culture_metrics.temperature import samples
from hf_dataset.errors import DataError


log = logging.getLogger(__name__)

# fewshot_config.doc_to_text / doc_to_target in the YAML: lm-eval passes them when it renders a demonstration.
DEMONSTRATION = "demonstration"


class SelfAlignTask(ConfigurableTask):
    def __init__(self, data_dir=None, cache_dir=None, download_mode=None, config: dict | None = None) -> None:
        config = dict(config or {})
        config.pop("class", None)
        self._seed = DEFAULT_SEED
        self._system_instruction: str | None = None
        self._labelled = None
        self._distinct: dict[tuple[str, int], int] = {}
        self.skipped = 0
        try:
            self.prompt_format = check_format((config.get("metadata") or {}).get("format", DEFAULT_FORMAT))
            super().__init__(data_dir=data_dir, cache_dir=cache_dir, download_mode=download_mode, config=config)
            docs = self.test_docs()
        except DataError as error:
            # lm-eval shows a failed task as a long traceback; the one line that says what to do comes first.
            log.error("%s cannot be built: %s", config.get("task"), error)
            raise
        fingerprint = hashlib.sha256(json.dumps(docs.to_list(), sort_keys=True).encode()).hexdigest()[:16]
        self.config.metadata = {
            **(self.config.metadata or {}),
            "country": docs[0]["country"],
            "format": self.prompt_format,
            "dataset_fingerprint": fingerprint,
            "documents_available": len(docs),
            "skipped_unlabelled": self.skipped,
        }

    @property
    def logprob(self) -> bool:
        return self.OUTPUT_TYPE == "loglikelihood"

    def test_docs(self):
        """The labelled probes; probes the country's figures cannot label are skipped and counted."""
        if self._labelled is None:
            full = self.dataset[self.config.test_split]
            keep = [i for i, answer in enumerate(full["answer"]) if answer is not None]
            language = self.config.metadata.get("language")
            if not keep:
                raise DataError(
                    f"{self.config.task}: no probe of language {language!r} has a label for country "
                    f"{full[0]['country'] if len(full) else '?'} (no WVS figures for it)"
                )
            self.skipped = len(full) - len(keep)
            if self.skipped:
                log.warning(
                    "%s: skipped %d of %d probes that have no label (no WVS figures for the question, or a tie)",
                    self.config.task, self.skipped, len(full),
                )
            self._labelled = full.select(keep)
        return self._labelled

    fewshot_docs = test_docs

    def set_fewshot_seed(self, seed: int | None = None) -> None:
        self._seed = DEFAULT_SEED if seed is None else seed
        super().set_fewshot_seed(seed)

    @property
    def reshuffle(self) -> bool:
        return bool((self.config.metadata or {}).get("reshuffle")) and not self.logprob

    @property
    def placebo(self) -> bool:
        """A second zero-shot draw; `_logprob` tasks sample nothing, so theirs would repeat the first."""
        return bool((self.config.metadata or {}).get("placebo")) and not self.logprob

    def doc_to_text(self, doc: dict, doc_to_text=None) -> str:
        if doc_to_text == DEMONSTRATION:
            return demonstration(doc, self._seed, self.prompt_format)[0]
        return probe_text(doc, self._seed, self.prompt_format)

    def doc_to_target(self, doc: dict, doc_to_target=None) -> str:
        if doc_to_target == DEMONSTRATION:
            return demonstration(doc, self._seed, self.prompt_format)[1]
        return doc["answer"]

    def fewshot_context(self, doc: dict, num_fewshot: int, **kwargs: Any) -> str:
        """The self-aligned prompt, as lm-eval expects one string; construct_requests adds the zero-shot one.

        The run's system instruction is kept for the prompts construct_requests builds.
        """
        self._system_instruction = kwargs.pop("system_instruction", None)
        return self.build_prompt(doc, num_fewshot, aligned=True, **kwargs)

    def build_prompt(self, doc: dict, shots: int, *, aligned: bool, draw: int = 0, **kwargs: Any) -> str:
        """One prompt through the harness's own few-shot machinery; demonstrations stay in the one user turn.

        The `paper` format opens it with its instruction. Metadata `persona: true` names the country before the
        self-aligned prompt (with `num_fewshot: 0`, instead of demonstrations); `explain: true` asks for an
        explanation after the answer. `draw` picks one of a reshuffled task's demonstration orders.
        """
        metadata = self.config.metadata or {}
        parts = [
            persona_line(doc["language"], doc["country"]) if aligned and metadata.get("persona") else None,
            self._system_instruction,
            instruction(doc, self._seed, self.prompt_format),
            EXPLAIN if metadata.get("explain") else None,
        ]
        text = "\n\n".join(filter(None, parts))
        # In plain text the harness glues the system text to the prompt; chat templates give it its own turn.
        end = "" if kwargs.get("apply_chat_template") else "\n\n"
        kwargs.update(fewshot_as_multiturn=False, system_instruction=text + end if text else None)
        self.sampler.draw = draw
        try:
            return super().fewshot_context(doc, shots, **kwargs)
        finally:
            self.sampler.draw = 0

    def demonstrations(self, doc: dict) -> list[str]:
        """The self-aligned prompt's demonstrations (its first draw) as completed sentences, in prompt order."""
        if not self.config.num_fewshot:
            return []
        return [completed(d, d["answer"]) for d in self.sampler.sample(self.config.num_fewshot, eval_doc=doc)]

    def construct_requests(self, doc: dict, ctx: str, **kwargs: Any) -> list[Instance]:
        """Requests for the zero-shot prompt, built here, and the self-aligned prompt `ctx` (or its draws)."""
        apply_chat_template = kwargs.pop("apply_chat_template", False)
        chat_template = kwargs.pop("chat_template", None)
        context = {"apply_chat_template": apply_chat_template, "chat_template": chat_template,
                   "gen_prefix": self.doc_to_prefix(doc)}
        zero = self.build_prompt(doc, 0, aligned=False, **context)
        shots = self.config.num_fewshot or 0
        # The placebo draw is its own request (own idx, so seeded backends give it its own samples), sent last.
        second = [zero] if self.placebo else []
        if self.reshuffle:
            draws = [ctx] + [self.build_prompt(doc, shots, aligned=True, draw=d, **context)
                             for d in range(1, self.config.repeats)]
            task, doc_id, repeats = kwargs.pop("metadata", (self.config.task, None, self.config.repeats))
            return [
                Instance("generate_until", doc, (prompt, deepcopy(self.config.generation_kwargs)), idx=i,
                         metadata=(task, doc_id, 1 if 0 < i <= len(draws) else repeats), **kwargs)
                for i, prompt in enumerate([zero, *draws, *second])
            ]
        if self.logprob:
            delimiter = "" if apply_chat_template else self.config.target_delimiter
            return [
                Instance("loglikelihood", doc, (prompt, f"{delimiter}{doc[option]}"), idx=2 * i + j, **kwargs)
                for i, prompt in enumerate((zero, ctx))
                for j, option in enumerate(("option_a", "option_b"))
            ]
        return [
            Instance("generate_until", doc, (prompt, deepcopy(self.config.generation_kwargs)), idx=i, **kwargs)
            for i, prompt in enumerate((zero, ctx, *second))
        ]

    def request_prompts(self, doc: dict) -> list[str]:
        """The prompts lm-eval sends for `doc`, in request order: for loops that run the model without it."""
        context = self.fewshot_context(doc, self.config.num_fewshot or 0)
        requests = self.construct_requests(doc, context, metadata=(self.config.task, 0, self.config.repeats))
        return list(dict.fromkeys(request.args[0] for request in requests))

    def apply_filters(self) -> None:
        """Count the distinct raw responses of each request first: the filters keep only their first lines."""
        self._distinct = {(instance.doc["id"], instance.idx): len(set(instance.resps)) for instance in self.instances
                          if instance.request_type == "generate_until" and len(instance.resps) > 1}
        super().apply_filters()

    @property
    def sampling(self) -> bool:
        """Whether the run samples at all: greedy requests are meant to repeat one response."""
        return not self.logprob and samples(self.config.generation_kwargs or {})

    def process_results(self, doc: dict, results: list) -> dict[str, metrics.Record]:
        if self.logprob:
            (zero_a, _), (zero_b, _), (aligned_a, _), (aligned_b, _) = results
            q0, q1 = option_a_probability(zero_a, zero_b), option_a_probability(aligned_a, aligned_b)
            record = metrics.record(
                p0=majority_share(doc, q0),
                p1=majority_share(doc, q1),
                tolerance=metrics.LOGPROB_TOLERANCE,
                responses=len(results),
                skipped=self.skipped,
                q0=q0,
                q1=q1,
                share_a=doc["share_a"],
                demonstrations=self.demonstrations(doc),
            )
        else:
            zeroshot = [parsed(doc, r) for r in results[0]]
            aligned = results[1:-1] if self.placebo else results[1:]
            selfalign = [parsed(doc, r) for responses in aligned for r in responses]
            record = metrics.record(
                p0=agreement(doc, zeroshot),
                p1=agreement(doc, selfalign),
                tolerance=metrics.SAMPLED_TOLERANCE,
                zeroshot=zeroshot,
                selfalign=selfalign,
                placebo=[parsed(doc, r) for r in results[-1]] if self.placebo else [],
                answer=doc["answer"],
                skipped=self.skipped,
                q0=option_a_share(doc, zeroshot),
                q1=option_a_share(doc, selfalign),
                share_a=doc["share_a"],
                demonstrations=self.demonstrations(doc),
                distinct=[self._distinct[doc["id"], idx] for idx in range(len(results))
                          if (doc["id"], idx) in self._distinct] if self.sampling else [],
            )
        return metrics.items(record)

    def aggregation(self) -> dict:
        return {**{name: metric.aggregate for name, metric in metrics.METRICS.items()},
                metrics.RECORD: self._count_and_check}

    def _count_and_check(self, records: list[metrics.Record]) -> int:
        """The documents count, and the one place that sees every record of the run at once (on rank 0): where
        the samples look collapsed, the warning goes into the task's metadata, which the results carry.
        """
        warning = metrics.collapse_warning(metrics.METRICS["collapsed"].of(records))
        if warning:
            log.warning("%s: %s", self.config.task, warning)
            self.config.metadata = {**(self.config.metadata or {}), "sampling_warning": warning}
        return metrics.METRICS[metrics.RECORD].aggregate(records)

    def higher_is_better(self) -> dict:
        return {name: metric.higher_is_better for name, metric in metrics.METRICS.items()}


def parsed(doc: dict, response: str) -> str | None:
    """The option a response names, as its text; None when it names neither or both."""
    side = parse_answer(response, doc["option_a"], doc["option_b"], doc["template"])
    return None if side is None else doc[f"option_{side}"]


def agreement(doc: dict, answers: list[str | None]) -> float:
    """Share of the responses that give the country's majority answer (invalid ones count as not)."""
    return sum(answer == doc["answer"] for answer in answers) / len(answers)


def option_a_share(doc: dict, answers: list[str | None]) -> float | None:
    """The model's share on option_a's side among its valid responses; None when none was valid."""
    valid = [answer for answer in answers if answer is not None]
    return sum(answer == doc["option_a"] for answer in valid) / len(valid) if valid else None


def option_a_probability(loglik_a: float, loglik_b: float) -> float:
    """Probability of option_a, renormalised over the two options."""
    gap = loglik_b - loglik_a
    return 0.0 if gap > 700 else 1 / (1 + math.exp(gap))


def majority_share(doc: dict, q: float) -> float:
    return q if doc["answer"] == doc["option_a"] else 1 - q
