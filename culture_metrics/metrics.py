"""Where every reported metric is defined: per-document records and the aggregations over them.

Each metric in METRICS takes one value from each document's record (culture_metrics.record) and aggregates them
(METRICS[name].of(records) recomputes it).

Collapse guard: a backend that does not really sample (one seed sent with every request, a server that samples only
when the model's generation config says so) returns one response ten times, and p0, p1 and everything built on them
silently stop meaning what they say. `distinct` records how many distinct raw responses each sampled prompt got;
`collapsed` is the share of a document's prompts whose samples are one response repeated, and where it exceeds
COLLAPSED_MAJORITY over a run, collapse_warning says so (in the results and at the top of the report). A confident
model may answer one way ten times: the warning states what was seen, not a verdict.

Soft alignment compares distributions instead of majorities: q0 and q1 are the model's share of valid responses
(or its probability) on option_a's side, set against the country's `share_a`, so a 52/48 country is matched by a
52/48 model rather than by a unanimous one.

Improvement beyond chance (sampled tasks; absent in `_logprob` tasks, where nothing is sampled). `improved` picks
the misaligned probes with the same zero-shot draw it then compares against, so sampling noise alone "improves"
many: a probe answered right 9 times in 10 is misaligned whenever one zero-shot sample misses, and its next 10
samples usually do better. The exact null, "the demonstrations change nothing", per misaligned probe: its n0
zero-shot and n1 self-aligned responses (10 + 10, counted from the record, not assumed) are then exchangeable, so
given the k of them that give the majority answer (an invalid response does not), the number X correct zero-shot is
hypergeometric, P(X = x | k) = C(k, x) C(n0 + n1 - k, n0 - x) / C(n0 + n1, n0), and the probe is misaligned when
X < n0. Conditioning on that selection, per misaligned probe (culture_metrics/chance.py computes it exactly):

- `improved_by_chance`: P((k - X) / n1 > X / n0 | k, X < n0); `decreased_by_chance` likewise with <. Given the k
  of every probe, probes are independent under the null, so the mean over the misaligned probes is exactly what
  `improved` (`decreased`) is expected to be when the demonstrations do nothing.
- `improved_beyond_chance`: per probe, improved (1 or 0) minus its chance probability; its mean is `improved` minus
  `improved_by_chance`, 0 in expectation under the null, with lm-eval's standard error. A residual, not an effect
  size: a probe that goes from 9 to 10 correct counts 0 (at k = 19 every misaligned draw improves), a flip from 0
  to 10 about 0.67. `decreased_beyond_chance` likewise.
- `improved_significant`: share of misaligned probes whose improvement passes a one-sided Fisher exact test at
  0.05, p = P(X <= x | k) for the observed x. The test is discrete (with k <= 3 or k >= 17 it can never pass), so
  its size varies by probe and stays below 5%: `improved_significant_by_chance` is its chance level,
  P(pass | k, X < n0), averaged the same way.

Placebo (metadata `placebo: true`): a second, independent zero-shot draw (`placebo` in the record). Probes are
selected on the first zero-shot draw and compared with the second: `placebo_improved` is the empirical noise floor,
and `placebo_improved_by_chance` the same formula applied to the two zero-shot draws. Both draws come from one
prompt, so the null holds on any model and the two agree (`placebo_improved_beyond_chance` near 0, within its
standard error): the check of the exact null on the user's own model. `selection_free_improved` / `_unchanged` /
`_decreased` compare the self-aligned draw with the second zero-shot draw on the same selected probes: the selection
no longer favours improvement, so without an effect of the demonstrations improved and decreased are equally likely.

Countries (culture_metrics.countries): each record carries every WVS-7 country's label for its probe, so the same
responses are scored against each country c that labels it; a country's alignment is the mean of its per-probe
alignment over the probes it labels (the others are left out and counted in the report).
The labels are not logged (64 per probe would triple the logged record): whoever reads the samples derives them
again from the document, the committed figures and the run's collapse rule (culture_metrics.countries.of_document).
The countries' ranks with their intervals are the report's (a rank is no mean over documents).
- `target_specificity`: per probe, the gain toward the target (self-aligned minus zero-shot alignment with its
  majority) minus the mean gain toward the other countries that label the probe, averaged over probes. A model
  whose demonstrations change nothing has 0 in expectation (both draws come from one distribution). A model that
  follows its demonstrations moves toward the target's answers, away from the countries that answer otherwise:
  positive. A model the demonstrations only teach to name an option (valid share v0 -> v1, same preferences)
  gains (v1 - v0) x its valid alignment with each country: its specificity is (v1 - v0) times how much more it
  already leans to the target than to the others, near 0 unless it does; `target_specificity_valid`, the same on
  valid responses only, removes format learning entirely (0 in expectation). A large `improved` with specificity
  near 0 means the demonstrations lifted agreement with every majority, not with the target's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lm_eval.api.metrics import mean

from culture_metrics import countries
from culture_metrics.chance import Null
from culture_metrics.record import Record, change, correct, error_reduction_of, is_misaligned, shift


if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence


COLLAPSED_MAJORITY = 0.5


def null(r: Record, after: str = "selfalign") -> Null | None:
    """The exact null of a misaligned sampled document, the zero-shot draw against `after`; None otherwise."""
    if not r[after] or not is_misaligned(r):
        return None
    return Null(correct(r, "zeroshot") + correct(r, after), len(r["zeroshot"]), len(r[after]))


def _by_chance(event: str, after: str = "selfalign") -> Callable[[Record], float | None]:
    return lambda r: None if (h := null(r, after)) is None else h.given_misaligned(event)


def _observed(outcome: str, after: str, before: str = "zeroshot") -> Callable[[Record], float | None]:
    """1 or 0: did a misaligned document's `after` draw show `outcome` against `before`; None without both draws."""
    return lambda r: float(shift(r, before, after) == outcome) if r[before] and null(r, after) else None


