"""Documents per second of the sampled self-alignment task: the harness at several batch sizes and with the
project's `hf-prefix` backend against plain transformers loops (one sample at a time, the 10 samples of a prompt
grouped, and grouped over one shared prompt cache), on the same documents, with the same prompts (checked) and the
same number of samples.

Every variant runs in its own process, one after the other; the table gives wall time (start-up included), the time
spent generating (lm_eval's progress bar; the loop's own clock), documents per second on both, the ratio to the
one-at-a-time loop, peak resident memory, and the cores other processes kept busy meanwhile.

    python -m benchmarks.sampling_speed [--model DIR] [--limit 10] [--batch-sizes 1 10 64]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from benchmarks.common import (
    Child,
    default_model,
    lm_eval,
    machine,
    mean_p,
    measure,
    per_document,
    prompts,
    rate,
    ratio,
)
from culture_metrics.reporting.markdown import table


TASK = "wvs_selfalign_en"
LOOPS = {
    "naive": "plain transformers, one prompt and one sample per `generate`",
    "grouped": "plain transformers, one `generate` per prompt for its 10 samples",
    "prefix": "plain transformers, prompt computed once, its cache shared by the 10 samples",
}


class Variant(NamedTuple):
    """One measured way of running the task: its process, the seconds spent generating, and what it produced."""

    label: str
    child: Child
    generating: float
    responses: int
    prompts: list[list[str]]
    p: list[tuple[float, float]]


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
    parser.add_argument("--batch-sizes", nargs="+", default=["1", "10", "64"], help="harness batch sizes")
    args = parser.parse_args()
    model = args.model or default_model()

    print(machine(), flush=True)
    measured = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for batch_size in args.batch_sizes:
            run = lm_eval(model, TASK, args.limit, folder / f"batch{batch_size}", batch_size=batch_size)
            measured.append(Variant(
                f"harness `--batch_size {batch_size}`", run, run.model_seconds,
                sum(len(group) for sample in run.samples for group in sample["resps"]),
                [prompts(sample) for sample in run.samples], [per_document(sample) for sample in run.samples],
            ))
            print(f"harness batch {batch_size}: {run.seconds:.0f} s", file=sys.stderr, flush=True)
        run = lm_eval(model, TASK, args.limit, folder / "hf-prefix", backend="hf-prefix")
        measured.append(Variant(
            "harness `--model hf-prefix`", run, run.model_seconds,
            sum(len(group) for sample in run.samples for group in sample["resps"]),
            [prompts(sample) for sample in run.samples], [per_document(sample) for sample in run.samples],
        ))
        print(f"harness hf-prefix: {run.seconds:.0f} s", file=sys.stderr, flush=True)
        for mode in LOOPS:
            child, result = loop(model, args.limit, mode, folder)
            documents = result["documents"]
            measured.append(Variant(
                f"loop `{mode}`", child, result["loop_seconds"],
                sum(len(group) for row in documents for group in row["responses"]),
                [row["prompts"] for row in documents], [(row["p0"], row["p1"]) for row in documents],
            ))
            print(f"loop {mode}: {child.seconds:.0f} s", file=sys.stderr, flush=True)

    for variant in measured:
        assert variant.prompts == measured[0].prompts, f"{variant.label}: prompts differ from the harness's"
    counts = {variant.responses for variant in measured}
    assert len(counts) == 1, f"different numbers of samples: {counts}"
    naive = next(variant for variant in measured if variant.label == "loop `naive`")
    rows = [
        [variant.label, f"{variant.child.seconds:.0f}", f"{variant.generating:.0f}",
         rate(args.limit, variant.child.seconds), rate(args.limit, variant.generating),
         ratio(naive.generating, variant.generating), f"{variant.child.peak_mib:.0f}", mean_p(variant.p),
         f"{variant.child.background_cores:.1f}"]
        for variant in measured
    ]
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
