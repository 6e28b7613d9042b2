"""Answers that count: the valid-answer rate of each prompt format, with and without the chat template.

A response is valid when the parser reads one of the probe's two options in it. Zero-shot and self-aligned
responses are counted apart: if only the self-aligned ones are valid, the "improvement" measures format learning.
Every run scores the same documents, spread evenly over the English probes so that every WVS category is asked,
at the model's own default temperature.

    python -m benchmarks.answer_formats [--model DIR] [--documents 40]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from benchmarks.common import child_env, default_model, lm_eval, machine, mean_p, per_document
from culture_metrics.cli.spread import labelled_count, spread
from culture_metrics.cli.temperature import default_temperature
from culture_metrics.prompt import FORMATS
from culture_metrics.reporting.markdown import table


TASK = "wvs_selfalign_en"
CHAT = {False: [], True: ["--apply_chat_template"]}


def valid_share(samples: list[dict], prompt: str) -> tuple[int, int]:
    """(valid, all) responses of one prompt (`zeroshot` or `selfalign`) over the documents."""
    answers = [answer for sample in samples for answer in sample["documents"][prompt]]
    return sum(answer is not None for answer in answers), len(answers)


def empty_share(samples: list[dict]) -> tuple[int, int]:
    """Zero-shot responses with nothing visible in them, raw as the model wrote them."""
    raw = [response for sample in samples for response in sample["resps"][0]]
    return sum(not response.strip() for response in raw), len(raw)


def percent(part: tuple[int, int]) -> str:
    return f"{100 * part[0] / part[1]:.0f}% ({part[0]}/{part[1]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or hub id (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--documents", type=int, default=40, help="documents, spread over the categories")
    parser.add_argument("--backend", default="hf-prefix", help="lm-eval model backend (hf-prefix: same "
                        "distribution as hf, tests/test_hf_prefix.py, and several times faster)")
    args = parser.parse_args()
    model = args.model or default_model()
    temperature = default_temperature(model)
    os.environ["WVS_PROBES"] = child_env().get("WVS_PROBES", "")  # the task's probes, for counting its documents
    documents = spread(labelled_count(TASK), args.documents)

    print(machine(), flush=True)
    rows, scores = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for prompt_format in FORMATS:
            for chat, flags in CHAT.items():
                run = lm_eval(
                    model, TASK, documents, Path(scratch) / f"{prompt_format}-{chat}", *flags,
                    "--metadata", json.dumps({"format": prompt_format}), "--gen_kwargs", f"temperature={temperature}",
                    backend=args.backend,
                )
                zero, aligned = valid_share(run.samples, "zeroshot"), valid_share(run.samples, "selfalign")
                scores[(prompt_format, chat)] = (zero[0] / zero[1], aligned[0] / aligned[1])
                rows.append([
                    f"`{prompt_format}`", "yes" if chat else "no", percent(zero), percent(aligned),
                    percent(empty_share(run.samples)), mean_p([per_document(s) for s in run.samples]),
                ])
    print(f"\n{TASK}, {len(documents)} documents spread over the categories, temperature {temperature}, "
          f"`--model {args.backend}`\n")
    print(table(
        ["format", "chat template", "valid zero-shot", "valid self-aligned", "empty zero-shot (raw)", "mean p0 / p1"],
        rows,
    ))
    best = max(scores, key=scores.get)
    print(f"\nbest: format `{best[0]}`, chat template {'on' if best[1] else 'off'} "
          f"({100 * scores[best][0]:.0f}% valid zero-shot)")


if __name__ == "__main__":
    main()
