"""The served backends: ten real samples per prompt from any OpenAI-compatible server (vLLM, TGI, transformers
serve, hosted APIs), in runs that survive a hostile network.

lm-eval's API backends (`local-chat-completions`, `local-completions`) send every request with one `seed` (1234)
and keep one choice per request, so a server that honours request seeds returns one sample ten times. These are the
same backends (lm-eval's payloads) with a generate_until and an HTTP call of their own:

- Every sample has its own seed, derived from the run's seed and the sample's identity (`prompts.sample_seed`). The
  run's seed is the `seed` model argument, or else the torch seed lm-eval sets (`--seed`'s third value).
- The samples of a prompt go out as one request with `n` (one prefill on servers that honour it: vLLM, OpenAI);
  a server that returns fewer choices than asked (transformers serve ignores `n`) gets one request for each sample
  still missing. `n=false` sends one request per sample from the start.
- Only a readable choice is an answer (`answers`); anything else is a failed request, retried and never kept.
- Each request is timed on its own (`timeout`, from the moment it is sent, not while it waits its turn) and tried
  under `patience`'s budget; once a request is given up the run stops at once: the requests in flight are cancelled
  and awaited, the session closed, and a `ServedFailure` says in one line what happened and what is cached.
- Each answered sample is kept as it arrives (`cache`), raw: stop strings and `think_end_token` are applied when
  reading. lm-eval's `--use_cache` database, or the model argument `cache=PATH`. A failed or interrupted run started
  again with the same cache sends only what is missing. (lm-eval's own cache deliberately skips sampled requests.)

Greedy requests (temperature 0) are sent once and repeated, as in `hf-prefix`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import TYPE_CHECKING, Any

from lm_eval.api.registry import register_model
from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI
from lm_eval.models.utils import handle_stop_sequences, postprocess_generated_text

from culture_metrics.backends.served.answers import Answer, read_answers
from culture_metrics.backends.served.cache import open_cache, read_stored, sample_key, stored
from culture_metrics.backends.served.patience import (
    SERVER_FAILURES,
    Patience,
    ServedFailure,
    Waiting,
    check_status,
    is_retried,
)
from culture_metrics.backends.served.prompts import Prompt, sample_seed


if TYPE_CHECKING:
    from collections.abc import Coroutine

    from aiohttp import ClientSession
    from lm_eval.api.instance import Instance
    from multidict import CIMultiDictProxy
    from tqdm import tqdm


__all__ = ["ServedChat", "ServedCompletions", "ServedFailure", "sample_seed"]

# A child of lm-eval's logger, so that its messages show in lm-eval's output like those of its own backends.
log = logging.getLogger(f"lm_eval.{__name__}")


async def all_or_none(coroutines: list[Coroutine]) -> None:
    """Run the coroutines together; the first to fail cancels the rest, and every task is awaited (its error
    retrieved) before that failure is raised: none is left to fail unobserved once the session is closed.
    """
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    if not tasks:
        return
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome


class GaveUp(Exception):
    """A request given up after its tries; the message says what happened and which setting governs it."""


class ServedSamples:
    """generate_until for lm-eval's API backends: per-sample seeds, `n` where honoured, a resumable cache."""

    TEXT_FIELD: tuple[str, ...]  # where a choice keeps its text

    def __init__(self, *args: Any, n: bool = True, cache: str | None = None, seed: int | None = None,
                 timeout: float = 60, max_retries: int = 5, rate_limit_wait: float = 600,
                 think_end_token: str | None = None, **kwargs: Any) -> None:
        if not isinstance(n, bool):
            raise TypeError(f"n={n!r}: expected true (ask for a prompt's samples in one request) or false")
        super().__init__(*args, max_retries=max_retries, **kwargs)
        self.timeout, self.rate_limit_wait = float(timeout), float(rate_limit_wait)
        self.think_end_token = think_end_token
        self._use_n = n
        self._cache_path = cache
        self._own_cache = None
        self._run_seed = seed

    @property
    def cache(self) -> Any:
        """Where answered samples are kept: `--use_cache`'s database, else the `cache` model argument's."""
        if self.cache_hook.dbdict is not None:
            return self.cache_hook.dbdict
        if self._cache_path and self._own_cache is None:
            self._own_cache = open_cache(self._cache_path)
        return self._own_cache

    def run_seed(self) -> int:
        if self._run_seed is None:
            import torch

            return torch.initial_seed()
        return int(self._run_seed)

    def payload(self, prompt: Prompt, seed: int, n: int = 1) -> dict:
        """lm-eval's payload for the prompt, drawn with `seed`, asking for `n` choices."""
        payload = self._create_payload(self.create_message([prompt.message]), generate=True,
                                       gen_kwargs=copy.deepcopy(prompt.gen_kwargs), seed=seed)
        return {**payload, "n": n} if n > 1 else payload

    def prompts(self, requests: list[Instance]) -> list[Prompt]:
        """The distinct requests among lm-eval's repeated ones, each with its samples' positions, seeds and keys."""
        run_seed = self.run_seed()
        grouped: dict[int, Prompt] = {}
        for position, request in enumerate(requests):
            context, gen_kwargs = request.args[:2]
            prompt = grouped.get(id(request))
            if prompt is None:
                message = self.tok_encode(context) if self.tokenized_requests else context
                prompt = grouped[id(request)] = Prompt(message, dict(gen_kwargs))
            sample = len(prompt.positions) if prompt.sampled else 0
            seed = sample_seed(run_seed, request.task_name, request.doc_id, request.idx, sample)
            prompt.positions.append(position)
            prompt.seeds.append(seed)
            prompt.keys.append(sample_key(self.payload(prompt, seed)))
        return list(grouped.values())

    def read(self, answer: Answer, prompt: Prompt) -> str:
        """A response as scored: the raw answer with stop strings cut (not every server honours `stop`) and any
        thinking before `think_end_token` dropped.
        """
        until = handle_stop_sequences(prompt.gen_kwargs.get("until"), None)
        return postprocess_generated_text(answer.text, stop=until, think_end_token=self.think_end_token)

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        if not requests:
            return []
        prompts = self.prompts(requests)
        cache = self.cache
        if cache is not None:
            self.read_cache(prompts, cache)
        total = sum(len(p.positions) for p in prompts)
        waiting, started = Waiting(), time.monotonic()
        try:
            asyncio.run(self._request_missing(prompts, cache, waiting, disable_tqdm))
        except GaveUp as error:
            answered = sum(p.answered for p in prompts)
            kept = ("kept in the cache: run the same command again to send only the missing ones" if cache is not None
                    else "lost: add cache=PATH to --model_args (or --use_cache) so that a rerun sends only what is "
                         "missing")
            raise ServedFailure(f"{type(self).__name__}: the server at {self.base_url} {error}; {answered} of "
                                f"{total} samples answered, {kept}") from None
        finally:
            if waiting.responses:
                log.warning("%s: %d responses were rate-limited (HTTP 429/503); requests waited %.0f s for them, "
                            "in a run of %.0f s", type(self).__name__, waiting.responses, waiting.seconds,
                            time.monotonic() - started)
        results: list[str] = [""] * len(requests)
        for prompt in prompts:
            for i, position in enumerate(prompt.positions):
                results[position] = self.read(prompt.answers[i if prompt.sampled else 0], prompt)
        return results

    def read_cache(self, prompts: list[Prompt], cache: Any) -> None:
        """Each prompt's samples already answered; says how many, and which prompts the cache replays collapsed."""
        for prompt in prompts:
            found = {i: read_stored(cache.get(key)) for i, key in enumerate(prompt.keys)}
            prompt.answers = {i: answer for i, answer in found.items() if answer is not None}
        total = sum(len(p.positions) for p in prompts)
        cached = sum(p.answered for p in prompts)
        if cached:
            log.info("%s: %d of %d samples read from the cache, %d to request", type(self).__name__, cached, total,
                     total - cached)
        if collapsed := sum(prompt.collapsed() for prompt in prompts):
            log.warning(
                "%s: %d sampled prompts read from the cache (%s) hold one answer repeated in every sample: they were "
                "kept from an earlier run, not drawn now, and are not asked again (that would send answered requests "
                "twice). If the server has been fixed since (it ignored seeds?), move the cache away or point cache= "
                "at another file to draw them anew", type(self).__name__, collapsed,
                self._cache_path or "--use_cache")

    async def _request_missing(self, prompts: list[Prompt], cache: Any, waiting: Waiting, quiet: bool) -> None:
        """Ask the server for every sample not yet answered, keeping each answer in the cache as it arrives.

        The first request given up cancels the others, and all are awaited before the session closes.
        """
        from aiohttp import ClientSession, ClientTimeout, TCPConnector
        from tqdm import tqdm

        slots = asyncio.Semaphore(self._concurrent)
        connector = TCPConnector(limit=self._concurrent, ssl=self.verify_certificate)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=None)) as session:
            # Round one asks for all of a prompt's missing samples at once (with `n`); round two asks for each
            # sample still missing, so a server that ignores `n` costs no request more than one per sample.
            for round_ in (1, 2):
                jobs = [(prompt, job) for prompt in prompts for job in prompt.jobs(self._use_n and round_ == 1)]
                with tqdm(total=len(jobs), desc=f"Requesting samples (round {round_})", disable=quiet) as bar:
                    await all_or_none([self._ask(session, slots, prompt, job, cache, waiting, bar)
                                       for prompt, job in jobs])

    async def _ask(self, session: ClientSession, slots: asyncio.Semaphore, prompt: Prompt, samples: list[int],
                   cache: Any, waiting: Waiting, bar: tqdm) -> None:
        from tenacity import AsyncRetrying, retry_if_exception

        payload = self.payload(prompt, prompt.seeds[samples[0]], len(samples))
        patience = Patience(self.max_retries, self.rate_limit_wait, self.timeout, waiting)
        retrying = AsyncRetrying(stop=patience.stop, wait=patience.wait, before_sleep=patience.before_sleep,
                                 retry=retry_if_exception(is_retried), reraise=True)
        try:
            async with slots:  # held through the waits between tries: a retry never queues behind fresh requests
                async for attempt in retrying:
                    with attempt:
                        answers = await self._post(session, payload)
        except SERVER_FAILURES as error:
            raise GaveUp(patience.failure(error)) from error
        for sample, answer in zip(samples, answers, strict=False):
            prompt.answers[sample] = answer
            if cache is not None:
                cache[prompt.keys[sample]] = stored(answer)
        bar.update()

    async def _post(self, session: ClientSession, payload: dict) -> list[Answer]:
        """One try: `timeout` counts from the moment the request has its turn, so a queue never times out."""
        status, headers, body = await asyncio.wait_for(self._exchange(session, payload), self.timeout)
        check_status(status, headers, body)
        return read_answers(body, self.TEXT_FIELD)

    async def _exchange(self, session: ClientSession, payload: dict) -> tuple[int, CIMultiDictProxy[str], bytes]:
        async with session.post(self.base_url, json=payload, headers=self.header) as response:
            return response.status, response.headers, await response.read()


@register_model("served-chat")
class ServedChat(ServedSamples, LocalChatCompletion):
    """`local-chat-completions` with ten real samples per prompt (use with `--apply_chat_template`)."""

    TEXT_FIELD = ("message", "content")


@register_model("served-completions")
class ServedCompletions(ServedSamples, LocalCompletionsAPI):
    """`local-completions` with ten real samples per prompt: text prompts, for base models.

    Prompts go out as text and no tokenizer is loaded (`tokenizer_backend=None`): every server accepts text
    (transformers serve takes no token ids), and the model name need not name a local tokenizer. The `_logprob`
    tasks need one: pass `tokenizer_backend=huggingface` (and `tokenizer=PATH` unless `model` names it);
    `tokenized_requests=True` sends token ids, for servers that take them and should see exactly lm-eval's.
    """

    TEXT_FIELD = ("text",)

    def __init__(self, *args: Any, tokenizer_backend: str | None = None, tokenized_requests: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, tokenizer_backend=tokenizer_backend, tokenized_requests=tokenized_requests, **kwargs)
