"""The vectorised bootstrap gives, resample by resample, the very figures Metric.of gives on the drawn records."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st
from lm_eval.api.metrics import mean

from culture_metrics.metrics import METRICS
from culture_metrics.record import record
from culture_metrics.reporting.runs import TaskRun
from culture_metrics.reporting.statistics import (
    aggregate,
    as_arrays,
    document_values,
    interval,
    resample_indices,
    resampled_means,
)


SHARES = [name for name, metric in METRICS.items() if metric.higher_is_better is not None]


def answers(rng: random.Random, n: int) -> list[str | None]:
    return [rng.choice(["yes", "no", None]) if rng.random() < 0.2 else rng.choice(["yes", "no"]) for _ in range(n)]


def sampled_record(rng: random.Random, placebo: bool) -> dict:
    zeroshot, selfalign = answers(rng, 10), answers(rng, 10)
    share_a = rng.choice([None, rng.random()])
    return record(
        p0=sum(a == "yes" for a in zeroshot) / 10, p1=sum(a == "yes" for a in selfalign) / 10, tolerance=0.0,
        zeroshot=zeroshot, selfalign=selfalign, placebo=answers(rng, 10) if placebo else (), answer="yes",
        q0=rng.choice([None, rng.random()]), q1=rng.choice([None, rng.random()]), share_a=share_a,
        distinct=[rng.randint(1, 3) for _ in range(2)],
    )


def run_of(records: list[dict]) -> TaskRun:
    return TaskRun("model", "wvs_selfalign_en", "en", "USA", "chrf", "fingerprint", {}, {}, Path("results.json"),
                   records=tuple(records))


def test_every_share_aggregates_with_the_mean_the_vectorised_bootstrap_repeats():
    assert SHARES and all(METRICS[name].aggregate is mean for name in SHARES)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.booleans())
def test_resampled_means_are_metric_of_on_each_resample_to_the_bit(seed, documents, placebo):
    rng = random.Random(seed)
    records = [sampled_record(rng, placebo) for _ in range(documents)]
    indices = resample_indices(documents, 30, seed=seed)
    means = resampled_means(*as_arrays(document_values(run_of(records), SHARES)), indices)
    for name, row in zip(SHARES, means, strict=True):
        expected = [METRICS[name].of([records[i] for i in draw]) for draw in indices]
        assert [None if np.isnan(value) else float(value) for value in row] == expected, name
        assert interval(row) == interval(expected), name


def test_aggregate_is_metric_of_on_values_taken_once():
    rng = random.Random(7)
    records = [sampled_record(rng, placebo=True) for _ in range(60)]
    items = document_values(run_of(records), METRICS)
    for name, metric in METRICS.items():
        assert aggregate(name, items[name]) == metric.of(records), name
        assert aggregate(name, items[name][:0]) == metric.of([]), name
