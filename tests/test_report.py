"""`python -m culture_metrics report` on real lm_eval outputs of the tiny model, checked against the samples."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from commands import run_main, run_module
from conftest import english_corpus, need_shared
from lm_eval_runs import LmEvalRun, run_lm_eval
from PIL import Image
from test_beyond_chance import CHANCE, recompute
from tiny_model import build_tiny_model

from culture_metrics.reporting import processes, rows, runs
from culture_metrics.reporting.__main__ import main
from culture_metrics.reporting.bar_figures import BAR_HEIGHT, MARGIN
from culture_metrics.reporting.leaderboard_json import to_json


if TYPE_CHECKING:
    import subprocess


FIGURE_SIZES = {"error_reduction": (1400, 700), "misaligned": (1400, 700), "countries_en_USA": (1000, 1400),
                "countries_ro_ROU": (1000, 1400)}
_UNTRAINED: list[LmEvalRun] = []


def untrained_logprob_run(tmp_path_factory) -> LmEvalRun:
    """A second, really different model: the tiny architecture left untrained, on English and Romanian.

    Not the first model's output relabelled: its figures are its own. Memoised for the session so that
    test_gate.py reuses it (an lm_eval run costs ~20 s here).
    """
    if not _UNTRAINED:
        need_shared()
        model = build_tiny_model(tmp_path_factory.mktemp("untrained_model"), english_corpus(), seed=1)
        _UNTRAINED.append(run_lm_eval(tmp_path_factory.mktemp("untrained_run"), model,
                                      "wvs_selfalign_en_logprob,wvs_selfalign_ro_logprob", "--limit", "10",
                                      "--metadata", '{"format": "options"}'))
    return _UNTRAINED[0]


@pytest.fixture(scope="session")
def untrained_run(tmp_path_factory) -> LmEvalRun:
    return untrained_logprob_run(tmp_path_factory)


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    """`python -m culture_metrics` in this process."""
    return run_main(main, *args)


def cli_process(*args: str | Path) -> subprocess.CompletedProcess:
    """`python -m culture_metrics` as a user runs it: its exit codes and one-line errors are the command's own."""
    return run_module("culture_metrics", *args)


def error(done: subprocess.CompletedProcess) -> str:
    """The one error line a refused input gives, after any warnings; exit code 2."""
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.splitlines()[-1]
    assert line.startswith("error: ")
    return line


def copy_run(folder: Path, to: Path, samples: bool = True) -> Path:
    """A copy of a run's output folder to tamper with, never the shared fixture's own files."""
    shutil.copytree(folder, to, ignore=None if samples else shutil.ignore_patterns("samples_*"))
    return to


def only(folder: Path, pattern: str) -> Path:
    (found,) = folder.rglob(pattern)
    return found


