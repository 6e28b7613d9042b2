"""The self-alignment protocol with plain transformers, without the harness: the baseline the harness is timed against.

The prompts come from the task object itself (lm_eval's TaskManager with the project's include path), so they are
the harness's prompts character for character; responses are cut at the first newline as the task's `until` does,
and scored by the task's own `process_results`. Three ways to draw the samples of one prompt:

- `naive`: one `generate` call per sample, one prompt at a time;
- `grouped`: one call per prompt drawing all its samples (`num_return_sequences`), the prompt computed per sample;
- `prefix`: the prompt computed once, its key/value cache copied to every sample, then all sampled together.

    python -m benchmarks.naive_loop --model DIR --limit 10 --mode naive --out result.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import torch
from lm_eval.tasks import TaskManager
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteriaList,
    StopStringCriteria,
)

from benchmarks.common import TASKS


SEED = 1234  # lm_eval's default torch and few-shot seeds


def stop_at(tokenizer: PreTrainedTokenizerBase, until: list[str]) -> StoppingCriteriaList:
    """The task's stop strings, built once: `generate(stop_strings=...)` rebuilds them at ~0.8 s a call here, which
    would make the loop look slow for a reason no careful user would leave in.
    """
    return StoppingCriteriaList([StopStringCriteria(tokenizer, until)])


def sample(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str, mode: str, repeats: int, kwargs: dict,
    until: list[str], stopping: StoppingCriteriaList,
) -> list[str]:
    """`repeats` responses to `prompt`, each cut at the first stop string as the harness cuts them."""
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    options = {
        "do_sample": kwargs["do_sample"], "temperature": kwargs["temperature"], "max_new_tokens": kwargs["max_gen_toks"],
        "stopping_criteria": stopping, "pad_token_id": tokenizer.pad_token_id,
    }
    with torch.no_grad():
        if mode == "naive":
            outputs = [model.generate(ids, attention_mask=torch.ones_like(ids), **options)[0] for _ in range(repeats)]
        elif mode == "grouped":
            outputs = model.generate(ids, attention_mask=torch.ones_like(ids), num_return_sequences=repeats, **options)
        else:
            cache = model(ids[:, :-1], use_cache=True).past_key_values
            cache.batch_repeat_interleave(repeats)
            ids = ids.repeat(repeats, 1)
            outputs = model.generate(ids, attention_mask=torch.ones_like(ids), past_key_values=cache, **options)
    texts = [tokenizer.decode(output[ids.shape[1]:], skip_special_tokens=False) for output in outputs]
    return [cut(text, until) for text in texts]


def cut(text: str, until: list[str]) -> str:
    for stop in until:
        text = text.split(stop, 1)[0]
    return text


class Setup(NamedTuple):
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    task: Any
    docs: list[dict]
    until: list[str]


def load(model_path: str, task_name: str, limit: int) -> Setup:
    """The model, the task as lm_eval builds it (fewshot seed set), its first `limit` documents, and its stop strings
    with the end-of-turn token that lm_eval adds to them.
    """
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    task = TaskManager(include_path=str(TASKS)).load([task_name])["tasks"][task_name]
    task.set_fewshot_seed(SEED)
    docs = list(task.test_docs().select(range(limit)))
    return Setup(model, tokenizer, task, docs, [*task.config.generation_kwargs["until"], tokenizer.eos_token])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--task", default="wvs_selfalign_en")
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--mode", choices=("naive", "grouped", "prefix"), default="naive")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    start = time.perf_counter()
    model, tokenizer, task, docs, until = load(args.model, args.task, args.limit)
    torch.manual_seed(SEED)
    ready = time.perf_counter()
    repeats, kwargs = task.config.repeats, task.config.generation_kwargs
    stopping = stop_at(tokenizer, until)
    rows = []
    for doc in docs:
        prompts = task.request_prompts(doc)
        responses = [sample(model, tokenizer, prompt, args.mode, repeats, kwargs, until, stopping) for prompt in prompts]
        record = task.process_results(doc, responses)["documents"]
        rows.append({"prompts": prompts, "responses": responses, "p0": record["p0"], "p1": record["p1"]})
    done = time.perf_counter()
    args.out.write_text(json.dumps({"setup_seconds": ready - start, "loop_seconds": done - ready, "documents": rows}))


if __name__ == "__main__":
    main()
