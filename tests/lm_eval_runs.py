"""Run the real `lm_eval` command the way a user does, and read back what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LmEvalRun:
    returncode: int
    output: str
    folder: Path
    results: dict = field(default_factory=dict)
    samples: dict[str, list[dict]] = field(default_factory=dict)  # task -> logged samples, by doc_id


def run_lm_eval(out: Path, model: Path, tasks: str, *extra: str, env: dict | None = None, check: bool = True) -> LmEvalRun:
    backend = ["--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--batch_size", "64"]
    return run_command([sys.executable, "-m", "lm_eval", "run", *backend], out, tasks, *extra, env=env, check=check)


def run_command(head: list[str], out: Path, tasks: str, *extra: str, env: dict | None = None,
                check: bool = True) -> LmEvalRun:
    """`head` (lm_eval's command line and its backend's arguments) on `tasks`, samples logged into `out`."""
    command = [
        *head,
        "--include_path", str(ROOT / "lm_eval_tasks"),
        "--tasks", tasks,
        "--log_samples",
        "--output_path", str(out),
        *extra,
    ]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=900, check=False)
    run = LmEvalRun(done.returncode, done.stdout + done.stderr, out)
    if check and done.returncode != 0:
        raise AssertionError(f"lm_eval failed ({done.returncode}):\n{run.output[-4000:]}")
    for results_file in sorted(out.rglob("results_*.json")):
        run.results = json.loads(results_file.read_text())
    for samples_file in sorted(out.rglob("samples_*.jsonl")):
        task = samples_file.name.removeprefix("samples_").rsplit("_", 1)[0]
        rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
        run.samples[task] = sorted(rows, key=lambda row: row["doc_id"])
    return run
