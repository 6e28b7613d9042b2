"""The report and the gate as runs grow: 1, 14, 70 and 700 full-size task runs, as a leaderboard would hold them.

One full-size run (every English probe, 10 + 10 sampled responses each) of the scripted `wvs-test-copier` backend
(tests/scripted_models.py: no model, so the run takes seconds), or an lm-eval output folder given with --run, is
copied under other model names (its samples file hard-linked), and `python -m culture_metrics report` reads 1, 14,
70, ... of the copies with the default 1,000 resamples; `gate` compares one copy with another. Each command runs in
its own process, timed with its peak memory. Run from the repository root:

    python -m benchmarks.report_scale [--sizes 1 14 70 700] [--run FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, TASKS, Child, machine, measure
from culture_metrics.reporting.markdown import table


def scripted_run(out: Path) -> Path:
    """A full-size run of the scripted backend: every English probe."""
    measure([sys.executable, str(ROOT / "tests" / "scripted_models.py"), "run", "--model", "wvs-test-copier",
             "--tasks", "wvs_selfalign_en", "--include_path", str(TASKS), "--log_samples", "--output_path", str(out)])
    return out


def copies(run: Path, count: int, into: Path) -> list[Path]:
    """`count` copies of the run's one results file, each under its own model name, in a folder of its own."""
    (results,) = sorted(run.rglob("results_*.json"))
    data = json.loads(results.read_text(encoding="utf-8"))
    folders = []
    for index in range(count):
        folder = into / f"model-{index:03d}"
        folder.mkdir(parents=True)
        (folder / results.name).write_text(json.dumps({**data, "model_name": folder.name}), encoding="utf-8")
        for samples in results.parent.glob(f"samples_*{results.stem.removeprefix('results')}.jsonl"):
            os.link(samples, folder / samples.name)
        folders.append(folder)
    return folders


def _row(label: str, runs: int, child: Child) -> list[str]:
    return [label, f"{child.cpu_seconds:.1f}", f"{1000 * child.cpu_seconds / runs:.0f}", f"{child.seconds:.1f}",
            f"{child.peak_mib:.0f}", f"{child.background_cores:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 14, 70, 700], help="task runs per report")
    parser.add_argument("--run", type=Path, help="an lm-eval output folder of one task run with logged samples")
    args = parser.parse_args()
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run = args.run or scripted_run(work / "run")
        folders = copies(run, max(max(args.sizes), 2), work / "copies")
        documents = sum(1 for _ in next(folders[0].glob("samples_*.jsonl")).open(encoding="utf-8"))
        command = [sys.executable, "-m", "culture_metrics"]
        rows = []
        for size in args.sizes:
            child = measure([*command, "report", *map(str, folders[:size]), "--out", str(work / f"report-{size}")])
            rows.append(_row(f"report, {size} run{'s' * (size > 1)}", size, child))
        rows.append(_row("gate, 1 run against 1", 1, measure([*command, "gate", str(folders[1]), "--baseline",
                                                              str(folders[0])])))
    print(f"\nfull-size task runs of {documents} documents, 1000 resamples\n")
    print(table(["command", "CPU s", "CPU ms per run", "wall s", "peak MiB", "other processes' cores"], rows))


if __name__ == "__main__":
    main()
