"""The project's commands for the tests: a `main([...])` called in this process, or the real command.

Both return what the command left: its exit code, stdout and stderr. In-process, a call spares a new interpreter and
the command's imports; the real command is kept for the checks of the command itself.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


ROOT = Path(__file__).resolve().parents[1]


def run_main(main: Callable[[Sequence[str]], int], *args: str | Path) -> subprocess.CompletedProcess:
    """`main(args)` with its output captured; an argument error's exit (argparse) is its exit code."""
    argv = list(map(str, args))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def run_module(module: str, *args: str | Path) -> subprocess.CompletedProcess:
    """`python -m module args` in a new process."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, timeout=600, check=False)
