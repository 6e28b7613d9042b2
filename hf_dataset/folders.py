"""Folders written whole or not at all: written beside their place, swapped in, never over a foreign folder.

The dataset build, the default model's conversion and the report all write a folder a reader may open while it is
being rewritten, or that a failed run must not leave half-written. Here, the lowest layer, so that every package may
use it without importing upward.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def refuse_foreign(out: Path, ours: Callable[[Path], bool], error: Exception) -> None:
    """Raise `error` unless `out` is absent, an empty folder, or a folder `ours` recognises as this writer's."""
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or ours(out))):
        raise error


def _sibling(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name}.{kind}-{uuid.uuid4().hex}"


@contextmanager
def staged_folder(out: Path, *, keep_existing: bool = False) -> Iterator[Path]:
    """A new hidden sibling of `out` to write into; it becomes `out` only when the block ends without an error.

    An existing `out` is replaced, or with `keep_existing` kept and the new folder dropped (another process got
    there first). Whatever happens, no staged or retired folder is left behind.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(out, "partial")
    staging.mkdir()  # not mkdtemp: the folder keeps the umask's permissions, not 0700
    try:
        yield staging
        if not out.exists():
            os.replace(staging, out)
        elif not keep_existing:
            retired = _sibling(out, "old")
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
