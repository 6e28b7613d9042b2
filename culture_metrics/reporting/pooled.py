"""A model's shares pooled over its languages, with intervals that resample WVS questions, not probes.

Pooled, each share rests on the documents it speaks of in every language (`improved`: the misaligned ones), as
Metric.of over all of them gives it; lm-eval's group scores can only average languages. The same WVS question is
asked in every language, so its probes are not independent: the bootstrap draws questions with replacement and
takes all the documents of a drawn question together (a cluster bootstrap). Per-run figures are not touched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from culture_metrics.metrics import METRICS
from culture_metrics.reporting.statistics import (
    Estimate,
    aggregate,
    as_arrays,
    document_values,
    intervals,
    resample_indices,
)


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.reporting.rows import Row


@dataclass(frozen=True)
class Pool:
    """One model and strategy over the languages it ran with logged samples, each with its own country."""

    model: str
    strategy: str
    languages: tuple[str, ...]
    documents: int
    questions: int
    metrics: dict[str, Estimate]


def pools(rows: Sequence[Row], resamples: int) -> list[Pool]:
    """A Pool per model and strategy run on two languages or more, in the rows' order."""
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.run.has_samples and row.run.default_country:
            grouped[row.run.name, row.run.strategy].append(row)
    return [_pool(model, strategy, members, resamples)
            for (model, strategy), members in grouped.items() if len(members) > 1]


def _pool(model: str, strategy: str, rows: Sequence[Row], resamples: int) -> Pool:
    runs = [row.run for row in rows]
    shares = [name for name in METRICS if METRICS[name].higher_is_better is not None
              and all(name in run.recomputable for run in runs)]
    per_run = [document_values(run, shares) for run in runs]
    items = {name: [value for values in per_run for value in values[name]] for name in shares}
    questions = [doc["question"] for run in runs for doc in run.docs[:len(run.records)]]
    values = {name: aggregate(name, items[name]) for name in shares}
    with_ci = [name for name in shares if values[name] is not None] if resamples else []
    intervals = dict(zip(with_ci, question_intervals(items, with_ci, questions, resamples), strict=True))
    return Pool(model, strategy, tuple(run.language for run in runs), len(questions), len(set(questions)),
                {name: Estimate(values[name], intervals.get(name)) for name in shares})


def question_intervals(items: dict[str, list], names: Sequence[str], questions: Sequence[int],
                       resamples: int) -> list[tuple[float, float] | None]:
    """Each metric's percentile interval over resamples of whole questions (every document of a drawn question)."""
    if not names:
        return []
    values, spoken = as_arrays({name: items[name] for name in names})
    distinct, of_document = np.unique(np.asarray(questions), return_inverse=True)
    members = np.zeros((len(of_document), len(distinct)))
    members[np.arange(len(of_document)), of_document] = 1.0
    drawn = resample_indices(len(distinct), resamples)
    times = np.zeros((resamples, len(distinct)))
    np.add.at(times, (np.arange(resamples)[:, None], drawn), 1.0)
    totals = (values @ members) @ times.T  # metrics x resamples
    counts = (spoken @ members) @ times.T
    means = np.divide(totals, counts, out=np.full(totals.shape, np.nan), where=counts > 0)
    return intervals(means)
