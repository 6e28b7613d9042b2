"""lm_eval runs for the tests: the real `lm_eval` command the way a user runs it, or its in-process twin.

`run_lm_eval` is the twin: it parses the same command line with lm-eval's own parser and configuration, runs what
lm-eval's `run` command runs (`simple_evaluate`, then the EvaluationTracker writes the same files), and returns the
same `LmEvalRun`. It spares each run a new interpreter, the index of lm-eval's own tasks and a model load: a
backend object is reused by every run with the same model arguments, as lm-eval's own tests do. `run_lm_eval_cli` starts the real command, for the tests whose behaviour lives in the command itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import scripted_models  # noqa: F401  (registers the tests' scripted backends)

import culture_metrics.backends  # noqa: F401  (registers the project's backends)
from culture_metrics import backends


if TYPE_CHECKING:
    from collections.abc import Iterator

    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager


ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "lm_eval_tasks"
# `lm_eval run` options the twin does not carry out (they publish or read a configuration file): refused, not ignored.
UNSUPPORTED = ("config", "wandb_args", "wandb_config_args", "trackio_args", "hf_hub_log_args")


@dataclass
class LmEvalRun:
    returncode: int
    output: str
    folder: Path
    results: dict = field(default_factory=dict)
    samples: dict[str, list[dict]] = field(default_factory=dict)  # task -> logged samples, by doc_id


def lm_eval_command(out: Path, model: Path | None, tasks: str, *extra: str, backend: str = "hf",
                    model_args: str | None = None, batch_size: int = 64, program: list[str] | None = None) -> list[str]:
    """`lm_eval run` (`wvs-lm-eval run` for the project's backends, or `program run`) on `model`, or with
    `model_args` as given.
    """
    module = "culture_metrics.backends.wvs_lm_eval" if backend in backends.NAMES else "lm_eval"
    return [
        *(program or [sys.executable, "-m", module]), "run",
        "--model", backend,
        "--model_args", model_args or f"pretrained={model},dtype=float32",
        "--batch_size", str(batch_size),
        "--include_path", str(TASKS),
        "--tasks", tasks,
        "--log_samples",
        "--output_path", str(out),
        *extra,
    ]


def run_lm_eval_cli(out: Path, model: Path | None, tasks: str, *extra: str, env: dict | None = None,
                    check: bool = True, **options: object) -> LmEvalRun:
    """Run lm_eval_command in a new process and read back what it wrote; `options` are lm_eval_command's."""
    done = subprocess.run(  # noqa: S603
        lm_eval_command(out, model, tasks, *extra, **options), cwd=ROOT, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=900, check=False)
    return read_run(out, done.returncode, done.stdout + done.stderr, check=check)


def run_lm_eval(out: Path, model: Path | None, tasks: str, *extra: str, env: dict | None = None, check: bool = True,
                **options: object) -> LmEvalRun:
    """lm_eval_command carried out in this process; what it prints and logs is `output`, an exception exit code 1."""
    argv = lm_eval_command(out, model, tasks, *extra, **options)
    output = io.StringIO()
    with environment(env or {}), captured(output):
        try:
            returncode = evaluate(argv[argv.index("run"):])
        except SystemExit as stop:  # lm-eval's argument parser refused the command line
            returncode = stop.code if isinstance(stop.code, int) else 1
        except Exception:  # noqa: BLE001  (the command's exit: the traceback is in the output, the code is 1)
            traceback.print_exc()
            returncode = 1
    return read_run(out, returncode, output.getvalue(), check=check)


def evaluate(argv: list[str]) -> int:
    """What `lm_eval run` does with `argv` (lm_eval/_cli/run.py), on the project's task index and the session's
    model objects.
    """
    from lm_eval import simple_evaluate
    from lm_eval._cli.harness import HarnessCLI
    from lm_eval.config.evaluate_config import EvaluatorConfig
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import handle_non_serializable, make_table

    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    cfg = EvaluatorConfig.from_cli(HarnessCLI()._parser.parse_args(argv))
    refused = [name for name in UNSUPPORTED if getattr(cfg, name)] + (
        ["include_path"] if Path(cfg.include_path) != TASKS else [])
    if refused:
        raise ValueError(f"run_lm_eval does not carry out {refused} in-process; use run_lm_eval_cli")
    tracker = EvaluationTracker(output_path=cfg.output_path)
    lm = backend(cfg.model, json.dumps(cfg.model_args, sort_keys=True), cfg.batch_size, cfg.max_batch_size, cfg.device)
    results = simple_evaluate(
        model=lm, model_args=cfg.model_args, tasks=cfg.tasks, num_fewshot=cfg.num_fewshot,
        batch_size=cfg.batch_size, max_batch_size=cfg.max_batch_size, device=cfg.device, use_cache=cfg.use_cache,
        cache_requests=cfg.cache_requests.get("cache_requests", False),
        rewrite_requests_cache=cfg.cache_requests.get("rewrite_requests_cache", False),
        delete_requests_cache=cfg.cache_requests.get("delete_requests_cache", False), limit=cfg.limit,
        samples=cfg.samples, check_integrity=cfg.check_integrity, write_out=cfg.write_out,
        log_samples=cfg.log_samples, evaluation_tracker=tracker, system_instruction=cfg.system_instruction,
        apply_chat_template=cfg.apply_chat_template, fewshot_as_multiturn=cfg.fewshot_as_multiturn,
        gen_kwargs=cfg.gen_kwargs, task_manager=project_tasks(cfg.metadata), verbosity=cfg.verbosity,
        predict_only=cfg.predict_only, random_seed=cfg.seed[0],
        numpy_random_seed=cfg.seed[1], torch_random_seed=cfg.seed[2], fewshot_random_seed=cfg.seed[3],
        confirm_run_unsafe_code=cfg.confirm_run_unsafe_code, metadata=cfg.metadata,
    )
    # simple_evaluate names a model object by its class; the command names it as given.
    results["config"]["model"] = tracker.general_config_tracker.model_source = cfg.model
    samples = results.pop("samples") if cfg.log_samples else None
    if cfg.show_config:
        print(json.dumps(results, indent=2, default=handle_non_serializable, ensure_ascii=False))
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"] if cfg.log_samples else ():
        tracker.save_results_samples(task_name=task, samples=samples[task])
    print(f"{cfg.model} ({cfg.model_args}), gen_kwargs: ({cfg.gen_kwargs}), limit: {cfg.limit}, "
          f"num_fewshot: {cfg.num_fewshot}, batch_size: {cfg.batch_size}")
    print(make_table(results))
    if "groups" in results:
        print(make_table(results, "groups"))
    return 0


@cache
def backend(name: str, model_args: str, batch_size: int | str, max_batch_size: int | None, device: str | None) -> LM:
    """One model object per backend and arguments for the session, built as simple_evaluate builds it."""
    from lm_eval.api.registry import get_model

    return get_model(name).create_from_arg_obj(
        json.loads(model_args), {"batch_size": batch_size, "max_batch_size": max_batch_size, "device": device})


def project_tasks(metadata: dict | None = None) -> TaskManager:
    """lm-eval's task index of the project's folder, with the run's task metadata (`--metadata` merged with the
    model arguments). lm-eval's own tasks are left out: indexing them costs seconds a run, and no task here uses one.
    """
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(TASKS), include_defaults=False, metadata=metadata)


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ with `env` set for the run, as the command's environment would be, then restored."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def captured(output: io.StringIO) -> Iterator[None]:
    """What the command would print: stdout, stderr, and the log records lm-eval and the project emit."""
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(levelname)-8s [%(name)s] %(message)s"))
    lm_eval_logger = logging.getLogger("lm_eval")
    loggers = [logging.getLogger()] + ([] if lm_eval_logger.propagate else [lm_eval_logger])
    level = lm_eval_logger.level
    lm_eval_logger.setLevel(logging.INFO)  # the command's level (lm_eval.utils.setup_logging)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        lm_eval_logger.setLevel(level)


def read_run(out: Path, returncode: int, output: str, check: bool = True) -> LmEvalRun:
    run = LmEvalRun(returncode, output, out)
    if check and returncode != 0:
        raise AssertionError(f"lm_eval failed ({returncode}):\n{run.output[-4000:]}")
    for results_file in sorted(out.rglob("results_*.json")):
        run.results = json.loads(results_file.read_text())
    for samples_file in sorted(out.rglob("samples_*.jsonl")):
        task = samples_file.name.removeprefix("samples_").rsplit("_", 1)[0]
        rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
        run.samples[task] = sorted(rows, key=lambda row: row["doc_id"])
    return run
