"""The lm-eval Task that asks every probe twice in one run: zero-shot, and after self-alignment demonstrations.

A thin adapter: what a task asks is its `Variant` (culture_metrics.variant), the requests a document makes and how
their results are read are the plan (culture_metrics.plan) and scoring (culture_metrics.scoring). Here the prompts
are built by the harness's own few-shot machinery, so system prompts, descriptions and chat templates behave as for
any task. lm-eval passes the run's system instruction to fewshot_context only, so that builds every prompt of the
document and returns them in the one string lm-eval hands on to construct_requests (`Prompts`).
What the task derives (the country its probes are labelled with, the dataset's fingerprint, its Hub id and the commit
read, document counts, a warning when the samples look collapsed) goes beside lm-eval's config in the results, under
`provenance`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from copy import deepcopy
from typing import TYPE_CHECKING, Any

from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask

from culture_metrics import metrics, plan, scoring
from culture_metrics.generation import samples
from culture_metrics.prompt import (
    DEFAULT_SEED,
    EXPLAIN,
    completed,
    demonstration,
    instruction,
    persona_line,
    probe_text,
)
from culture_metrics.sampler import with_draw
from culture_metrics.variant import Variant, VariantError
from hf_dataset.errors import DataError


if TYPE_CHECKING:
    from typing_extensions import Self


log = logging.getLogger(__name__)
# lm-eval warns, for every task whose metrics rest on different numbers of documents, that a size-weighted group
# over-weights them. Ours do by design (a share of the misaligned documents says nothing of the aligned ones), and
# our groups are macro averages (weight_by_size: false), so for our tasks the warning says nothing true.
UNEQUAL_COUNTS = "Metrics were not scored on the same number of documents"


def _not_our_unequal_counts(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not (message.startswith("[wvs_selfalign") and UNEQUAL_COUNTS in message)


logging.getLogger("lm_eval.evaluator_utils").addFilter(_not_our_unequal_counts)

# fewshot_config.doc_to_text / doc_to_target in the YAML: lm-eval passes them when it renders a demonstration.
DEMONSTRATION = "demonstration"
# The key of results["configs"][task] that holds what the task derived, beside lm-eval's own config.
PROVENANCE = "provenance"


class Prompts(str):
    """A document's prompts: as a string, the (first) self-aligned prompt, the one lm-eval expects."""

    zeroshot: str
    selfaligned: tuple[str, ...]

    def __new__(cls, zeroshot: str, selfaligned: tuple[str, ...]) -> Self:
        prompts = super().__new__(cls, selfaligned[0])
        prompts.zeroshot, prompts.selfaligned = zeroshot, selfaligned
        return prompts


