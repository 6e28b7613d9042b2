"""Why a larger `--batch_size` does not speed up the sampled tasks with lm_eval's `hf` backend: how long a batch of
the 10 samples of one prompt runs under lm_eval's stopping criteria and under per-sequence ones.

lm_eval's `MultiTokenEOSCriteria` (one per stop string) ends a batch only when every sequence in it holds the same
stop string; a batch whose samples end differently (some at the newline, some at the end-of-turn token) runs to
`max_gen_toks`. transformers' `StopStringCriteria` stops each sequence on its own. Both are given the same prompts
(the harness's, 10 copies each, as `--batch_size 10` batches them), the same seed and the same stop strings; the
responses, cut at the first stop string as lm_eval cuts them, must be identical.

    python -m benchmarks.batch_stopping [--model DIR] [--limit 10]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from lm_eval.models.utils_hf import stop_sequences_criteria

from benchmarks.common import child_env, default_model, machine, ratio
from benchmarks.naive_loop import SEED, cut, load, stop_at
from culture_metrics.reporting.markdown import table


TASK = "wvs_selfalign_en"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or hub id (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--limit", type=int, default=10, help="documents (the task's first ones)")
    args = parser.parse_args()
    model_path = args.model or default_model()
    os.environ.update(child_env())

    print(machine(), flush=True)
    model, tokenizer, task, docs, until = load(model_path, TASK, args.limit)
    kwargs, repeats = task.config.generation_kwargs, task.config.repeats
    prompts = [prompt for doc in docs for prompt in task.request_prompts(doc)]

    criteria = {
        "lm_eval `MultiTokenEOSCriteria`": lambda length: stop_sequences_criteria(tokenizer, until, length, repeats),
        "per-sequence `StopStringCriteria`": lambda length: stop_at(tokenizer, until),
    }
    measured = {}
    for label, build in criteria.items():
        steps, full, responses = 0, 0, []
        start = time.perf_counter()
        for number, prompt in enumerate(prompts):
            torch.manual_seed(SEED + number)  # each batch draws the same tokens under both, however long the last ran
            ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids.repeat(repeats, 1)
            with torch.no_grad():
                out = model.generate(
                    ids, attention_mask=torch.ones_like(ids), do_sample=kwargs["do_sample"],
                    temperature=kwargs["temperature"], max_new_tokens=kwargs["max_gen_toks"],
                    stopping_criteria=build(ids.shape[1]), pad_token_id=tokenizer.pad_token_id,
                )
            new = out.shape[1] - ids.shape[1]
            steps += new
            full += new == kwargs["max_gen_toks"]
            responses.append([cut(tokenizer.decode(row[ids.shape[1]:]), until) for row in out])
        measured[label] = (time.perf_counter() - start, steps, full, responses)

    (slow, *_, reference), (fast, *_, other) = measured.values()
    assert reference == other, "the two criteria gave different responses"
    rows = [
        [label, len(prompts), f"{steps / len(prompts):.1f}", f"{full} of {len(prompts)}", f"{seconds:.1f}"]
        for label, (seconds, steps, full, _) in measured.items()
    ]
    print(f"\n{TASK}, first {args.limit} documents: {len(prompts)} batches of {repeats} samples of one prompt, "
          f"max_gen_toks {kwargs['max_gen_toks']}, identical responses\n")
    print(table(["stopping", "batches", "decoding steps per batch", "batches run to max_gen_toks", "seconds"], rows))
    print(f"\nper-sequence stopping is {ratio(slow, fast)} faster")


if __name__ == "__main__":
    main()
