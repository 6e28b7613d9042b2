"""What a run leaves behind, and what the project refuses to do: killed builds, unreachable sources, code from data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from conftest import PROBES_ZIP, ROOT, need_shared
from lm_eval_runs import run_lm_eval


KILLED_MID_WRITE = textwrap.dedent(
    """
    import os, signal
    import pyarrow.parquet as pq
    from culture_metrics.dataset import dataset_dir

    real = pq.write_table
    written = []

    def write_then_die(*args, **kwargs):
        real(*args, **kwargs)
        written.append(1)
        if len(written) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    pq.write_table = write_then_die
    dataset_dir()
    """
)


def test_a_build_killed_mid_write_leaves_the_cache_usable(tmp_path):
    need_shared()
    env = {**os.environ, "WVS_CACHE_DIR": str(tmp_path), "WVS_PROBES": str(PROBES_ZIP)}
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE], cwd=ROOT, env=env, capture_output=True, check=False)  # noqa: S603
    assert killed.returncode == -signal.SIGKILL
    datasets_dir = tmp_path / "datasets"
    assert not [p for p in datasets_dir.iterdir() if not p.name.startswith(".")]  # no half entry under its name
    rebuilt = subprocess.run(
        [sys.executable, "-c", "from culture_metrics.dataset import load_probes; print(len(load_probes('ro')['test']))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert int(rebuilt.stdout.split()[-1]) > 200


def test_unreachable_probe_source_says_how_to_point_at_a_local_copy(tiny_model, tmp_path):
    run = run_lm_eval(tmp_path / "out", tiny_model, "wvs_selfalign_en", "--limit", "1", check=False,
                      env={"WVS_PROBES": "https://127.0.0.1:9/probes.zip", "WVS_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode != 0
    assert "Set WVS_PROBES to a local folder of <lang>.csv files or to probes.zip" in run.output


def test_nothing_runs_code_from_data(built_dataset):
    """No remote code, no dataset loading scripts: the dataset is a card and parquet files only."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()  # noqa: S607
    for name in files:
        if name.endswith((".py", ".yaml", "_yaml", ".sh")) and name != "tests/test_robustness.py":
            assert "trust_remote_code" not in (ROOT / name).read_text(encoding="utf-8"), name
    assert sorted(p.relative_to(built_dataset).as_posix() for p in built_dataset.rglob("*") if p.is_file()) == [
        "README.md", *sorted(f"data/{p.name}" for p in (built_dataset / "data").iterdir())
    ]
    assert all(p.suffix == ".parquet" for p in (built_dataset / "data").iterdir())
