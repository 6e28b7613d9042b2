"""Runs of the served backends: through the real command line (`served` gives lm_eval_command's options) or
in-process through lm-eval's Python API (`evaluate`), where the behaviour under test lives in the backend.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from conftest import ROOT


TASK = "wvs_selfalign_en"
CHAT = ("--apply_chat_template",)


def served(model: object, url: str, backend: str = "served-chat", **extra: object) -> dict:
    """lm_eval_command's options for a served backend (one request at a time: API backends take batch size 1)."""
    args = ",".join([f"model={model}", f"base_url={url}", *(f"{key}={value}" for key, value in extra.items())])
    return {"backend": backend, "model_args": args, "batch_size": 1}


@cache
def task_manager(metadata: str) -> Any:
    """The project's tasks, with `--metadata` (as JSON): simple_evaluate applies it only to a TaskManager it makes."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(ROOT / "lm_eval_tasks"), metadata=json.loads(metadata))


def evaluate(url: str, backend: str = "served-chat", limit: int = 2, tasks: tuple[str, ...] = (TASK,),
             metadata: dict | None = None, use_cache: str | None = None, torch_seed: int = 1234,
             **model_args: object) -> dict:
    """lm-eval's simple_evaluate on a served backend, as `wvs-lm-eval run` would run it, samples logged."""
    import lm_eval

    import culture_metrics.backends  # noqa: F401  (registers the backends)

    args = ",".join(f"{key}={value}" for key, value in {"model": "stand-in", "base_url": url, **model_args}.items())
    return lm_eval.simple_evaluate(model=backend, model_args=args, tasks=list(tasks), limit=limit,
                                   apply_chat_template=backend == "served-chat", log_samples=True,
                                   task_manager=task_manager(json.dumps(metadata or {})), use_cache=use_cache,
                                   torch_random_seed=torch_seed)


def responses(run: Any, task: str = TASK) -> list[list[str]]:
    """The raw responses of every request of every document, in document and request order: from a command-line
    run (LmEvalRun) or an in-process one (simple_evaluate's dict).
    """
    rows = run["samples"][task] if isinstance(run, dict) else run.samples[task]
    return [resps for row in sorted(rows, key=lambda row: row["doc_id"]) for resps in row["resps"]]
