"""The `_logprob` variant against the 10-sample variant on the same documents: time, peak memory, and how closely
their per-document p0 and p1 agree (Spearman rank correlation, and mean absolute difference).

p0 and p1 mean the same in both: the model's weight on the country's majority answer, as a share of 10 sampled
responses (invalid ones count against it) or as the probability renormalised over the two options.

    python -m benchmarks.logprob_vs_sampled [--model DIR] [--limit 40] [--batch-size 1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from benchmarks.common import default_model, lm_eval, machine, mean_p, per_document, rate, ratio
from culture_metrics.reporting.markdown import table


TASK = "wvs_selfalign_en"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or hub id (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--limit", type=int, default=40, help="documents (the task's first ones)")
    parser.add_argument("--batch-size", default="1", help="lm_eval --batch_size (1: the documented CPU default)")
    args = parser.parse_args()
    model = args.model or default_model()

    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        runs = {
            variant: lm_eval(model, variant, args.limit, Path(scratch) / variant, batch_size=args.batch_size)
            for variant in (TASK, f"{TASK}_logprob")
        }
    sampled, logprob = runs.values()
    assert [s["doc"] for s in sampled.samples] == [s["doc"] for s in logprob.samples], "different documents"
    p_sampled = [per_document(sample) for sample in sampled.samples]
    p_logprob = [per_document(sample) for sample in logprob.samples]

    print(f"\n{TASK}, first {args.limit} documents, `--batch_size {args.batch_size}`\n")
    print(table(
        ["variant", "wall s", "scoring s", "docs/s (wall)", "docs/s (scoring)", "peak MiB", "mean p0 / p1",
         "other processes' cores"],
        [[f"`{name}`", f"{run.seconds:.0f}", f"{run.model_seconds:.0f}", rate(args.limit, run.seconds),
          rate(args.limit, run.model_seconds), f"{run.peak_mib:.0f}",
          mean_p(ps), f"{run.background_cores:.1f}"]
         for (name, run), ps in zip(runs.items(), (p_sampled, p_logprob), strict=False)],
    ))
    print(f"\n`_logprob` is {ratio(sampled.seconds, logprob.seconds)} faster end to end, "
          f"{ratio(sampled.model_seconds, logprob.model_seconds)} in the model's requests\n")
    print(table(
        ["per-document", "Spearman rho", "mean abs difference"],
        [[name, f"{spearmanr([p[i] for p in p_sampled], [p[i] for p in p_logprob]).statistic:.2f}",
          f"{np.mean([abs(a[i] - b[i]) for a, b in zip(p_sampled, p_logprob, strict=False)]):.2f}"]
         for i, name in enumerate(("p0 (zero-shot)", "p1 (self-aligned)"))],
    ))
    zero_shot = [response for sample in sampled.samples for response in sample["resps"][0]]
    print(f"\nempty zero-shot sampled responses (the model's first token is the newline `until` stops at): "
          f"{sum(not response.strip() for response in zero_shot)} of {len(zero_shot)}")


if __name__ == "__main__":
    main()
