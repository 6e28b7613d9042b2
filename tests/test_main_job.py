"""The README's main command, `bash scripts/main.sh`, end to end on the real default model (SmolLM2-135M)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import need_shared


ROOT = Path(__file__).resolve().parents[1]


def main_job(out: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/main.sh"], cwd=ROOT, env={**os.environ, "OUT": str(out), **env},  # noqa: S607
                          capture_output=True, text=True, timeout=1800, check=False)


def test_main_job_prints_a_real_report_of_the_default_model(default_model_run, tmp_path):
    need_shared()
    done = main_job(tmp_path / "main", LIMIT="2")
    assert done.returncode == 0, done.stderr[-3000:]
    board = json.loads((tmp_path / "main" / "report" / "leaderboard.json").read_text())
    (row,) = board["rows"]
    assert "SmolLM2-135M-Instruct" in row["model"]
    assert (row["task"], row["language"], row["country"], row["documents"]) == ("wvs_selfalign_en", "en", "USA", 2)
    assert row["metrics"]["responses"]["value"] == 2 * 2 * 10
    # the collapse guard does not fire on hf-prefix samples of the default model
    assert row["metrics"]["collapsed"]["value"] <= 0.5 and "look collapsed" not in done.stdout
    assert done.stdout == (tmp_path / "main" / "report" / "leaderboard.md").read_text()
    table_row = next(line for line in done.stdout.splitlines() if line.startswith("| ") and "SmolLM2" in line)
    assert "| English | USA | chrf | 2 |" in table_row
    assert all((tmp_path / "main" / "report" / f"{name}.png").stat().st_size > 0 for name in board["figures"])
    assert len(list((tmp_path / "main" / "wvs_probes" / "data").glob("*.parquet"))) == 14


def test_main_job_runs_any_model_given_in_one_variable(tiny_model, tmp_path):
    need_shared()
    done = main_job(tmp_path / "main", LIMIT="3", MODEL=str(tiny_model))
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads((tmp_path / "main" / "report" / "leaderboard.json").read_text())["rows"]
    assert row["model"] == tiny_model.name and row["documents"] == 3  # a folder by its own name
    assert "SmolLM2" not in done.stderr
