"""Where answered samples are kept: what the server said (raw text and the model it names), under a key made of
the request the sample was drawn with, so anything that changes what the server would answer (model, prompt,
generation settings, the sample's seed) changes the key, and the server's address and the post-processing applied
when reading (stop strings, `think_end_token`) do not: a rerun with other post-processing needs no request.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from lm_eval.api.model import hash_args

from culture_metrics.backends.served.answers import Answer
from culture_metrics.backends.served.patience import ServedFailure


NAMESPACE = "served-answer"


def sample_key(payload: dict) -> str:
    """The key of the sample a payload draws (its `n` aside: choice i of an `n` request is filed under the
    payload that asks for that sample alone).
    """
    request = {name: value for name, value in payload.items() if name != "n"}
    return hash_args(NAMESPACE, [json.dumps(request, sort_keys=True, default=str)])


def open_cache(path: str) -> Any:
    """The `cache=` file, read once now so that a damaged one stops the run before any request (and before
    SqliteDict's writer thread fails on it, with a traceback of its own).
    """
    from sqlitedict import SqliteDict

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise ServedFailure(f"the cache {path} cannot be read ({error}): move it away, or point cache= in "
                            f"--model_args at another file") from None
    return SqliteDict(path, autocommit=True)


def stored(answer: Answer) -> dict:
    return {"text": answer.text, "model": answer.model}


def read_stored(record: Any) -> Answer | None:
    """A cached sample, or None for anything not written by this version (it is asked again)."""
    if isinstance(record, dict) and isinstance(record.get("text"), str):
        return Answer(record["text"], record.get("model"))
    return None
