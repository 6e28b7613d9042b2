"""Where every reported metric is defined: per-document records and the aggregations over them.

process_results turns one probe's responses into a record: p0 and p1, the share of the zero-shot and of the
self-aligned responses that give the country's majority answer (or, in the `_logprob` tasks, the probability mass
on it), plus the parsed answers so that anyone can recompute every figure from `--log_samples`. Each metric in
METRICS takes one value from each record and aggregates them (METRICS[name].of(records) recomputes it).

`tolerance` is 0 for sampled responses and 0.01 for probabilities: a document is misaligned when p0 < 1 - tolerance,
improved when p1 - p0 > tolerance, decreased when p0 - p1 > tolerance, unchanged otherwise.

Collapse guard: a backend that does not really sample (one seed sent with every request, a server that samples only
when the model's generation config says so) returns one response ten times, and p0, p1 and everything built on them
silently stop meaning what they say. `distinct` records how many distinct raw responses each sampled prompt got;
`collapsed` is the share of a document's prompts whose samples are one response repeated, and where it exceeds
COLLAPSED_MAJORITY over a run, collapse_warning says so (in the results and at the top of the report). A confident
model may answer one way ten times: the warning states what was seen, not a verdict.

Soft alignment compares distributions instead of majorities: q0 and q1 are the model's share of valid responses
(or its probability) on option_a's side, set against the country's `share_a`, so a 52/48 country is matched by a
52/48 model rather than by a unanimous one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lm_eval.api.metrics import mean


if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


Record = dict[str, Any]

SAMPLED_TOLERANCE = 0.0
LOGPROB_TOLERANCE = 0.01
COLLAPSED_MAJORITY = 0.5


def record(
    *,
    p0: float,
    p1: float,
    tolerance: float,
    zeroshot: Sequence[str | None] = (),
    selfalign: Sequence[str | None] = (),
    responses: int | None = None,
    skipped: int = 0,
    q0: float | None = None,
    q1: float | None = None,
    share_a: float | None = None,
    demonstrations: Sequence[str] = (),
    distinct: Sequence[int] = (),
) -> Record:
    """One document's outcome.

    `zeroshot`/`selfalign` hold each parsed response (None for an invalid one); `responses` counts the model
    outputs the figures rest on (generations, or scored options in `_logprob` tasks). `q0`/`q1` are the model's
    share on option_a's side (None when no response was valid) and `share_a` the country's; `demonstrations` are
    the self-aligned prompt's demonstrations as completed sentences, for readers of the samples; `distinct` the
    number of distinct raw responses of each prompt sampled more than once (empty when nothing is sampled).
    """
    return {
        "p0": p0,
        "p1": p1,
        "tolerance": tolerance,
        "zeroshot": list(zeroshot),
        "selfalign": list(selfalign),
        "responses": len(zeroshot) + len(selfalign) if responses is None else responses,
        "skipped": skipped,
        "q0": q0,
        "q1": q1,
        "share_a": share_a,
        "demonstrations": list(demonstrations),
        "distinct": list(distinct),
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


def _share_of_responses(*prompts: str) -> Callable[[Record], float]:
    def item(r: Record) -> float:
        answers = [a for prompt in prompts for a in r[prompt]]
        return sum(a is None for a in answers) / len(answers) if answers else 0.0

    return item


def _valid_alignment(share: str) -> Callable[[Record], float | None]:
    def item(r: Record) -> float | None:
        if r[share] is None or r["share_a"] is None:
            return None
        # The majority answer is option_a exactly when the country's share_a is above one half (ties: no label).
        return r[share] if r["share_a"] > 0.5 else 1 - r[share]

    return item


def _soft(share: str, distance: Callable[[float, float], float]) -> Callable[[Record], float | None]:
    def item(r: Record) -> float | None:
        return None if r[share] is None or r["share_a"] is None else distance(r[share], r["share_a"])

    return item


def js_distance(p: float, q: float) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two two-option distributions (p, 1-p) and (q, 1-q)."""

    def kl(x: float, m: float) -> float:
        return sum(a * math.log2(a / b) for a, b in ((x, m), (1 - x, 1 - m)) if a > 0)

    m = (p + q) / 2
    return math.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2))


def absolute_gap(p: float, q: float) -> float:
    return abs(p - q)


def _collapsed(r: Record) -> float | None:
    counts = r.get("distinct") or []
    return sum(count == 1 for count in counts) / len(counts) if counts else None


