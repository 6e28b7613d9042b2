"""Every country's alignment from one record: the labels the tasks use, target specificity and the target's rank."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import need_shared
from lm_eval_runs import LmEvalRun, run_lm_eval

from culture_metrics import countries, plan, record, scoring
from culture_metrics.metrics import METRICS
from culture_metrics.reporting.countries import fingerprint
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
    expected = {country: (r["answer"], r["share_a"]) for country in counts
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


def test_ranks_are_taken_over_country_means_and_specificity_over_probes():
    records = [probe(["no"] * 10, ["yes"] * 10), probe(["no"] * 8 + ["yes"] * 2, ["yes"] * 10)]
    summary = fingerprint(records, None).summary
    assert (summary["zeroshot_rank"], summary["selfalign_rank"]) == (3, 1)
    assert METRICS["target_specificity"].of(records) == pytest.approx((2.0 + 1.6) / 2)
    assert "countries" not in METRICS["documents"].item(records[0])  # derived again by whoever reads the samples


def test_the_table_of_a_run_holds_each_records_alignments_to_the_bit():
    """The report's arrays (countries.table) against the per-record definition, on sampled and log-likelihood
    records, with a draw without a valid response and a country that labels one probe only.
    """
    sampled = [probe(["yes"] * 6 + ["no"] * 2 + [None] * 2, ["no"] * 10), probe([None] * 10, ["yes", "no"] * 5)]
    logprob = record.record(p0=0.3, p1=0.9, tolerance=0.05, answer="yes", q0=0.3, q1=0.9, share_a=0.8,
                            country="AAA", option_a="yes", countries={**LABELS, "DDD": ["no", 0.2]})
    records = [*sampled, logprob]
    table = countries.table(records)
    assert table.countries == ("AAA", "BBB", "CCC", "DDD")
    for row, r in enumerate(records):
        expected = countries.alignments(r)
        for column, country in enumerate(table.countries):
            for figure, values in table.figures.items():
                value = expected.get(country, {}).get(figure)
                assert (np.isnan(values[row, column]) if value is None else values[row, column] == value), \
                    (row, country, figure)


def test_a_probes_labels_are_shared_read_only_and_cross_processes_as_the_probe():
    doc = {"id": "Q1", "question": 1, "country": "USA", "option_a": "very", "option_b": "not", "answer": "not",
           "share_a": 0.1}
    labels = countries.of_document(doc, "paper")["countries"]
    assert countries.of_document(dict(doc), "paper")["countries"] is labels
    assert pickle.loads(pickle.dumps(labels)) is labels  # noqa: S301 (our own bytes)
    assert len(pickle.dumps(labels)) < 300  # the probe, not 60 countries' labels
    with pytest.raises(TypeError):
        labels["USA"] = ("very", 0.9)


def test_a_scored_record_keeps_the_documents_own_target_label():
    doc = {"id": "Q1", "question": 1, "country": "USA", "option_a": "very", "option_b": "not", "answer": "not",
           "share_a": 0.1, "template": "Family is _ important in my life."}
    r = scoring.sampled_record(doc, plan.layout(Variant("en"), logprob=False, repeats=2),
                               [["not", "not"], ["very", "very"]], skipped=0, demonstrations=[], distinct=[],
                               collapse="paper")
    assert r["countries"]["USA"] == ("not", 0.1) and len(r["countries"]) > 50
    assert countries.alignments(r)["USA"]["zeroshot"] == r["p0"] == 1.0


# End to end: scripted backends through the real lm_eval run and the report command.
EN = "wvs_selfalign_en"


def scripted(tmp_path_factory, model: str, *args: str) -> LmEvalRun:
    need_shared()
    # `pretrained` only names the run (lm-eval takes the model's name from it); the backends ignore it.
    name = "-".join([model, *(arg.split("=")[1] for arg in args)])
    return run_lm_eval(tmp_path_factory.mktemp(name), None, EN, backend=model,
                       model_args=",".join([f"pretrained={name}", "seed=0", *args]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, LmEvalRun]:
    return {
        "germany": scripted(tmp_path_factory, "wvs-test-country", "like=DEU"),
        "mix": scripted(tmp_path_factory, "wvs-test-country", "like=DEU", "mixed_with=JPN", "mix=0.5"),
        "copier": scripted(tmp_path_factory, "wvs-test-copier"),
        "blind": scripted(tmp_path_factory, "wvs-test-context-blind"),
        "format": scripted(tmp_path_factory, "wvs-test-format-learner"),
    }


@pytest.fixture(scope="module")
def reported(runs, tmp_path_factory) -> dict[str, dict]:
    from test_report import board, cli

    out = tmp_path_factory.mktemp("report") / "board"
    done = cli("report", *(run.folder for run in runs.values()), "--out", out)
    assert done.returncode == 0, done.stderr
    rows = board(out)["rows"]
    return {"out": out, **{name: next(row for row in rows if Path(row["files"]["results"]).is_relative_to(
        run.folder.resolve())) for name, run in runs.items()}}


def ranked(row: dict) -> list[str]:
    return [entry["country"] for entry in row["countries"]["table"]]


def task_figures(run: LmEvalRun) -> dict:
    return {key.split(",")[0]: value for key, value in run.results["results"][EN].items() if "," in key}


def test_a_model_answering_like_one_country_ranks_it_first(reported):
    assert ranked(reported["germany"])[0] == "DEU"
    assert set(ranked(reported["mix"])[:2]) == {"DEU", "JPN"}
    summary = reported["germany"]["countries"]["summary"]
    assert summary["zeroshot_rank"] > 1 and summary["closest"][0] == "DEU"


def test_specificity_is_positive_only_for_a_model_that_follows_its_demonstrations(reported, runs):
    for name in ("copier", "blind", "format"):
        for metric in ("target_specificity", "target_specificity_valid"):
            figure = reported[name]["metrics"][metric]
            assert figure["value"] == pytest.approx(task_figures(runs[name])[metric], abs=1e-12), (name, metric)
            low, high = figure["ci"]
            if name == "copier":
                assert low > 0.05, (name, metric, low)
            else:
                assert low < 0 < high, (name, metric, low, high)
    # The format learner "improves" far beyond chance; specificity says the demonstrations only taught the format.
    assert reported["format"]["metrics"]["improved_beyond_chance"]["ci"][0] > 0.2


def test_a_probe_without_figures_for_a_country_is_left_out_of_it_and_counted(reported, runs):
    samples = [{**s["documents"], **countries.of_document(s["doc"], "paper")} for s in runs["blind"].samples[EN]]
    fewest = min(samples, key=lambda r: len(r["countries"]))
    unlabelled = sorted(set(load_counts()) - set(fewest["countries"]))
    table = {entry["country"]: entry for entry in reported["blind"]["countries"]["table"]}
    assert unlabelled
    for country in unlabelled[:3]:
        kept = [r for r in samples if country in r["countries"]]
        assert table[country]["left_out"] == len(samples) - len(kept) >= 1
        assert table[country]["probes"] == len(kept)
        expected = sum(r["zeroshot"].count(r["countries"][country][0]) / len(r["zeroshot"]) for r in kept) / len(kept)
        assert table[country]["zeroshot"] == pytest.approx(expected, abs=1e-12)


def test_the_report_shows_the_fingerprint_and_specificity(reported):
    out = reported["out"]
    text = (out / "leaderboard.md").read_text()
    assert "Target specificity %" in text and "Which countries each run answers like" in text
    assert text.count("zero-shot rank") >= 5
    assert (out / "countries_en_USA.png").is_file()
    assert reported["copier"]["metrics"]["target_specificity"]["ci"][0] > 0


def test_the_gate_gates_on_target_specificity(runs):
    from test_report import cli

    regressed = cli("gate", runs["blind"].folder, "--baseline", runs["copier"].folder, "--metric", "target_specificity")
    assert regressed.returncode == 1, regressed.stdout + regressed.stderr
    assert re.search(r"^REGRESSION .*target_specificity: ", regressed.stdout, re.MULTILINE), regressed.stdout


def test_samples_logged_before_records_named_their_target_get_a_fingerprint_too(runs, reported, tmp_path):
    from test_report import board, cli

    folder = runs["copier"].folder
    old = tmp_path / "old"
    for source in folder.rglob("*"):
        if source.is_file():
            target = old / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.name.startswith("samples_"):
                rows = [json.loads(line) for line in source.read_text().splitlines()]
                for row in rows:
                    for key in ("country", "option_a"):
                        del row["documents"][key]
                target.write_text("".join(json.dumps(row) + "\n" for row in rows))
            else:
                results = json.loads(source.read_text())
                results["results"][EN] = {key: value for key, value in results["results"][EN].items()
                                          if not key.startswith("target_")}
                target.write_text(json.dumps(results))
    done = cli("report", old, "--out", tmp_path / "board")
    assert done.returncode == 0, done.stderr
    (row,) = board(tmp_path / "board")["rows"]
    assert row["countries"] == reported["copier"]["countries"]
    assert row["metrics"]["target_specificity"] == reported["copier"]["metrics"]["target_specificity"]
