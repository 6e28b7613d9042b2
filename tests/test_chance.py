"""The exact null of improvement by chance, against values computed by hand, and the metrics built on it."""

from __future__ import annotations

import random
from fractions import Fraction
from math import comb

import pytest

from culture_metrics import metrics, record
from culture_metrics.chance import Null


TEN = (10, 10)
# C(20, 10) = 184756 ways to pick the zero-shot half of 20 responses; C(10, 5)^2 = 63504 of them split 10 correct 5/5.
K10_IMPROVES = Fraction((184756 - 63504) // 2, 184756 - 1)  # x < 5, given x < 10 (x = 10 is 1 way)
K10_DECREASES = Fraction((184756 - 63504) // 2 - 1, 184756 - 1)  # 5 < x < 10


@pytest.mark.parametrize(("k", "sizes", "improves", "decreases"), [
    (1, TEN, Fraction(1, 2), Fraction(1, 2)),  # the one correct response is zero-shot or not, evenly
    (19, TEN, Fraction(1), Fraction(0)),  # misaligned means 9 of 10 zero-shot: the other 10 are all correct
    (10, TEN, K10_IMPROVES, K10_DECREASES),
    (2, TEN, Fraction(comb(18, 10), comb(20, 10)), Fraction(comb(18, 8), comb(20, 10))),  # x = 0 / x = 2
    (1, (2, 1), Fraction(1, 3), Fraction(2, 3)),  # C(2, 2) = 1 way with x = 0, C(2, 1) = 2 with x = 1
    (0, TEN, Fraction(0), Fraction(0)),
])
def test_chance_of_improving_and_decreasing_given_misaligned(k, sizes, improves, decreases):
    null = Null(k, *sizes)
    assert null.given_misaligned("improves") == pytest.approx(float(improves), abs=1e-15)
    assert null.given_misaligned("decreases") == pytest.approx(float(decreases), abs=1e-15)


def test_a_flip_from_0_to_10_is_about_two_thirds_beyond_chance():
    assert 1 - Null(10, *TEN).given_misaligned("improves") == pytest.approx(124129 / 184755)


def test_fisher_one_sided_p_value():
    assert Null(4, *TEN).p_value(0) == pytest.approx(comb(10, 4) / comb(20, 4))  # 210 / 4845 = 0.043
    assert Null(4, *TEN).p_value(1) == pytest.approx((210 + 10 * comb(10, 3)) / 4845)
    assert Null(10, *TEN).p_value(10) == 1


@pytest.mark.parametrize(("k", "size"), [(3, 0), (17, 0), (4, 14 / 323), (16, (210 / 4845) / (1 - 210 / 4845)),
                                         (1, 0), (20, 0)])
def test_the_test_is_discrete_its_size_given_misaligned_is_below_five_percent(k, size):
    """With k <= 3 or k >= 17 even the most extreme split has p > 0.05 (k = 3: C(10, 3) / C(20, 3) = 2/19)."""
    null = Null(k, *TEN)
    if k < 20:
        assert null.given_misaligned("significant") == pytest.approx(size)
        assert null.given_misaligned("significant") < 0.05
    passing = [x for x in null.weights() if null.significant(x)]
    assert passing == ([0] if k == 4 else [6] if k == 16 else [])


def sampled(zero: int, aligned: int, placebo: int | None = None, n: int = 10, invalid: int = 0) -> record.Record:
    """A record with `zero` / `aligned` / `placebo` of n responses correct ('yes'); `invalid` zero-shot misses None."""
    answers = {
        "zeroshot": ["yes"] * zero + [None] * invalid + ["no"] * (n - zero - invalid),
        "selfalign": ["yes"] * aligned + ["no"] * (n - aligned),
        "placebo": [] if placebo is None else ["yes"] * placebo + ["no"] * (n - placebo),
    }
    return record.record(p0=zero / n, p1=aligned / n, tolerance=record.SAMPLED_TOLERANCE, answer="yes", **answers)


def value(name: str, r: record.Record) -> float | None:
    return metrics.METRICS[name].item(r)


def test_per_document_values():
    nine_to_ten = sampled(9, 10)
    assert value("improved_by_chance", nine_to_ten) == 1 and value("improved_beyond_chance", nine_to_ten) == 0
    flip = sampled(0, 10)
    assert value("improved_beyond_chance", flip) == pytest.approx(124129 / 184755)
    assert value("decreased_beyond_chance", flip) == pytest.approx(-float(K10_DECREASES))
    assert value("improved_significant", flip) == 1 and value("improved_significant", sampled(3, 7)) == 0
    # invalid responses count as not giving the majority answer: k is 2 + 8, not 4 + 8
    assert value("improved_by_chance", sampled(2, 8, invalid=2)) == value("improved_by_chance", sampled(2, 8))


def test_aligned_documents_logprob_tasks_and_runs_without_placebo_have_no_value():
    chance_metrics = [name for name in metrics.METRICS if "chance" in name or "placebo" in name
                      or name.startswith(("selection_free", "improved_significant"))]
    assert len(chance_metrics) == 12
    for name in chance_metrics:
        assert value(name, sampled(10, 3, placebo=4)) is None, name  # aligned zero-shot: not misaligned
        logprob = record.record(p0=0.3, p1=0.8, tolerance=record.LOGPROB_TOLERANCE, responses=4)
        assert value(name, logprob) is None, name
        assert metrics.METRICS[name].of([logprob]) is None, name
    for name in chance_metrics:
        expected_absent = "placebo" in name or name.startswith("selection_free")
        assert (value(name, sampled(5, 6)) is None) == expected_absent, name


def test_placebo_metrics_compare_the_two_zero_shot_draws_and_self_alignment_with_the_second():
    r = sampled(6, 9, placebo=8)
    assert value("placebo_improved", r) == 1 and value("selection_free_improved", r) == 1
    assert value("placebo_improved_by_chance", r) == Null(14, *TEN).given_misaligned("improves")
    assert value("placebo_improved_beyond_chance", r) == 1 - value("placebo_improved_by_chance", r)
    same = sampled(6, 8, placebo=8)
    assert value("selection_free_unchanged", same) == 1 and value("selection_free_decreased", same) == 0
    assert r["responses"] == 30


def test_under_the_null_improved_averages_to_its_chance_level():
    """20 exchangeable responses per probe, split at random: the mean residual is 0 within its error."""
    rng = random.Random(0)
    residuals = []
    for _ in range(4000):
        p = rng.random()
        answers = ["yes" if rng.random() < p else "no" for _ in range(20)]
        r = record.record(p0=answers[:10].count("yes") / 10, p1=answers[10:].count("yes") / 10,
                           tolerance=0.0, zeroshot=answers[:10], selfalign=answers[10:], answer="yes")
        if (item := value("improved_beyond_chance", r)) is not None:
            residuals.append(item)
    mean = sum(residuals) / len(residuals)
    error = (sum((x - mean) ** 2 for x in residuals) / (len(residuals) - 1) / len(residuals)) ** 0.5
    assert abs(mean) < 3.29 * error  # two-sided, false-alarm rate 0.001 (seeded: deterministic)
