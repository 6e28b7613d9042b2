"""OpenAI-compatible servers on loopback for the served-backend tests: the real `transformers serve`, and a minimal
stand-in for what it cannot show (a server that honours `n`). Each is stopped by the test that starts it.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class StandIn:
    """A server that honours `n`: each choice is "<seed>/<index>", so a test reads which draw produced it.

    It keeps every payload it received (`payloads`).
    """

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.payloads.append(payload)
                seed = payload.get("seed")
                words = random.Random(seed).choices(["agree", "disagree", "important", "not important"],
                                                    k=payload.get("n", 1))
                texts = [f"{word} {seed}/{index}" for index, word in enumerate(words)]
                chat = self.path.endswith("chat/completions")
                choices = [{"index": i, "finish_reason": "stop",
                            **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})}
                           for i, text in enumerate(texts)]
                body = json.dumps({"id": "stand-in", "object": "chat.completion", "choices": choices}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, endpoint: str = "chat/completions") -> str:
        return f"http://127.0.0.1:{self.port}/v1/{endpoint}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
