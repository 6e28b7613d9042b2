"""Run the real `lm_eval` command the way a user does, and read back what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from culture_metrics import backends


ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LmEvalRun:
    returncode: int
    output: str
    folder: Path
    results: dict = field(default_factory=dict)
    samples: dict[str, list[dict]] = field(default_factory=dict)  # task -> logged samples, by doc_id


def lm_eval_command(out: Path, model: Path | None, tasks: str, *extra: str, backend: str = "hf",
                    model_args: str | None = None, batch_size: int = 64, program: list[str] | None = None) -> list[str]:
    """`lm_eval run` (`wvs-lm-eval run` for the project's backends, or `program run`) on `model`, or with
    `model_args` as given.
    """
    module = "culture_metrics.backends.wvs_lm_eval" if backend in backends.NAMES else "lm_eval"
    return [
        *(program or [sys.executable, "-m", module]), "run",
        "--model", backend,
        "--model_args", model_args or f"pretrained={model},dtype=float32",
        "--batch_size", str(batch_size),
        "--include_path", str(ROOT / "lm_eval_tasks"),
        "--tasks", tasks,
        "--log_samples",
        "--output_path", str(out),
        *extra,
    ]


def run_lm_eval(out: Path, model: Path | None, tasks: str, *extra: str, env: dict | None = None, check: bool = True,
                **options: object) -> LmEvalRun:
    """Run lm_eval_command and read back what it wrote; `options` are lm_eval_command's."""
    done = subprocess.run(  # noqa: S603
        lm_eval_command(out, model, tasks, *extra, **options), cwd=ROOT, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=900, check=False)
    return read_run(out, done.returncode, done.stdout + done.stderr, check=check)


def read_run(out: Path, returncode: int, output: str, check: bool = True) -> LmEvalRun:
    run = LmEvalRun(returncode, output, out)
    if check and returncode != 0:
        raise AssertionError(f"lm_eval failed ({returncode}):\n{run.output[-4000:]}")
    for results_file in sorted(out.rglob("results_*.json")):
        run.results = json.loads(results_file.read_text())
    for samples_file in sorted(out.rglob("samples_*.jsonl")):
        task = samples_file.name.removeprefix("samples_").rsplit("_", 1)[0]
        rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
        run.samples[task] = sorted(rows, key=lambda row: row["doc_id"])
    return run
