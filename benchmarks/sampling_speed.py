"""Documents per second of the sampled self-alignment task: the harness at several batch sizes against plain
transformers loops (one sample at a time, the 10 samples of a prompt grouped, and grouped over one shared prompt
cache), on the same documents, with the same prompts (checked) and the same number of samples.

Every variant runs in its own process, one after the other; the table gives wall time (start-up included), the time
spent generating (lm_eval's progress bar; the loop's own clock), documents per second on both, the ratio to the
one-at-a-time loop, peak resident memory, and the cores other processes kept busy meanwhile.

    python -m benchmarks.sampling_speed [--model DIR] [--limit 10] [--batch-sizes 1 10 20 64]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import (
    Child, default_model, lm_eval, machine, measure, per_document, prompts, rate, ratio, table,
)

TASK = "wvs_selfalign_en"
LOOPS = {
    "naive": "plain transformers, one prompt and one sample per `generate`",
    "grouped": "plain transformers, one `generate` per prompt for its 10 samples",
    "prefix": "plain transformers, prompt computed once, its cache shared by the 10 samples",
}


def loop(model: str, limit: int, mode: str, folder: Path) -> tuple[Child, dict]:
    out = folder / f"{mode}.json"
    child = measure([
        sys.executable, "-m", "benchmarks.naive_loop", "--model", model, "--task", TASK, "--limit", str(limit),
        "--mode", mode, "--out", str(out),
    ])
    return child, json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or hub id (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--limit", type=int, default=10, help="documents (the task's first ones)")
    parser.add_argument("--batch-sizes", nargs="+", default=["1", "10", "20", "64"], help="harness batch sizes")
    args = parser.parse_args()
    model = args.model or default_model()

    print(machine(), flush=True)
    # (label, wall seconds, generating seconds, peak MiB, prompts per document, (p0, p1) per document)
    measured = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for batch_size in args.batch_sizes:
            run = lm_eval(model, TASK, args.limit, folder / f"batch{batch_size}", batch_size=batch_size)
            responses = sum(len(group) for sample in run.samples for group in sample["resps"])
            measured.append((f"harness `--batch_size {batch_size}`", run, run.model_seconds, responses,
                             [prompts(sample) for sample in run.samples], [per_document(s) for s in run.samples]))
            print(f"harness batch {batch_size}: {run.seconds:.0f} s", file=sys.stderr, flush=True)
        for mode in LOOPS:
            child, result = loop(model, args.limit, mode, folder)
            documents = result["documents"]
            responses = sum(len(group) for row in documents for group in row["responses"])
            measured.append((f"loop `{mode}`", child, result["loop_seconds"], responses,
                             [row["prompts"] for row in documents], [(row["p0"], row["p1"]) for row in documents]))
            print(f"loop {mode}: {child.seconds:.0f} s", file=sys.stderr, flush=True)

    reference = measured[0][4]
    for label, *_, documents_prompts, _ in measured:
        assert documents_prompts == reference, f"{label}: prompts differ from the harness's"
    counts = {responses for *_, responses, _, _ in measured}
    assert len(counts) == 1, f"different numbers of samples: {counts}"
    naive = next(row for row in measured if row[0] == "loop `naive`")
    rows = []
    for label, child, generating, _, _, p in measured:
        rows.append([
            label, f"{child.seconds:.0f}", f"{generating:.0f}", rate(args.limit, child.seconds),
            rate(args.limit, generating), ratio(naive[2], generating), f"{child.peak_mib:.0f}",
            f"{sum(p0 for p0, _ in p) / len(p):.2f} / {sum(p1 for _, p1 in p) / len(p):.2f}",
            f"{child.background_cores:.1f}",
        ])
    print(f"\n{TASK}, first {args.limit} documents, {counts.pop()} sampled responses in all, identical prompts\n")
    print(table(
        ["variant", "wall s", "generating s", "docs/s (wall)", "docs/s (generating)", "speed-up vs naive loop",
         "peak MiB", "mean p0 / p1", "other processes' cores"],
        rows,
    ))
    print()
    for mode, meaning in LOOPS.items():
        print(f"- loop `{mode}`: {meaning}")


if __name__ == "__main__":
    main()
