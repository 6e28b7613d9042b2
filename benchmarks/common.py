"""What every model benchmark shares: the default model, child processes measured for time and peak memory, lm_eval
runs read back, and the machine the figures were measured on.

Each measured program runs in its own child process, so its peak resident memory (from `wait4`) is its own and no
model or cache stays warm from one measurement to the next.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from collections.abc import Sequence


ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "lm_eval_tasks"
SHARED_PROBES = ROOT.parent / "shared" / "data" / "value-probing" / "probes.zip"
# lm_eval's tqdm line for the model's own work, e.g. "Running generate_until requests: 100%|...| 80/80 [01:23<00:00"
MODEL_PHASE = re.compile(r"Running (\w+) requests: 100%\|[^\[]*\[(?:(\d+):)?(\d+):(\d+)<")


@dataclass
class Child:
    """One finished child process: wall seconds, peak resident memory, what it printed, how many cores other
    processes kept busy meanwhile (the machine is shared: a busy neighbour slows every figure down), and its own CPU
    seconds, which a busy neighbour barely changes.
    """

    seconds: float
    peak_mib: float
    output: str
    background_cores: float
    samples: list[dict] = field(default_factory=list)
    cpu_seconds: float = 0.0

    @property
    def model_seconds(self) -> float | None:
        """Seconds lm_eval spent in the model's requests (its progress bar), without start-up and scoring.

        tqdm may redraw a finished bar, so each kind of request counts once, at its last drawing.
        """
        last = {phase: (h, m, s) for phase, h, m, s in MODEL_PHASE.findall(self.output.replace("\r", "\n"))}
        return sum(int(h or 0) * 3600 + int(m) * 60 + int(s) for h, m, s in last.values()) if last else None


def child_env() -> dict[str, str]:
    """The benchmarks run offline: probes from ../shared when it is beside the checkout, no hub access."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if not env.get("WVS_PROBES") and SHARED_PROBES.exists():
        env["WVS_PROBES"] = str(SHARED_PROBES)
    return env


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot, all processes together."""
    user, nice, system, _, _, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(command: list[str]) -> Child:
    """Run `command` to the end; fail loudly with its output if it fails."""
    start, busy = time.perf_counter(), busy_seconds()
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    others = busy_seconds() - busy - usage.ru_utime - usage.ru_stime
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must be told
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output[-4000:]}")
    return Child(seconds, usage.ru_maxrss / 1024, output, max(others, 0.0) / seconds,
                 cpu_seconds=usage.ru_utime + usage.ru_stime)


def lm_eval(
    model: str, task: str, limit: int | list[int], out: Path, *extra: str, batch_size: int | str = 1,
    backend: str = "hf", model_args: str | None = None,
) -> Child:
    """One `lm_eval run` as the README gives it, with its logged samples in document order.

    `limit`: the task's first documents, or a list of document indices (lm_eval's `--samples`). The project's
    backends run through `wvs-lm-eval`, which registers them. `model_args` replaces `pretrained=MODEL`.
    """
    documents = (
        ["--samples", json.dumps({task: limit})] if isinstance(limit, list) else ["--limit", str(limit)]
    )
    from culture_metrics.backends import NAMES

    command = "culture_metrics.backends.wvs_lm_eval" if backend in NAMES else "lm_eval"
    child = measure([
        sys.executable, "-m", command, "run", "--model", backend, "--model_args", model_args or f"pretrained={model}",
        "--include_path", str(TASKS), "--tasks", task, *documents, "--batch_size", str(batch_size),
        "--log_samples", "--output_path", str(out), *extra,
    ])
    rows = [json.loads(line) for path in sorted(out.rglob(f"samples_{task}_*.jsonl")) for line in path.open()]
    child.samples = sorted(rows, key=lambda row: row["doc_id"])
    return child


def prompts(sample: dict) -> list[str]:
    """The prompts of one logged sample, in request order (zero-shot first)."""
    return [sample["arguments"][key]["arg_0"] for key in sorted(sample["arguments"])]


def per_document(sample: dict) -> tuple[float, float]:
    """(p0, p1) of one logged sample."""
    record = sample["documents"]
    return record["p0"], record["p1"]


def mean_p(pairs: Sequence[tuple[float, float]]) -> str:
    """'mean p0 / mean p1' of per-document (p0, p1) pairs, as the tables show them."""
    return " / ".join(f"{sum(pair[i] for pair in pairs) / len(pairs):.2f}" for i in (0, 1))


def default_model() -> str:
    from scripts.default_model import prepare

    return str(prepare())


def machine() -> str:
    """The machine and versions, as a markdown list to write next to the figures."""
    import torch

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("torch", "transformers", "lm_eval", "numpy", "sacrebleu")
    )
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return "\n".join([
        f"- {cpu}, {os.cpu_count()} cores (torch threads: {torch.get_num_threads()}), {memory:.0f} GiB RAM, {gpu}",
        f"- {platform.platform()}, Python {platform.python_version()}",
        f"- {packages}",
    ])


def ratio(slow: float, fast: float) -> str:
    """`slow / fast`; lm_eval's progress bar counts whole seconds, so a run under a second has no ratio."""
    return f"{slow / fast:.1f}x" if fast else "n/a"


def rate(count: int, seconds: float) -> str:
    """Documents per second, or n/a for a run under the progress bar's one-second resolution."""
    return f"{count / seconds:.3f}" if seconds else "n/a"
