"""How long a request is tried before the run stops: failures (no answer in time, a dropped connection, a 5xx, an
unreadable answer) get `max_retries` tries with exponential backoff; rate limits and overload (429, 503) wait as
long as the server asks (`Retry-After`, in seconds or as an HTTP date) and do not use up tries, under a budget of
`rate_limit_wait` seconds of waiting per request, because hosted APIs rate-limit as a matter of course and a run
should slow down rather than fail. A refusal (any other 4xx) is not tried again: it would be refused again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from aiohttp import ClientError
from tenacity import wait_exponential_jitter

from culture_metrics.backends.served.answers import Unreadable, error_words


if TYPE_CHECKING:
    from multidict import CIMultiDictProxy
    from tenacity import RetryCallState


log = logging.getLogger("lm_eval.culture_metrics.backends.served")

RATE_LIMITED = (429, 503)
RETRIED_CLIENT_ERRORS = (408, 409)  # the server's own time-out, a conflict: worth another try, unlike other 4xx
backoff = wait_exponential_jitter(multiplier=0.5, max=30, jitter=0.5)


class ServedFailure(RuntimeError):
    """A served run that cannot go on; its message is the one line the user reads."""


class HttpFailure(Exception):
    """A response with an error status, in the server's own words."""

    def __init__(self, status: int, words: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {words}")
        self.status, self.retry_after = status, retry_after

    @property
    def rate_limited(self) -> bool:
        return self.status in RATE_LIMITED

    @property
    def retried(self) -> bool:
        return self.rate_limited or self.status in RETRIED_CLIENT_ERRORS or self.status >= 500


def check_status(status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
    if status < 400:
        return
    text = body.decode(errors="replace")
    try:
        words = error_words(json.loads(text).get("error") or text)
    except (ValueError, AttributeError):
        words = error_words(text or "(no body)")
    raise HttpFailure(status, words, retry_after(headers.get("Retry-After")))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# asyncio's TimeoutError (what wait_for raises) is the builtin one only from Python 3.11 on.
SERVER_FAILURES = (HttpFailure, asyncio.TimeoutError, ClientError, Unreadable)


def is_retried(error: BaseException) -> bool:
    if isinstance(error, HttpFailure):
        return error.retried
    return isinstance(error, SERVER_FAILURES)


@dataclass
class Waiting:
    """The run's account of rate limits, for the log line of a run that spent its time waiting."""

    responses: int = 0
    seconds: float = 0.0


@dataclass
class Patience:
    """One request's budget, as tenacity's stop, wait and before_sleep; counts what the failure line reports."""

    max_retries: int
    rate_limit_wait: float
    timeout: float
    waiting: Waiting
    tries: int = 0
    failures: int = 0
    waited: float = 0.0

    def wait(self, state: RetryCallState) -> float:
        self.tries = state.attempt_number
        error = state.outcome.exception()
        if isinstance(error, HttpFailure) and error.rate_limited:
            return error.retry_after if error.retry_after is not None else backoff(state)
        self.failures += 1
        return backoff(state)

    def stop(self, state: RetryCallState) -> bool:
        error = state.outcome.exception()
        if isinstance(error, HttpFailure) and error.rate_limited:
            return self.waited + state.upcoming_sleep > self.rate_limit_wait
        return self.failures >= self.max_retries

    def before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception()
        if isinstance(error, HttpFailure) and error.rate_limited:
            self.waited += state.upcoming_sleep
            self.waiting.responses += 1
            self.waiting.seconds += state.upcoming_sleep
            log.info("%s; waiting %.1f s as asked", error, state.upcoming_sleep)
        else:
            log.warning("%s; try %d of %d in %.1f s", self.what(error), self.failures + 1, self.max_retries,
                        state.upcoming_sleep)

    def what(self, error: BaseException | None) -> str:
        if isinstance(error, asyncio.TimeoutError):
            return f"no answer within {self.timeout:g} s"
        if isinstance(error, Unreadable):
            return f"no readable answer: {error}"
        return f"{type(error).__name__}: {error}" if isinstance(error, ClientError) else str(error)

    def failure(self, error: BaseException) -> str:
        """What happened to a request that was given up, and the setting that governs it."""
        if isinstance(error, asyncio.TimeoutError):
            return (f"timed out after {self.timeout:g} s, {self.tries} tries (if the server is only slow, raise "
                    f"timeout= in --model_args)")
        if isinstance(error, HttpFailure) and error.rate_limited:
            return (f"kept answering {error} after {self.waited:.0f} s of waiting (raise rate_limit_wait= or lower "
                    f"num_concurrent= in --model_args)")
        if isinstance(error, HttpFailure) and not error.retried:
            return f"refused the request ({error})"
        return f"failed {self.tries} tries ({self.what(error)}; max_retries= in --model_args)"
