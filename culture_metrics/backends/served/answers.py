"""What counts as an answer: a choice the server says something readable in. Anything else is a failed request,
retried like a dropped connection and never cached: gateways and hosted APIs send `null` content (content filters,
truncation), choices without `index`, error objects under status 200 and bodies that are not JSON, and each of
those used to become an empty response scored as invalid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class Unreadable(Exception):
    """A response with status 200 and nothing readable in it; the message is the server's own words or field."""


@dataclass(frozen=True)
class Answer:
    """One choice as the server gave it: raw text (post-processing is applied when it is read) and the model the
    server says answered, where it says so.
    """

    text: str
    model: str | None = None


def read_answers(body: bytes, text_field: tuple[str, ...]) -> list[Answer]:
    """The choices of a response body, in index order; `text_field` is where a choice keeps its text."""
    try:
        outputs = json.loads(body)
    except ValueError:
        raise Unreadable(f"a body that is not JSON: {shorten(body.decode(errors='replace'))!r}") from None
    if not isinstance(outputs, dict):
        raise Unreadable(f"a body that is not a JSON object: {shorten(json.dumps(outputs))}")
    if outputs.get("error"):
        raise Unreadable(f"an error object: {error_words(outputs['error'])}")
    choices = outputs.get("choices")
    if not isinstance(choices, list) or not choices:
        raise Unreadable(f"no choices ('choices': {shorten(json.dumps(choices))})")
    texts: dict[int, str] = {}
    for choice in choices:
        index = choice.get("index") if isinstance(choice, dict) else None
        if not isinstance(index, int):
            raise Unreadable(f"a choice without an index: {shorten(json.dumps(choice))}")
        text = field(choice, text_field)
        if not isinstance(text, str):
            raise Unreadable(f"choice {index} has {'.'.join(text_field)} = {json.dumps(text)}"
                             f" (finish_reason {json.dumps(choice.get('finish_reason'))})")
        texts[index] = text
    if sorted(texts) != list(range(len(choices))):
        raise Unreadable(f"choices indexed {sorted(texts)}, not 0 to {len(choices) - 1}")
    model = outputs.get("model") if isinstance(outputs.get("model"), str) else None
    return [Answer(texts[i], model) for i in range(len(choices))]


def field(record: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        record = record.get(name) if isinstance(record, dict) else None
    return record


def error_words(error: Any) -> str:
    """What an error object says, however the server shapes it."""
    if isinstance(error, dict):
        return shorten(str(error.get("message") or json.dumps(error)))
    return shorten(str(error))


def shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
