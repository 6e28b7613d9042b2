"""The served backends against a server that misbehaves the way gateways and hosted APIs do (tests/servers.py's
stand-in, in-process runs): every fault that a retry gets past leaves the numbers of a healthy run, nothing
unreadable is ever scored or cached, rate limits cost time and not the run, a silent server stops the run in bounded
time with one line, a damaged cache names itself, and the cache keeps what the server said.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time

import pytest
from conftest import ROOT, need_shared
from lm_eval_runs import lm_eval_command
from served_runs import CHAT, TASK, evaluate, responses, served
from servers import StandIn
from sqlitedict import SqliteDict

from culture_metrics.backends.served import ServedFailure


FLAVOURS = [("served-chat", "chat/completions"), ("served-completions", "completions")]
RETRIED = ["null-content", "no-index", "error-200", "not-json", "no-choices", "503", "429-seconds", "429-date"]
LIMIT = 2
SAMPLES = LIMIT * 2 * 10  # two prompts a document, ten samples each


@pytest.fixture(scope="module", params=FLAVOURS, ids=[backend for backend, _ in FLAVOURS])
def healthy(request) -> tuple[str, str, dict]:
    """A flavour's backend, endpoint and run against a server that never fails."""
    need_shared()
    backend, endpoint = request.param
    with StandIn() as server:
        return backend, endpoint, evaluate(server.url(endpoint), backend, LIMIT)


def cached_records(path) -> list[dict]:
    with SqliteDict(str(path)) as cache:
        return list(cache.values())


def sent_twice(server: StandIn) -> list[dict]:
    answered = [json.dumps(payload, sort_keys=True) for payload in server.answered]
    return [json.loads(payload) for payload in set(answered) if answered.count(payload) > 1]


@pytest.mark.parametrize("fault", RETRIED)
def test_a_fault_on_every_other_request_leaves_a_healthy_runs_numbers(fault, healthy, tmp_path, caplog):
    backend, endpoint, whole = healthy
    with StandIn(fault) as server, caplog.at_level(logging.WARNING, logger="lm_eval"):
        run = evaluate(server.url(endpoint), backend, LIMIT, cache=tmp_path / "samples.db")
    assert len(server.payloads) == 2 * len(server.answered) == 2 * LIMIT * 2  # each spoiled request tried again
    assert responses(run) == responses(whole)
    assert run["results"] == whole["results"]
    assert not sent_twice(server)
    records = cached_records(tmp_path / "samples.db")
    assert len(records) == SAMPLES and all(record["text"] and record["model"] == "stand-in-model"
                                           for record in records)
    rate_limited = fault in ("429-seconds", "429-date", "503")
    assert ("4 responses were rate-limited (HTTP 429/503)" in caplog.text) == rate_limited
    if fault.startswith("429"):  # each retry waited as long as the server asked
        gaps = [server.arrivals[server.payloads.index(payload, i + 1)] - server.arrivals[i]
                for i, payload in enumerate(server.payloads) if i % 2 == 0]
        assert min(gaps) >= 0.9 * server.retry_after, gaps


@pytest.mark.parametrize(("backend", "endpoint"), FLAVOURS)
def test_fewer_choices_than_asked_are_completed_one_request_each(backend, endpoint):
    need_shared()
    with StandIn("fewer-choices") as server:
        run = evaluate(server.url(endpoint), backend, LIMIT)
    assert all(len(set(resps)) == 10 and all(resps) for resps in responses(run))
    assert not sent_twice(server)
    # Round one: every other prompt got nine of its ten choices; round two asked for each missing tenth on its own,
    # and asked again when that came back with no choice at all.
    assert [payload.get("n", 1) for payload in server.payloads] == [10] * (LIMIT * 2) + [1] * (LIMIT * 2)


@pytest.mark.parametrize(("backend", "endpoint", "fault", "words"), [
    ("served-chat", "chat/completions", "null-content", "choice 0 has message.content = null"),
    ("served-completions", "completions", "null-content", "choice 0 has text = null"),
    ("served-chat", "chat/completions", "error-200", "an error object: upstream model overloaded"),
    ("served-completions", "completions", "not-json", "a body that is not JSON: '<html><body>502 Bad Gateway"),
])
def test_an_answer_that_stays_unreadable_stops_the_run_in_the_servers_words(backend, endpoint, fault, words,
                                                                            tmp_path):
    need_shared()
    with StandIn(fault, every=1) as server, pytest.raises(ServedFailure) as failure:
        evaluate(server.url(endpoint), backend, LIMIT, max_retries=2, cache=tmp_path / "samples.db")
    message = str(failure.value)
    assert words in message and "failed 2 tries" in message and f"0 of {SAMPLES} samples answered" in message
    assert len(server.payloads) == 2  # the first request's two tries, and nothing after
    assert cached_records(tmp_path / "samples.db") == []


def test_a_refusal_is_not_tried_again():
    need_shared()
    with StandIn("401", every=1) as server, pytest.raises(ServedFailure) as failure:
        evaluate(server.url(), limit=1)
    assert "refused the request (HTTP 401: invalid API key)" in str(failure.value) and len(server.payloads) == 1