def collapse_warning(share: float | None) -> str | None:
    """What to tell the user when most sampled prompts of a run (`collapsed`) got one response repeated."""
    if share is None or share <= COLLAPSED_MAJORITY:
        return None
    return (f"the samples look collapsed: identical responses on {100 * share:.0f}% of the sampled prompts at a "
            "temperature above 0. The backend may not be sampling (e.g. the same seed sent with every request, or "
            "a server that samples only when the model's generation config sets do_sample), and the distribution "
            "metrics of this run (misaligned, improved, error_reduction, ...) do not hold")


def _among_misaligned(outcome: str) -> Callable[[Record], float | None]:
    return lambda r: float(change(r) == outcome) if is_misaligned(r) else None


@dataclass(frozen=True)
class Metric:
    """A metric as lm-eval computes it: a value per document, aggregated over the documents that have one.

    `item` returns None for a document the metric does not speak of (a share of the misaligned documents says
    nothing of an aligned one): process_results then omits the metric for that document, and a metric no document
    speaks of is absent from the results rather than NaN. Shares aggregate with lm-eval's own `mean`, so lm-eval
    reports their standard error; counts (`higher_is_better` None) have none.
    """

    item: Callable[[Record], Any]
    aggregate: Callable[[list], float | int]
    higher_is_better: bool | None
    doc: str

    def of(self, records: Sequence[Record]) -> float | int | None:
        """The metric over `records` (the report and the gate recompute with this); None when none counts."""
        items = [value for value in map(self.item, records) if value is not None]
        return self.aggregate(items) if items or self.higher_is_better is None else None


# The key under which lm-eval logs each document's whole record, once; as a metric it counts the documents.
RECORD = "documents"

METRICS: dict[str, Metric] = {
    RECORD: Metric(lambda r: r, len, None, "documents scored (each logged with its whole record)"),
    "responses": Metric(lambda r: r["responses"], sum, None, "model outputs scored"),
    "skipped": Metric(lambda r: r["skipped"], lambda items: max(items, default=0), None,
                      "probes of the language skipped for want of a label"),
    "misaligned_documents": Metric(lambda r: int(is_misaligned(r)), sum, None, "documents misaligned zero-shot"),
    "improved_documents": Metric(lambda r: int(is_misaligned(r) and change(r) == "improved"), sum, None,
                                 "misaligned documents whose alignment improved"),
    "misaligned": Metric(lambda r: float(is_misaligned(r)), mean, False,
                         "share of documents not fully aligned zero-shot"),
    "improved": Metric(_among_misaligned("improved"), mean, True, "share of misaligned documents that improved"),
    "unchanged": Metric(_among_misaligned("unchanged"), mean, False, "share of misaligned documents unchanged"),
    "decreased": Metric(_among_misaligned("decreased"), mean, False, "share of misaligned documents that decreased"),
    "error_reduction": Metric(
        lambda r: error_reduction_of(r) if is_misaligned(r) and change(r) == "improved" else None, mean, True,
        "mean error-rate reduction over the misaligned documents that improved",
    ),
    "zeroshot_alignment": Metric(lambda r: r["p0"], mean, True, "mean p0"),
    "selfalign_alignment": Metric(lambda r: r["p1"], mean, True, "mean p1"),
    "invalid_rate": Metric(_share_of_responses("zeroshot", "selfalign"), mean, False,
                           "share of all responses that name neither option, or both ambiguously"),
    "zeroshot_invalid_rate": Metric(_share_of_responses("zeroshot"), mean, False,
                                    "share of zero-shot responses that are invalid (above 20%: format learning)"),
    "selfalign_invalid_rate": Metric(_share_of_responses("selfalign"), mean, False,
                                     "share of self-aligned responses that are invalid"),
    "zeroshot_valid_alignment": Metric(_valid_alignment("q0"), mean, True,
                                       "zero-shot alignment among valid responses only"),
    "selfalign_valid_alignment": Metric(_valid_alignment("q1"), mean, True,
                                        "self-aligned alignment among valid responses only"),
    "collapsed": Metric(_collapsed, mean, False,
                        "share of sampled prompts whose samples are one response repeated (collapse guard)"),
    "zeroshot_soft_gap": Metric(_soft("q0", absolute_gap), mean, False,
                                "mean |model share on option_a - country share_a|, zero-shot"),
    "selfalign_soft_gap": Metric(_soft("q1", absolute_gap), mean, False, "the same, self-aligned"),
    "zeroshot_js": Metric(_soft("q0", js_distance), mean, False,
                          "mean Jensen-Shannon distance between the two distributions, zero-shot"),
    "selfalign_js": Metric(_soft("q1", js_distance), mean, False, "the same, self-aligned"),
}


def items(r: Record) -> dict[str, Any]:
    """What process_results returns for one document: the record once, and each metric's value where it has one."""
    return {name: value for name, metric in METRICS.items() if (value := metric.item(r)) is not None}