def _beyond_chance(outcome: str, event: str, after: str = "selfalign") -> Callable[[Record], float | None]:
    observed, chance = _observed(outcome, after), _by_chance(event, after)
    return lambda r: None if (o := observed(r)) is None else o - chance(r)


def _significant(r: Record) -> float | None:
    h = null(r)
    return None if h is None else float(h.significant(correct(r, "zeroshot")))


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
        return self.of_values(map(self.item, records))

    def of_values(self, values: Iterable[Any]) -> float | int | None:
        """The metric over documents' values already taken by `item` (None where it says nothing of a document)."""
        items = [value for value in values if value is not None]
        return self.aggregate(items) if items or self.higher_is_better is None else None


# The key under which lm-eval logs each document's whole record, once; as a metric it counts the documents.
RECORD = "documents"

METRICS: dict[str, Metric] = {
    RECORD: Metric(countries.without_labels, len, None,
                   "documents scored (each logged with its record; the countries' labels are derived again)"),
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
    # Chance levels say how much of a share sampling noise alone gives: lower means less of it is noise.
    "improved_by_chance": Metric(_by_chance("improves"), mean, False,
                                 "share of misaligned documents expected to improve if the demonstrations did nothing"),
    "decreased_by_chance": Metric(_by_chance("decreases"), mean, False,
                                  "the same for decreased"),
    "improved_beyond_chance": Metric(_beyond_chance("improved", "improves"), mean, True,
                                     "improved minus its chance level, per document (a residual, not an effect size)"),
    "decreased_beyond_chance": Metric(_beyond_chance("decreased", "decreases"), mean, False,
                                      "decreased minus its chance level, per document"),
    "improved_significant": Metric(_significant, mean, True,
                                   "share of misaligned documents improved at p <= 0.05 (one-sided Fisher exact test)"),
    "improved_significant_by_chance": Metric(_by_chance("significant"), mean, False,
                                             "the test's chance level (its size, below 5% and varying by document)"),
    "placebo_improved": Metric(_observed("improved", "placebo"), mean, False,
                               "share of misaligned documents whose second zero-shot draw improved (noise floor)"),
    "placebo_improved_by_chance": Metric(_by_chance("improves", "placebo"), mean, False,
                                         "its chance level from the two zero-shot draws (must agree with it)"),
    "placebo_improved_beyond_chance": Metric(_beyond_chance("improved", "improves", "placebo"), mean, False,
                                             "placebo_improved minus its chance level (0 within its error)"),
    "selection_free_improved": Metric(_observed("improved", "selfalign", "placebo"), mean, True,
                                      "share of misaligned documents whose self-aligned draw beat the second "
                                      "zero-shot draw"),
    "selection_free_unchanged": Metric(_observed("unchanged", "selfalign", "placebo"), mean, False,
                                       "the same, unchanged"),
    "selection_free_decreased": Metric(_observed("decreased", "selfalign", "placebo"), mean, False,
                                       "the same, decreased"),
    "target_specificity": Metric(countries.specificity, mean, True,
                                 "gain toward the target minus the mean gain toward the other countries"),
    "target_specificity_valid": Metric(lambda r: countries.specificity(r, valid=True), mean, True,
                                       "the same among valid responses only (format learning removed)"),
}


def items(r: Record) -> dict[str, Any]:
    """What process_results returns for one document: the record once, and each metric's value where it has one."""
    return {name: value for name, metric in METRICS.items() if (value := metric.item(r)) is not None}