def test_rate_limits_past_the_budget_stop_the_run_naming_the_setting():
    need_shared()
    with StandIn("429-seconds", every=1) as server, pytest.raises(ServedFailure) as failure:
        evaluate(server.url(), limit=1, rate_limit_wait=2.5)
    assert "kept answering HTTP 429: rate limit reached, slow down after 2 s of waiting" in str(failure.value)
    assert "rate_limit_wait=" in str(failure.value)
    assert len(server.payloads) == 3  # tried at 0, 1 and 2 s; the next wait would be past the budget


@pytest.mark.parametrize(("backend", "endpoint"), FLAVOURS)
def test_a_silent_server_stops_the_run_once_its_requests_time_out(backend, endpoint):
    """Four requests in flight and six more waiting: all stop when the first is given up, none waits its turn."""
    need_shared()
    started = time.monotonic()
    with StandIn("silence", every=1) as server, pytest.raises(ServedFailure) as failure:
        evaluate(server.url(endpoint), backend, limit=5, n="false", timeout=1, max_retries=2, num_concurrent=4)
    elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed  # two tries of 1 s and a backoff, plus lm-eval's start
    assert f"the server at {server.url(endpoint)} timed out after 1 s, 2 tries" in str(failure.value)
    assert len(server.payloads) <= 4 * 2


def test_a_silent_server_stops_the_command_within_a_minute_in_one_line(tmp_path):
    """The issue's bound: timeout=5 and the other settings at their defaults."""
    need_shared()
    with StandIn("silence", every=1, start=3) as server:
        done = subprocess.run(  # noqa: S603
            lm_eval_command(tmp_path / "out", None, TASK, "--limit", "3", *CHAT,
                            **served("stand-in", server.url(), n="false", timeout=5, cache=tmp_path / "s.db")),
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        silent_for = time.monotonic() - server.arrivals[3]  # from the first request the server did not answer
    assert done.returncode != 0 and silent_for < 60, (silent_for, done.stderr[-3000:])
    last = done.stderr.strip().splitlines()[-1]
    assert last == (f"ServedChat: the server at {server.url()} timed out after 5 s, 5 tries (if the server is only "
                    f"slow, raise timeout= in --model_args); 3 of 60 samples answered, kept in the cache: run the "
                    f"same command again to send only the missing ones")
    assert "never retrieved" not in done.stderr and "Session is closed" not in done.stderr
    assert "Traceback" not in done.stderr


def test_an_interrupted_run_resumed_sends_only_what_is_missing(tmp_path):
    need_shared()
    with StandIn() as server:
        whole = evaluate(server.url(), limit=1, n="false")
    with StandIn("silence", every=1, start=5) as server, pytest.raises(ServedFailure):
        evaluate(server.url(), limit=1, n="false", timeout=1, max_retries=1, cache=tmp_path / "samples.db")
    assert len(server.answered) == 5
    with StandIn() as server:
        resumed = evaluate(server.url(), limit=1, n="false", cache=tmp_path / "samples.db")
    assert len(server.payloads) == 2 * 10 - 5
    assert responses(resumed) == responses(whole) and resumed["results"] == whole["results"]


def test_a_damaged_cache_names_itself(tmp_path, monkeypatch):
    need_shared()
    cache = tmp_path / "samples.db"
    cache.write_bytes(b"not a database, " * 512)
    thread_failures = []
    monkeypatch.setattr(threading, "excepthook", thread_failures.append)
    with StandIn() as server, pytest.raises(ServedFailure) as failure:
        evaluate(server.url(), limit=1, cache=cache)
    assert not thread_failures  # no traceback from another thread follows the one line
    assert str(failure.value).startswith(f"the cache {cache} cannot be read")
    assert "move it away, or point cache= in --model_args at another file" in str(failure.value)
    assert "\n" not in str(failure.value) and not server.payloads


def test_the_cache_keeps_raw_answers_and_post_processing_applies_on_reading(tmp_path, caplog):
    need_shared()
    cache = tmp_path / "samples.db"
    with StandIn() as server:
        raw = evaluate(server.url(), limit=1, cache=cache)
        sent = len(server.payloads)
        with caplog.at_level(logging.INFO, logger="lm_eval"):
            stripped = evaluate(server.url(), limit=1, cache=cache, think_end_token="/")  # noqa: S106
    assert len(server.payloads) == sent == 2
    assert "20 of 20 samples read from the cache, 0 to request" in caplog.text
    assert responses(stripped) == [[r.split("/")[-1] for r in rs] for rs in responses(raw)]


def test_samples_collapsed_in_the_cache_are_not_replayed_silently(tmp_path, caplog):
    need_shared()
    cache = tmp_path / "samples.db"
    with StandIn(seedless=True) as server:
        evaluate(server.url(), limit=1, cache=cache)
    with StandIn() as server, caplog.at_level(logging.WARNING, logger="lm_eval"):
        evaluate(server.url(), limit=1, cache=cache)
    assert not server.payloads
    assert f"2 sampled prompts read from the cache ({cache}) hold one answer repeated" in caplog.text
    assert "move the cache away or point cache= at another file to draw them anew" in caplog.text
