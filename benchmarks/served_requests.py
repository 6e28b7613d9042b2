"""The project's `served-chat` against lm-eval's stock `local-chat-completions`, on one model served locally by
transformers serve: requests per document, documents per second and distinct responses per prompt, same documents.

Each backend gets a server of its own (started here on loopback, stopped before the next), so the access log counts
exactly its requests and no server state carries over. transformers serve samples only when the model's generation
config sets `do_sample`, so the model is served from a folder of links to its files with that set. The model's own
temperature is used, as in the main job.

    python -m benchmarks.served_requests [--model DIR] [--limit 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import default_model, lm_eval, machine, rate
from benchmarks.serving import TransformersServe
from culture_metrics.cli.temperature import default_temperature
from culture_metrics.reporting.markdown import table


TASK = "wvs_selfalign_en"
BACKENDS = ("local-chat-completions", "served-chat")


def sampling_copy(model: Path, folder: Path) -> Path:
    """`model`'s files as links, with a generation config that samples."""
    folder.mkdir()
    for path in model.iterdir():
        if path.name != "generation_config.json":
            (folder / path.name).symlink_to(path.resolve())
    config_file = model / "generation_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    (folder / "generation_config.json").write_text(json.dumps({**config, "do_sample": True}))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument("--limit", type=int, default=5, help="documents (the task's first ones)")
    args = parser.parse_args()
    model = Path(args.model or default_model())
    temperature = default_temperature(str(model))

    print(machine(), flush=True)
    rows, documents = [], []
    with tempfile.TemporaryDirectory() as scratch:
        served = sampling_copy(model, Path(scratch) / model.name)
        for backend in BACKENDS:
            with TransformersServe(served, Path(scratch) / f"{backend}.log") as server:
                run = lm_eval(str(served), TASK, args.limit, Path(scratch) / backend, "--apply_chat_template",
                              "--gen_kwargs", f"temperature={temperature}", backend=backend,
                              model_args=f"model={served},base_url={server.url()}")
                requests = server.requests()
            documents.append([(sample["doc_id"], sample["arguments"]) for sample in run.samples])
            prompts = [resps for sample in run.samples for resps in sample["resps"]]
            distinct = sum(len(set(resps)) for resps in prompts) / len(prompts)
            collapsed = sum(len(set(resps)) == 1 for resps in prompts) / len(prompts)
            rows.append([f"`{backend}`", str(requests), f"{requests / args.limit:.1f}", f"{run.seconds:.0f}",
                         rate(args.limit, run.seconds), f"{distinct:.1f}", f"{100 * collapsed:.0f}",
                         f"{run.background_cores:.1f}"])
            print(f"{backend}: {run.seconds:.0f} s, {requests} requests", file=sys.stderr, flush=True)
    assert documents[0] == documents[1], "the two backends were asked different documents or prompts"

    print(f"\n{TASK}, first {args.limit} documents, identical prompts, temperature {temperature}, "
          f"{model.name} behind transformers serve\n")
    print(table(["backend", "requests", "requests/doc", "wall s", "docs/s (wall)", "distinct responses per prompt",
                 "prompts with one response repeated %", "other processes' cores"], rows))


if __name__ == "__main__":
    main()
