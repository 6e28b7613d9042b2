"""`report --eval-results`: the Hub's `.eval_results/*.yaml` files, parsed against the documented fields."""

from __future__ import annotations

import datetime
import json

import yaml
from test_report import cli, copy_run, only

from culture_metrics.reporting.eval_results import DATASET_PLACEHOLDER, HEADLINE_METRICS, SAMPLES_PLACEHOLDER


# The Hub's format: a list of entries with these fields (dataset.id, dataset.task_id, value required; source.url
# required when source is given).
ENTRY = {"dataset", "value", "date", "source", "notes", "verifyToken"}
DATASET = {"id", "task_id", "revision"}
SOURCE = {"url", "name", "user"}


def parse(path) -> dict:
    """The one entry of a file, checked against the format."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and len(entries) == 1, path
    (entry,) = entries
    assert set(entry) <= ENTRY and {"dataset", "value"} <= set(entry)
    assert set(entry["dataset"]) <= DATASET and {"id", "task_id"} <= set(entry["dataset"])
    assert isinstance(entry["value"], (int, float))
    datetime.date.fromisoformat(entry["date"])
    assert set(entry["source"]) <= SOURCE and entry["source"]["url"].startswith("https://")
    assert isinstance(entry["notes"], str)
    return entry


def test_one_file_per_task_and_headline_metric_with_placeholders_where_nothing_is_known(en_run, tmp_path):
    out = tmp_path / "hub"
    done = cli("report", en_run.folder, "--out", tmp_path / "board", "--bootstrap", "0", "--eval-results", out)
    assert done.returncode == 0, done.stderr
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    (row,) = board["rows"]
    files = sorted((out / row["model"].replace("/", "__")).glob("*.yaml"))
    assert [f.name for f in files] == sorted(f"wvs_selfalign_en__{m}.yaml" for m in HEADLINE_METRICS)
    for path, metric in zip(files, sorted(HEADLINE_METRICS), strict=True):
        entry = parse(path)
        assert entry["dataset"] == {"id": DATASET_PLACEHOLDER, "task_id": f"wvs_selfalign_en.{metric}"}
        assert entry["value"] == round(100 * row["metrics"][metric]["value"], 2)
        assert entry["source"]["url"] == SAMPLES_PLACEHOLDER
        for setting in ("strategy chrf", "temperature 1.0", row["provenance"]["dataset_fingerprint"]):
            assert setting in entry["notes"]


def test_a_run_on_a_hub_dataset_cites_its_id_and_the_commit_it_read(en_run, tmp_path):
    run = copy_run(en_run.folder, tmp_path / "run")
    results = only(run, "results_*.json")
    data = json.loads(results.read_text())
    data["configs"]["wvs_selfalign_en"]["provenance"]["hub_dataset"] = {"id": "org/wvs", "revision": "abc123",
                                                                         "pinned": "v1"}
    results.write_text(json.dumps(data))
    out = tmp_path / "hub"
    done = cli("report", run, "--out", tmp_path / "board", "--bootstrap", "0", "--eval-results", out,
               "--samples-url", "https://huggingface.co/datasets/org/details")
    assert done.returncode == 0, done.stderr
    for path in out.rglob("*.yaml"):
        entry = parse(path)
        assert entry["dataset"]["id"] == "org/wvs" and entry["dataset"]["revision"] == "abc123"
        assert entry["source"]["url"] == "https://huggingface.co/datasets/org/details"