@pytest.fixture(scope="module")
def report(en_run, en_logprob_run, untrained_run, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("report") / "board"
    done = cli("report", en_run.folder, en_logprob_run.folder, untrained_run.folder, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done


def board(out: Path) -> dict:
    return json.loads((out / "leaderboard.json").read_text())


def per_document_p(sample: dict) -> tuple[float, float]:
    """p0, p1 from what the sample logged: the parsed answers (sampled) or the option log-likelihoods."""
    doc = sample["doc"]
    if sample["filter"] == "none":
        loglik = [float(resp[0][0]) for resp in sample["resps"]]
        on_a = [1 / (1 + math.exp(b - a)) for a, b in (loglik[:2], loglik[2:])]
        return tuple(q if doc["answer"] == doc["option_a"] else 1 - q for q in on_a)
    record = sample["documents"]
    return tuple(sum(a == doc["answer"] for a in answers) / len(answers)
                 for answers in (record["zeroshot"], record["selfalign"]))


def expected_figures(samples: list[dict]) -> dict[str, float]:
    """The paper's shares, recomputed here from the samples alone."""
    tolerance = 0.01 if samples[0]["filter"] == "none" else 0.0
    ps = [per_document_p(s) for s in samples]
    misaligned = [(p0, p1) for p0, p1 in ps if p0 < 1 - tolerance]
    up = [(p0, p1) for p0, p1 in misaligned if p1 - p0 > tolerance]
    down = [(p0, p1) for p0, p1 in misaligned if p0 - p1 > tolerance]
    share = (lambda part: len(part) / len(misaligned)) if misaligned else (lambda part: None)
    answers = [a for s in samples for a in s["documents"]["zeroshot"] + s["documents"]["selfalign"]]

    def invalid(prompt: str) -> float:
        given = [a for s in samples for a in s["documents"][prompt]]
        return sum(a is None for a in given) / len(given) if given else 0.0

    def valid_alignment(prompt: str) -> float | None:
        """The majority answer's share of the valid responses, over the documents with any (sampled runs)."""
        shares = []
        for s in samples:
            valid = [a for a in s["documents"][prompt] if a is not None]
            if valid:
                shares.append(valid.count(s["doc"]["answer"]) / len(valid))
        return sum(shares) / len(shares) if shares else None

    sampled = samples[0]["filter"] != "none"
    return {
        "documents": len(samples),
        "misaligned": len(misaligned) / len(ps),
        "improved": share(up),
        "decreased": share(down),
        "unchanged": share([p for p in misaligned if p not in up and p not in down]),
        "error_reduction": sum((p1 - p0) / (1 - p0) for p0, p1 in up) / len(up) if up else None,
        "zeroshot_alignment": sum(p0 for p0, _ in ps) / len(ps),
        "selfalign_alignment": sum(p1 for _, p1 in ps) / len(ps),
        "invalid_rate": sum(a is None for a in answers) / len(answers) if answers else 0.0,
        "zeroshot_invalid_rate": invalid("zeroshot"),
        "selfalign_invalid_rate": invalid("selfalign"),
        **({"zeroshot_valid_alignment": valid_alignment("zeroshot"),
            "selfalign_valid_alignment": valid_alignment("selfalign")} if sampled else {}),
        **{name: value for name, value in recompute(samples, placebo=False).items() if name in CHANCE and sampled},
        **({} if sampled else dict.fromkeys(CHANCE)),
    }


def all_samples(*runs: LmEvalRun) -> dict[tuple[str, str], list[dict]]:
    return {(Path(run.results["model_name"]).name, task): samples for run in runs for task, samples in
            run.samples.items()}


def markdown_rows(out: Path) -> dict[tuple[str, str, str], list[str]]:
    """(model, language name, strategy) -> the cells of its Table 1 row."""
    text = (out / "leaderboard.md").read_text()
    table = text.split("## Table 1")[1].split("\n## ")[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("|")]
    header, rows = rows[0], rows[2:]
    assert header[:5] == ["Model", "Language", "Country", "Strategy", "Docs"]
    return {(row[0], row[1], row[3]): row for row in rows}


def test_table_equals_a_recomputation_from_the_samples(report, en_run, en_logprob_run, untrained_run):
    out, _ = report
    samples = all_samples(en_run, en_logprob_run, untrained_run)
    rows = board(out)["rows"]
    assert {(row["model"], row["task"]) for row in rows} == set(samples)
    assert len({row["model"] for row in rows}) == 2 and {row["language"] for row in rows} == {"en", "ro"}
    markdown = markdown_rows(out)
    for row in rows:
        expected = expected_figures(samples[row["model"], row["task"]])
        for name, value in expected.items():
            reported = row["metrics"][name]["value"]
            assert reported == pytest.approx(value) if value is not None else reported is None, (row["task"], name)
        cells = markdown[row["model"], {"en": "English", "ro": "Romanian"}[row["language"]], row["strategy"]]
        assert cells[4] == str(expected["documents"])
        assert cells[5] == ("n/a (log-likelihoods)" if row["task"].endswith("_logprob") else "1")
        names = ["zeroshot_alignment", "selfalign_alignment", "misaligned", "improved", "improved_by_chance",
                 "improved_beyond_chance", "target_specificity", "unchanged", "decreased", "decreased_by_chance",
                 "error_reduction", "zeroshot_invalid_rate", "selfalign_invalid_rate"]
        assert len(cells[6:]) == len(names)
        for cell, name in zip(cells[6:], names, strict=True):
            # target_specificity is recomputed from the samples in test_countries.py
            value = expected[name] if name in expected else row["metrics"][name]["value"]
            assert cell.split(" [")[0] == ("n/a" if value is None else f"{100 * value:.1f}"), (row["task"], name)


def test_runs_whose_zero_shot_answers_are_mostly_invalid_are_flagged(report, en_run, tmp_path):
    """Above 20% invalid zero-shot responses, the improvement is format learning: the reader must not miss it."""
    out, _ = report
    text = (out / "leaderboard.md").read_text()
    for row in board(out)["rows"]:
        invalid = row["metrics"]["zeroshot_invalid_rate"]["value"]
        assert row["format_learning"] == (invalid > 0.2), row["task"]
        line = f"**{row['model']}, {row['task']}: "
        assert (line in text) == row["format_learning"], row["task"]
    assert any(row["format_learning"] for row in board(out)["rows"])  # the tiny model's zero-shot answers
    assert text.index("## ⚠ Answers that do not count") < text.index("## Table 1")
    calm = copy_run(en_run.folder, tmp_path / "calm")
    for samples in calm.rglob("samples_*.jsonl"):
        samples.unlink()
    results = only(calm, "results_*.json")
    data = json.loads(results.read_text())
    for key in data["results"]["wvs_selfalign_en"]:
        if key.startswith("zeroshot_invalid_rate,"):
            data["results"]["wvs_selfalign_en"][key] = 0.1
    results.write_text(json.dumps(data))
    done = cli("report", calm, "--out", tmp_path / "board")
    assert done.returncode == 0, done.stderr
    assert "Answers that do not count" not in (tmp_path / "board" / "leaderboard.md").read_text()


def test_every_share_has_a_bootstrap_interval_around_it(report):
    out, _ = report
    data = board(out)
    assert data["bootstrap"]["resamples"] == 1000
    for row in data["rows"]:
        assert row["samples"] is True
        for name, metric in row["metrics"].items():
            if metric["higher_is_better"] is None:  # a count
                assert metric["ci"] is None and isinstance(metric["value"], int), name
            elif metric["value"] is None:
                continue
            else:
                low, high = metric["ci"]
                assert low - 1e-12 <= metric["value"] <= high + 1e-12, (row["task"], name)
        assert "zeroshot_js" in row["metrics"] and "selfalign_soft_gap" in row["metrics"]


def test_categories_partition_the_documents(report, en_run, en_logprob_run, untrained_run):
    out, _ = report
    samples = all_samples(en_run, en_logprob_run, untrained_run)
    for row in board(out)["rows"]:
        logged = samples[row["model"], row["task"]]
        categories = row["categories"]
        assert set(categories) == {s["doc"]["category"] for s in logged}
        assert sum(c["documents"] for c in categories.values()) == len(logged)
        for name, figures in categories.items():
            in_category = [s for s in logged if s["doc"]["category"] == name]
            expected = expected_figures(in_category)
            tolerance = 0.01 if in_category[0]["filter"] == "none" else 0.0
            improved = sum(p0 < 1 - tolerance and p1 - p0 > tolerance for p0, p1 in map(per_document_p, in_category))
            assert figures["improved_examples"] == improved
            assert figures["misaligned"] == pytest.approx(expected["misaligned"])


def test_provenance_names_model_version_dataset_and_settings(report, en_run):
    out, _ = report
    row = next(r for r in board(out)["rows"] if r["task"] == "wvs_selfalign_en")
    provenance = row["provenance"]
    derived = en_run.results["configs"]["wvs_selfalign_en"]["provenance"]
    assert provenance["model"] == en_run.results["model_name"]  # the full path stays in the provenance
    assert provenance["lm_eval_version"] == en_run.results["lm_eval_version"]
    assert provenance["dataset_fingerprint"] == derived["dataset_fingerprint"]
    assert provenance["seeds"]["fewshot_seed"] == en_run.results["config"]["fewshot_seed"]
    assert provenance["generation"]["repeats"] == 10 and provenance["generation"]["generation_kwargs"]["do_sample"]
    assert derived["dataset_fingerprint"] in (out / "leaderboard.md").read_text()


def test_figures_are_real_images_of_the_expected_size(report):
    out, _ = report
    rows = board(out)["rows"]
    figures = board(out)["figures"]
    series = {(row["model"], row["strategy"]) for row in rows}
    categories = {category for row in rows for category in row["categories"]}
    # The bar figures grow by a fixed height per bar: one per run, one per category and model.
    sizes = {**FIGURE_SIZES, "table1": (1400, MARGIN + len(rows) * BAR_HEIGHT),
             "categories": (1400, MARGIN + len(series) * (90 + BAR_HEIGHT * len(categories)))}
    assert set(figures) == set(sizes)
    for name, size in sizes.items():
        assert figures[name]["file"] == f"{name}.png"
        with Image.open(out / f"{name}.png") as image:
            assert image.format == "PNG" and image.size == size
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20, name
        assert f"]({name}.png)" in (out / "leaderboard.md").read_text()


def test_explain_runs_get_the_table_of_improved_probes_with_explanations(report, pakistan_run, tmp_path):
    assert not (report[0] / "explanations.md").exists()
    done = cli("report", pakistan_run.folder, "--out", tmp_path / "out", "--bootstrap", "20")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "explanations.md").read_text()
    assert "wvs_selfalign_en_explain (PAK)" in text and "wvs_selfalign_en_persona" not in text
    improved = [s["doc"]["id"] for s in pakistan_run.samples["wvs_selfalign_en_explain"]
                if s["documents"]["p0"] < 1 and s["documents"]["p1"] > s["documents"]["p0"]]
    listed = [line.split(" | ")[0].removeprefix("| ").split(":")[0] for line in text.splitlines()
              if line.startswith("| Q")]
    assert improved and listed == improved
    assert "](explanations.md)" in (tmp_path / "out" / "leaderboard.md").read_text()


def test_report_folder_appears_whole_and_replaces_an_old_report(report, en_run, tmp_path):
    out, done = report
    assert sorted(p.name for p in out.parent.iterdir()) == ["board"]
    assert "subset of the documents (--limit)" in done.stderr
    old = shutil.copytree(out, tmp_path / "board")
    again = cli("report", en_run.folder, "--out", old, "--bootstrap", "50")
    assert again.returncode == 0, again.stderr
    assert [row["task"] for row in board(old)["rows"]] == ["wvs_selfalign_en"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board"]


def test_rows_read_over_processes_are_those_built_in_one(en_run, en_logprob_run, untrained_run, monkeypatch):
    folders = [en_run.folder, en_logprob_run.folder, untrained_run.folder]
    monkeypatch.setattr(processes, "cores", lambda: 2)
    loaded, spread = rows.read(folders, 200)
    monkeypatch.setattr(processes, "cores", lambda: 1)
    alone = runs.load(folders)
    built = rows.build(alone, 200)
    assert len(spread) == 4 and loaded.warnings == alone.warnings
    assert json.dumps(to_json(spread, [], [], {}, 200)) == json.dumps(to_json(built, [], [], {}, 200))


def test_without_samples_the_results_figures_are_shown_and_the_gap_said(en_run, tmp_path):
    folder = copy_run(en_run.folder, tmp_path / "run", samples=False)
    done = cli("report", folder, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "no logged samples" in done.stderr
    row = board(tmp_path / "out")["rows"][0]
    reported = {key.split(",")[0]: value for key, value in en_run.results["results"]["wvs_selfalign_en"].items()
                if "," in key and "_stderr" not in key}
    assert row["metrics"]["improved"] == {"value": reported["improved"], "ci": None, "higher_is_better": True}
    assert row["categories"] is None and row["samples"] is False
    markdown = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "no logged samples" in markdown and "not drawn" in markdown
    assert (tmp_path / "out" / "table1.png").exists() and not (tmp_path / "out" / "categories.png").exists()


def test_identical_copies_count_once_and_mixed_datasets_are_flagged(en_logprob_run, untrained_run, tmp_path):
    copy_run(en_logprob_run.folder, tmp_path / "a")
    copy_run(en_logprob_run.folder, tmp_path / "b")
    other = copy_run(untrained_run.folder, tmp_path / "c", samples=False)
    results = only(other, "results_*.json")
    data = json.loads(results.read_text())
    data["configs"]["wvs_selfalign_en_logprob"]["provenance"]["dataset_fingerprint"] = "0123456789abcdef"
    results.write_text(json.dumps(data))
    done = cli("report", tmp_path / "a", tmp_path / "b", other, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "counted once" in done.stderr
    assert "different dataset versions" in done.stderr
    assert "different dataset versions" in (tmp_path / "out" / "leaderboard.md").read_text()
    assert len(board(tmp_path / "out")["rows"]) == 3


def tamper_truncated_results(run: Path, other: Path) -> None:
    results = only(run, "results_*.json")
    results.write_text(results.read_text()[:500])


def tamper_truncated_samples(run: Path, other: Path) -> None:
    samples = next(run.rglob("samples_*.jsonl"))
    samples.write_text(samples.read_text()[:-100])


def tamper_other_task(run: Path, other: Path) -> None:
    results = only(run, "results_*.json")
    data = json.loads(results.read_text())
    for task in list(data["configs"]):
        data["configs"]["arc_easy"] = {"task": "arc_easy", "metadata": {"version": 1.0}}
        data["results"]["arc_easy"] = {"acc,none": 0.5}
        del data["configs"][task], data["results"][task]
    results.write_text(json.dumps(data))


def tamper_missing_document(run: Path, other: Path) -> None:
    samples = next(run.rglob("samples_*.jsonl"))
    samples.write_text("\n".join(samples.read_text().splitlines()[1:]) + "\n")


def tamper_other_runs_samples(run: Path, other: Path) -> None:
    """Samples of the same task, language and size, but from the other model: the figures do not recompute."""
    pattern = "samples_wvs_selfalign_en_logprob_*.jsonl"
    only(run, pattern).write_text(only(other, pattern).read_text())


def tamper_different_second_run(run: Path, other: Path) -> None:
    results = only(run, "results_*.json")
    stamped = results.with_name("results_2000-01-01T00-00-00.json")
    data = json.loads(results.read_text())
    data["results"]["wvs_selfalign_en_logprob"]["improved,none"] = 0.123
    stamped.write_text(json.dumps(data))


BAD_INPUTS = {
    "truncated results": (tamper_truncated_results, "not valid JSON"),
    "truncated samples": (tamper_truncated_samples, "not valid JSON"),
    "other task": (tamper_other_task, "no wvs_selfalign task"),
    "samples missing a document": (tamper_missing_document, "do not match: 9 logged documents, 10 in the results"),
    "samples of another model": (tamper_other_runs_samples, "recomputed from the samples"),
    "two different runs": (tamper_different_second_run, "two different runs of wvs_selfalign_en_logprob"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_exits_2_with_a_clear_message_and_no_folder(case, en_logprob_run, untrained_run, tmp_path):
    tamper, message = BAD_INPUTS[case]
    run = copy_run(en_logprob_run.folder, tmp_path / "run")
    tamper(run, untrained_run.folder)
    line = error(cli("report", run, "--out", tmp_path / "out"))
    assert message in line and str(run) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_empty_folder_missing_path_and_foreign_output_folder_exit_2(en_run, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no lm-eval results (results_*.json) in this folder" in error(
        cli_process("report", tmp_path / "empty", "--out", tmp_path / "out"))
    assert "no such file or folder" in error(cli_process("report", tmp_path / "nowhere", "--out", tmp_path / "out"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert "not a report folder" in error(cli_process("report", en_run.folder, "--out", tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine"]
