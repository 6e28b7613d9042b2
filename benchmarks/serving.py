"""`transformers serve` on a free loopback port, for the served benchmark and the served-backend tests: started on
construction once its health endpoint answers, its access log in a file, stopped by whoever started it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from typing_extensions import Self


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TransformersServe:
    """`transformers serve MODEL_DIR` on a free loopback port, its access log in a file."""

    def __init__(self, model: Path, log: Path) -> None:
        self.model, self.log, self.port = model, log, free_port()
        command = [str(Path(sys.executable).parent / "transformers"), "serve", str(model), "--host", "127.0.0.1",
                   "--port", str(self.port), "--log-level", "info"]
        with open(log, "w", encoding="utf-8") as handle:
            self.process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603
        self.wait_until_healthy()

    def url(self, endpoint: str = "chat/completions") -> str:
        return f"http://127.0.0.1:{self.port}/v1/{endpoint}"

    def wait_until_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"transformers serve was not healthy within {timeout} s")

    def requests(self, endpoint: str = "chat/completions") -> int:
        """Generation requests answered so far, from the access log."""
        return self.log.read_text(encoding="utf-8").count(f'"POST /v1/{endpoint} HTTP/1.1" 200')

    def stop(self) -> None:
        """SIGTERM: uvicorn finishes the requests in flight (each logged), then exits."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
