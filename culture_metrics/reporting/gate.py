"""The CI gate: does a new run regress against a baseline run of the same tasks?

Rule, per task and metric (higher_is_better from culture_metrics.metrics.METRICS sets the direction):

    drop = baseline - new        (new - baseline for a metric where lower is better)
    regression  <=>  drop > max_drop  AND  the 95% CI of the drop lies entirely above 0

The CI is a paired bootstrap over documents: both runs score the same documents, so each resample draws the same
documents from both and recomputes the metric on each with the METRICS aggregations; the percentile interval of
the drop over the resamples (seeded, so a verdict is reproducible). A drop must thus be both material (more than
max_drop) and more than the document sampling noise could produce: a rerun with another seed or a few changed
answers on a small --limit does not fail the gate, a real regression does. When either run has no logged samples
the rule falls back to the plain `drop > max_drop`, and says so. A metric undefined on either side (NaN, e.g.
`improved` with no misaligned document) is not comparable and never a regression.

Runs are comparable only if they hold the same tasks (and countries), the same dataset fingerprint and the same
documents; anything else is a RunError (exit 2), never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from culture_metrics.metrics import METRICS
from culture_metrics.reporting.runs import RunError, Runs, TaskRun
from culture_metrics.reporting.statistics import (
    as_arrays,
    document_values,
    interval,
    resample_indices,
    resampled_means,
)


if TYPE_CHECKING:
    from collections.abc import Sequence


# improved_beyond_chance separates what the demonstrations do from the noise of the sampling (metrics.py).
DEFAULT_METRICS = ("zeroshot_alignment", "selfalign_alignment", "improved", "improved_beyond_chance")
DEFAULT_MAX_DROP = 0.05


@dataclass(frozen=True)
class Check:
    run: TaskRun
    metric: str
    baseline: float | None
    new: float | None
    drop: float | None
    ci: tuple[float, float] | None
    regressed: bool
    note: str

    def line(self) -> str:
        where = f"{self.run.task} ({self.run.language}, {self.run.country}) {self.metric}"
        figures = " -> ".join("n/a" if v is None else f"{v:.4f}" for v in (self.baseline, self.new))
        ci = f", 95% CI of the drop [{self.ci[0]:+.4f}, {self.ci[1]:+.4f}]" if self.ci else ""
        verdict = "REGRESSION" if self.regressed else "ok"
        drop = "" if self.drop is None else f" (drop {self.drop:+.4f}{ci})"
        return f"{verdict:10} {where}: {figures}{drop}{self.note}"


def compare(new: Runs, baseline: Runs, metrics: Sequence[str] = DEFAULT_METRICS,
            max_drop: float = DEFAULT_MAX_DROP, resamples: int = 1000) -> list[Check]:
    """One check per task and metric; RunError when the runs cannot be compared."""
    pairs = _pairs(new, baseline)
    checks = []
    for new_run, base_run in pairs:
        # A share with nothing to be a share of (nothing misaligned) is absent from the results: not comparable.
        checks += [_check(new_run, base_run, metric, max_drop, resamples) for metric in metrics]
    return checks


def _single_model(runs: Runs, what: str) -> None:
    if len(runs.models) > 1:
        raise RunError(f"{what} holds runs of several models ({', '.join(runs.models)}); the gate compares one run "
                       "with one baseline")


def _pairs(new: Runs, baseline: Runs) -> list[tuple[TaskRun, TaskRun]]:
    _single_model(new, "RESULTS")
    _single_model(baseline, "BASELINE")
    new_tasks = {(run.task, run.country): run for run in new.runs}
    base_tasks = {(run.task, run.country): run for run in baseline.runs}
    if new_tasks.keys() != base_tasks.keys():
        def names(keys: set) -> str:
            return ", ".join(f"{task} ({country})" for task, country in sorted(keys)) or "none"
        raise RunError(f"the runs hold different tasks: only in RESULTS: {names(new_tasks.keys() - base_tasks.keys())}; "
                       f"only in BASELINE: {names(base_tasks.keys() - new_tasks.keys())}")
    pairs = []
    for key, new_run in sorted(new_tasks.items()):
        base_run = base_tasks[key]
        if new_run.fingerprint != base_run.fingerprint:
            raise RunError(f"{new_run.task}: other dataset version (fingerprint {new_run.fingerprint} in "
                           f"{new_run.results_file}, {base_run.fingerprint} in {base_run.results_file})")
        if new_run.figures.get("documents") != base_run.figures.get("documents") or (
            new_run.has_samples and base_run.has_samples and new_run.doc_ids != base_run.doc_ids
        ):
            raise RunError(f"{new_run.task}: the runs scored different documents ({new_run.figures.get('documents')} "
                           f"in {new_run.results_file}, {base_run.figures.get('documents')} in "
                           f"{base_run.results_file}; another --limit?)")
        pairs.append((new_run, base_run))
    return pairs


def _check(new: TaskRun, base: TaskRun, metric: str, max_drop: float, resamples: int) -> Check:
    definition = METRICS[metric]
    sign = 1 if definition.higher_is_better else -1
    baseline, value = base.figures.get(metric), new.figures.get(metric)
    if baseline is None or value is None:
        return Check(run=new, metric=metric, baseline=baseline, new=value, drop=None, ci=None, regressed=False,
                     note=" [not comparable: undefined on one side]")
    drop = sign * (baseline - value)
    common = {"run": new, "metric": metric, "baseline": baseline, "new": value, "drop": drop}
    why = (
        "--bootstrap 0" if not resamples
        else "no logged samples" if not (new.has_samples and base.has_samples)
        else "not recomputable from the samples" if not all(metric in r.recomputable for r in (new, base))
        else None
    )
    if why:
        return Check(**common, ci=None, regressed=drop > max_drop, note=f" [{why}: plain difference, no CI]")
    indices = resample_indices(len(new.records), resamples)
    before, after = (resampled_means(*as_arrays(document_values(run, [metric])), indices)[0]
                     for run in (base, new))
    ci = interval(sign * (before - after))
    return Check(**common, ci=ci, regressed=drop > max_drop and ci is not None and ci[0] > 0, note="")
