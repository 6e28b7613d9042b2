"""The paper's Table 1 beside our figures: a run under one of its checkpoint names gets the paper's row for its
language beside its own, and any other run shows the paper's rows for reference, labelled as the paper's.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
from conftest import ROOT, SHARED, need_shared
from lm_eval_runs import run_lm_eval
from test_report import cli

from culture_metrics.reporting import paper


@pytest.fixture(scope="module")
def llama_named_run(tiny_model, tmp_path_factory):
    """The tiny model in a folder named as the paper's Llama-3 checkpoint, run on 3 English probes."""
    need_shared()
    folder = tmp_path_factory.mktemp("models") / "Meta-Llama-3-8B-Instruct"
    shutil.copytree(tiny_model, folder)
    return run_lm_eval(tmp_path_factory.mktemp("llama_run"), folder, "wvs_selfalign_en", "--limit", "3")


def test_the_committed_table_is_the_papers(tmp_path):
    need_shared()
    with open(SHARED / "paper" / "table1.csv", encoding="utf-8") as handle:
        published = list(csv.DictReader(handle))
    assert [(r.model, r.language, r.figures) for r in paper.load()] == [
        (row["model"], row["language"], {c: float(row[c]) for c in paper.CHANGES}) for row in published]


def test_a_run_of_a_paper_checkpoint_shows_the_papers_figures_beside_its_own(llama_named_run, tmp_path):
    out = tmp_path / "report"
    done = cli("report", llama_named_run.folder, "--out", out)
    assert done.returncode == 0, done.stderr
    board = json.loads((out / "leaderboard.json").read_text())
    (row,) = board["rows"]
    side = row["beside_the_paper"]
    assert side["model"] == "Llama3-8B" and side["paper"] == {"improved": 73, "unchanged": 9, "decreased": 18}
    for change in paper.CHANGES:
        ours = row["metrics"][change]["value"]
        assert side["ours"][change] == pytest.approx(100 * ours)
        assert side["difference"][change] == pytest.approx(100 * ours - side["paper"][change])
    text = (out / "leaderboard.md").read_text()
    line = next(line for line in text.splitlines() if line.startswith("| Meta-Llama-3-8B-Instruct | Llama3-8B |"))
    assert "/ 73 /" in line and "/ 9 /" in line and "/ 18 /" in line


def test_other_runs_show_the_papers_rows_labelled_as_the_papers(en_run, tmp_path):
    out = tmp_path / "report"
    assert cli("report", en_run.folder, "--out", out).returncode == 0
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["rows"][0]["beside_the_paper"] is None
    english = [r for r in board["paper_table1"]["rows"] if r["language"] == "en"]
    assert {r["paper_model"] for r in english} == {"Command R", "Llama3-8B", "Gemini-pro", "Mistral-7B", "BLOOMz-7b1"}
    assert "| paper: Llama3-8B | meta-llama/Meta-Llama-3-8B-Instruct | 0.6 | English | 73 | 9 | 18 |" in (
        out / "leaderboard.md").read_text()


def test_a_user_can_name_the_paper_model_of_a_run(en_run, tmp_path):
    model = json.loads(next(en_run.folder.rglob("results_*.json")).read_text())["model_name"]
    out = tmp_path / "report"
    done = cli("report", en_run.folder, "--out", out, "--paper-model", f"{model}=Command R")
    assert done.returncode == 0, done.stderr
    side = json.loads((out / "leaderboard.json").read_text())["rows"][0]["beside_the_paper"]
    assert side["paper"] == {"improved": 65, "unchanged": 27, "decreased": 8}
    bad = cli("report", en_run.folder, "--out", tmp_path / "bad", "--paper-model", f"{model}=GPT-5")
    assert bad.returncode == 2 and "PAPER_MODEL one of Command R, Llama3-8B" in bad.stderr


def test_reproduce_paper_dry_run_lists_every_run_of_the_paper():
    done = subprocess.run(["bash", "scripts/reproduce_paper.sh", "--dry-run"], cwd=ROOT, capture_output=True,  # noqa: S607
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    runs = [line for line in done.stdout.splitlines() if "wvs-lm-eval run" in line]
    open_rows = [r for r in paper.load() if not r.checkpoint.endswith("(API)")]
    assert len(runs) == len({r.model for r in open_rows})
    for row in open_rows:
        line = next(line for line in runs if f"pretrained={row.checkpoint}" in line)
        assert f"wvs_selfalign_{row.language}" in line and f"temperature={row.temperature:g}" in line
    assert "python -m culture_metrics report" in done.stdout
