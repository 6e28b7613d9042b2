"""Every country's alignment from one record: the labels the tasks use, target specificity and the target's rank."""

from __future__ import annotations

import pytest

from culture_metrics import countries, plan, record, scoring
from culture_metrics.metrics import METRICS
from culture_metrics.variant import Variant
from hf_dataset.build import relabel
from hf_dataset.probes import read_english
from hf_dataset.wvs import load_counts


LABELS = {"AAA": ["yes", 0.8], "BBB": ["no", 0.3], "CCC": ["no", 0.4]}


def probe(zeroshot: list, selfalign: list, target: str = "AAA") -> record.Record:
    def share(answers: list) -> float | None:
        valid = [a for a in answers if a is not None]
        return valid.count("yes") / len(valid) if valid else None

    answer, share_a = LABELS[target]
    return record.record(p0=zeroshot.count(answer) / len(zeroshot), p1=selfalign.count(answer) / len(selfalign),
                         tolerance=0.0, zeroshot=zeroshot, selfalign=selfalign, answer=answer, q0=share(zeroshot),
                         q1=share(selfalign), share_a=share_a, country=target, option_a="yes", countries=LABELS)


def test_labels_come_from_relabel_and_leave_out_countries_without_figures():
    counts = load_counts()
    q82 = next(p for p in read_english()[0] if p.id == "Q82")
    row = {"id": q82.id, "question": q82.question, "option_a": q82.option_a, "option_b": q82.option_b}
    labels = countries.labels(row, "paper")
    expected = {country: [r["answer"], r["share_a"]] for country in counts
                for r in relabel([row], country, counts) if r["answer"] is not None}
    assert labels == expected and 0 < len(labels) < len(counts)


def test_each_country_is_scored_like_the_target():
    r = probe(["yes"] * 6 + ["no"] * 2 + [None] * 2, ["no"] * 10)
    table = countries.alignments(r)
    assert table["AAA"]["zeroshot"] == r["p0"] == 0.6 and table["AAA"]["selfalign"] == r["p1"] == 0.0
    assert table["BBB"]["zeroshot"] == 0.2 and table["BBB"]["zeroshot_valid"] == pytest.approx(0.25)
    assert table["BBB"]["zeroshot_soft_gap"] == pytest.approx(0.45)


def test_specificity_is_the_target_gain_beyond_the_others():
    toward_target = probe(["no"] * 10, ["yes"] * 10)
    assert countries.specificity(toward_target) == 2.0  # +1 toward AAA, -1 toward BBB and CCC
    assert countries.specificity(probe(["no"] * 10, ["no"] * 10)) == 0.0
    format_only = probe([None] * 5 + ["yes", "no"] * 2 + ["no"], ["yes", "no", "no"] * 3 + ["yes"])
    assert countries.specificity(format_only, valid=True) == pytest.approx(0.0)
    assert countries.specificity(probe([None] * 10, ["yes"] * 10), valid=True) is None


def test_the_target_rank_is_taken_over_country_means():
    records = [probe(["no"] * 10, ["yes"] * 10), probe(["no"] * 8 + ["yes"] * 2, ["yes"] * 10)]
    assert METRICS["target_zeroshot_rank"].of(records) == 3
    assert METRICS["target_selfalign_rank"].of(records) == 1
    assert METRICS["target_specificity"].of(records) == pytest.approx((2.0 + 1.6) / 2)


def test_a_scored_record_keeps_the_documents_own_target_label():
    doc = {"id": "Q1", "question": 1, "country": "USA", "option_a": "very", "option_b": "not", "answer": "not",
           "share_a": 0.1, "template": "Family is _ important in my life."}
    r = scoring.sampled_record(doc, plan.layout(Variant("en"), logprob=False, repeats=2),
                               [["not", "not"], ["very", "very"]], skipped=0, demonstrations=[], distinct=[],
                               collapse="paper")
    assert r["countries"]["USA"] == ["not", 0.1] and len(r["countries"]) > 50
    assert countries.alignments(r)["USA"]["zeroshot"] == r["p0"] == 1.0