class SelfAlignTask(ConfigurableTask):
    def __init__(self, data_dir=None, cache_dir=None, download_mode=None, config: dict | None = None) -> None:
        config = dict(config or {})
        config.pop("class", None)
        self._seed = DEFAULT_SEED
        self._labelled = None
        self._distinct: dict[tuple[str, int], int] = {}
        self.skipped = 0
        try:
            self.variant = Variant.from_metadata(config.get("metadata"))
            super().__init__(data_dir=data_dir, cache_dir=cache_dir, download_mode=download_mode, config=config)
            docs = self.test_docs()
        except (DataError, VariantError) as error:
            # lm-eval shows a failed task as a long traceback; the one line that says what to do comes first.
            log.error("%s cannot be built: %s", config.get("task"), error)
            raise
        self._dataset_provenance = {
            "country": docs[0]["country"],
            "format": self.variant.format,
            "dataset_fingerprint": hashlib.sha256(json.dumps(docs.to_list(), sort_keys=True).encode()).hexdigest()[:16],
            # The Hub dataset the probes were read from, at the commit read (culture_metrics.dataset.Probes).
            "hub_dataset": getattr(self.dataset, "hub_dataset", None),
            "documents_available": len(docs),
            "skipped_unlabelled": self.skipped,
        }

    @property
    def logprob(self) -> bool:
        return self.OUTPUT_TYPE == "loglikelihood"

    @property
    def slots(self) -> tuple[plan.Slot, ...]:
        """The requests of each document (read from the config each time: lm-eval may override its settings)."""
        return plan.layout(self.variant, logprob=self.logprob, repeats=self.config.repeats)

    @property
    def sampling(self) -> bool:
        """Whether the run samples at all: greedy requests are meant to repeat one response."""
        return not self.logprob and samples(self.config.generation_kwargs or {})

    def test_docs(self):
        """The labelled probes; probes the country's figures cannot label are skipped and counted."""
        if self._labelled is None:
            full = self.dataset[self.config.test_split]
            keep = [i for i, answer in enumerate(full["answer"]) if answer is not None]
            if not keep:
                raise DataError(
                    f"{self.config.task}: no probe of language {self.variant.language!r} has a label for country "
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

    def doc_to_text(self, doc: dict, doc_to_text=None) -> str:
        if doc_to_text == DEMONSTRATION:
            return demonstration(doc, self._seed, self.variant.format)[0]
        return probe_text(doc, self._seed, self.variant.format)

    def doc_to_target(self, doc: dict, doc_to_target=None) -> str:
        if doc_to_target == DEMONSTRATION:
            return demonstration(doc, self._seed, self.variant.format)[1]
        return doc["answer"]

    def fewshot_context(self, doc: dict, num_fewshot: int, **kwargs: Any) -> Prompts:
        """Every prompt of the document, as the one string lm-eval expects (see `Prompts`)."""
        return self.prompts(doc, num_fewshot, **kwargs)

    def prompts(self, doc: dict, shots: int, *, system_instruction: str | None = None, **kwargs: Any) -> Prompts:
        zeroshot = self.build_prompt(doc, 0, aligned=False, system_instruction=system_instruction, **kwargs)
        selfaligned = tuple(
            self.build_prompt(with_draw(doc, draw), shots, aligned=True, system_instruction=system_instruction, **kwargs)
            for draw in range(plan.draws(self.slots))
        )
        return Prompts(zeroshot, selfaligned)

    def build_prompt(self, doc: dict, shots: int, *, aligned: bool, system_instruction: str | None = None,
                     **kwargs: Any) -> str:
        """One prompt through the harness's own few-shot machinery; demonstrations stay in the one user turn.

        The `paper` format opens it with its instruction. Metadata `persona: true` names the country before the
        self-aligned prompt (with `num_fewshot: 0`, instead of demonstrations); `explain: true` asks for an
        explanation after the answer.
        """
        parts = [
            persona_line(doc["language"], doc["country"]) if aligned and self.variant.persona else None,
            system_instruction,
            instruction(doc, self._seed, self.variant.format),
            EXPLAIN if self.variant.explain else None,
        ]
        text = "\n\n".join(filter(None, parts))
        # In plain text the harness glues the system text to the prompt; chat templates give it its own turn.
        end = "" if kwargs.get("apply_chat_template") else "\n\n"
        kwargs.update(fewshot_as_multiturn=False, system_instruction=text + end if text else None)
        return super().fewshot_context(doc, shots, **kwargs)

    def demonstrations(self, doc: dict) -> list[str]:
        """The self-aligned prompt's demonstrations (its first draw) as completed sentences, in prompt order."""
        if not self.config.num_fewshot:
            return []
        return [completed(d, d["answer"]) for d in self.sampler.sample(self.config.num_fewshot, eval_doc=doc)]

    def construct_requests(self, doc: dict, ctx: str, **kwargs: Any) -> list[Instance]:
        """The document's requests, in the plan's order. A plain string `ctx` (lm-eval's own task checks pass
        doc_to_text) stands for the self-aligned prompt; the other prompts are then built without a system prompt.

        Each request's sample count is the repeats field of the Instance's metadata, which lm-eval reads to copy
        a request; its own metadata gives the task's `repeats` to every request, which fits all but a reshuffled
        task's draws, one sample each.
        """
        context = {"apply_chat_template": kwargs.pop("apply_chat_template", False),
                   "chat_template": kwargs.pop("chat_template", None), "gen_prefix": self.doc_to_prefix(doc)}
        task, doc_id, _ = kwargs.pop("metadata", (self.config.task, None, self.config.repeats))
        if not isinstance(ctx, Prompts):
            built = self.prompts(doc, self.config.num_fewshot or 0, **context)
            ctx = Prompts(built.zeroshot, (ctx, *built.selfaligned[1:]))
        delimiter = "" if context["apply_chat_template"] else self.config.target_delimiter
        return [
            Instance("loglikelihood" if self.logprob else "generate_until", doc,
                     (request.prompt, request.continuation if self.logprob
                      else deepcopy(self.config.generation_kwargs)),
                     idx=i, metadata=(task, doc_id, request.slot.samples), **kwargs)
            for i, request in enumerate(plan.requests(doc, self.slots, ctx.zeroshot, ctx.selfaligned, delimiter))
        ]

    def request_prompts(self, doc: dict) -> list[str]:
        """The prompts lm-eval sends for `doc`, in request order: for loops that run the model without it."""
        context = self.fewshot_context(doc, self.config.num_fewshot or 0)
        requests = self.construct_requests(doc, context, metadata=(self.config.task, 0, self.config.repeats))
        return list(dict.fromkeys(request.args[0] for request in requests))

    def apply_filters(self) -> None:
        """Count the distinct raw responses of each request first: the filters keep only their first lines, and
        this is the one place lm-eval shows a task its raw responses.
        """
        self._distinct = {(instance.doc["id"], instance.idx): len(set(instance.resps)) for instance in self.instances
                          if instance.request_type == "generate_until" and len(instance.resps) > 1}
        super().apply_filters()

    def process_results(self, doc: dict, results: list) -> dict[str, Any]:
        if self.logprob:
            record = scoring.logprob_record(doc, self.slots, results, skipped=self.skipped,
                                            demonstrations=self.demonstrations(doc), collapse=self.variant.collapse)
        else:
            record = scoring.sampled_record(doc, self.slots, results, skipped=self.skipped,
                                            demonstrations=self.demonstrations(doc),
                                            distinct=self._distinct_counts(doc["id"]) if self.sampling else [],
                                            collapse=self.variant.collapse)
        return metrics.items(record)

    def _distinct_counts(self, doc_id: str) -> list[int]:
        return [self._distinct[key] for idx in range(len(self.slots)) if (key := (doc_id, idx)) in self._distinct]

    def aggregation(self) -> dict:
        return {name: metric.aggregate for name, metric in metrics.METRICS.items()}

    def higher_is_better(self) -> dict:
        return {name: metric.higher_is_better for name, metric in metrics.METRICS.items()}

    def dump_config(self) -> dict:
        """lm-eval's config, as it writes it into the results (results["configs"][task]), with the provenance."""
        return {**super().dump_config(), PROVENANCE: self.provenance()}

    def provenance(self) -> dict[str, Any]:
        """What the task derived: the dataset's figures, and `sampling_warning` where the samples look collapsed.

        lm-eval asks for the config once, on rank 0, after scoring; the collapse share is that of the documents
        this process scored (all of them unless the run is spread over several processes).
        """
        per_doc = defaultdict(list)
        for (doc_id, _), count in self._distinct.items():
            per_doc[doc_id].append(count)
        share = metrics.METRICS["collapsed"].of([{"distinct": c} for c in per_doc.values()]) if self.sampling else None
        warning = metrics.collapse_warning(share)
        if warning:
            log.warning("%s: %s", self.config.task, warning)
        return {**self._dataset_provenance, **({"sampling_warning": warning} if warning else {})}
