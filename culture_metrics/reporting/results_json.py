"""What lm-eval's results JSON says of one task run, read by name: its document counts, whether it is one of this
project's tasks, the model, and the provenance a report shows beside its figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from pathlib import Path


def counts(data: dict, task: str) -> dict:
    """lm-eval's document counts of a task: 'original' (available) and 'effective' (scored, after --limit)."""
    return (data.get("n-samples") or {}).get(task) or {}


# The key of a task's config (results["configs"][task]) under which this project's tasks write what they derived.
PROVENANCE = "provenance"


def is_selfalign(config: Any) -> bool:
    """Tasks of this project say so: their language in the metadata, the fingerprint of their probes beside it."""
    metadata = config.get("metadata") if isinstance(config, dict) else None
    derived = config.get(PROVENANCE) if isinstance(config, dict) else None
    return (isinstance(metadata, dict) and "language" in metadata
            and isinstance(derived, dict) and "dataset_fingerprint" in derived)


def model_name(data: dict) -> str:
    if data.get("model_name"):
        return str(data["model_name"])
    config = data.get("config") or {}
    args = model_args(config.get("model_args"))
    return str(args.get("pretrained") or args.get("model") or config.get("model") or "unknown model")


def model_args(args: Any) -> dict[str, Any]:
    """lm-eval keeps --model_args as given: a dict, or a 'key=value,key=value' string."""
    if isinstance(args, dict):
        return args
    if isinstance(args, str):
        return dict(part.split("=", 1) for part in args.split(",") if "=" in part)
    return {}


def provenance(data: dict, task: str, model: str) -> dict[str, Any]:
    config = data.get("config") or {}
    task_config = data["configs"][task]
    args = model_args(config.get("model_args"))
    derived = task_config[PROVENANCE]
    return {
        "model": model,
        "model_source": data.get("model_source") or config.get("model"),
        "model_args": args,
        "revision": args.get("revision") or config.get("model_revision"),
        "model_sha": config.get("model_sha") or None,
        "lm_eval_version": data.get("lm_eval_version"),
        "transformers_version": data.get("transformers_version"),
        "git_hash": data.get("git_hash"),
        "task_version": (data.get("versions") or {}).get(task),
        "dataset_fingerprint": derived["dataset_fingerprint"],
        "hub_dataset": derived.get("hub_dataset"),
        "format": derived.get("format"),
        "documents_available": derived.get("documents_available"),
        "skipped_unlabelled": derived.get("skipped_unlabelled"),
        "limit": config.get("limit"),
        "seeds": {name: config.get(name) for name in ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")},
        "generation": {
            "output_type": task_config.get("output_type"),
            "num_fewshot": (data.get("n-shot") or {}).get(task, task_config.get("num_fewshot")),
            "repeats": task_config.get("repeats"),
            # lm-eval writes a sampled task's settings with its --gen_kwargs already applied.
            "generation_kwargs": task_config.get("generation_kwargs") or {},
            "system_instruction_sha": data.get("system_instruction_sha"),
            "chat_template_sha": data.get("chat_template_sha"),
        },
        "date": data.get("date"),
    }


def stamp(path: Path) -> str:
    """lm-eval ends the names of all the files of one run with the same timestamp (which holds no '_')."""
    return path.stem.rsplit("_", 1)[-1]
