"""The served backends: ten real samples per prompt from any OpenAI-compatible server (vLLM, TGI, transformers
serve, hosted APIs).

lm-eval's API backends (`local-chat-completions`, `local-completions`) send every request with one `seed` (1234)
and keep one choice per request, so a server that honours request seeds returns one sample ten times. These are the
same backends (lm-eval's payloads, parsing, async calls and tenacity retries) with a generate_until of their own:

- Every sample has its own seed, derived from the run's seed and the sample's identity (task, document, request
  index, sample index): a document gets the same samples whichever tasks share the run, no two draws of a prompt
  replay each other, and a rerun against a server that honours per-request seeds returns the same samples. The
  run's seed is the `seed` model argument, or else the torch seed lm-eval sets (`--seed`'s third value, the one
  that seeds sampling in `hf`).
- The samples of a prompt go out as one request with `n` (one prefill on servers that honour it: vLLM, OpenAI);
  a server that returns fewer choices than asked (transformers serve ignores `n`) gets one request for each sample
  still missing. `n=false` sends one request per sample from the start.
- Each answered sample is kept in a cache, keyed by model, prompt, generation settings and its seed (never the
  server's address), as soon as it arrives: lm-eval's `--use_cache` database, or the model argument `cache=PATH`.
  A failed or interrupted run started again with the same cache sends only what is missing. (lm-eval's own cache
  deliberately skips sampled requests, whose repeats would all read one answer.)
- Stop strings are cut from the responses as `hf-prefix` cuts them: not every server honours `stop`.

Greedy requests (temperature 0) are sent once and repeated, as in `hf-prefix`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lm_eval.api.model import hash_args
from lm_eval.api.registry import register_model
from lm_eval.models.api_models import JsonChatStr
from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI
from lm_eval.models.utils import handle_stop_sequences, postprocess_generated_text

from culture_metrics.generation import samples


if TYPE_CHECKING:
    from lm_eval.api.instance import Instance


# A child of lm-eval's logger, so that its messages show in lm-eval's output like those of its own backends.
log = logging.getLogger(f"lm_eval.{__name__}")

SEED_RANGE = 2**31 - 1  # seeds every server accepts (vLLM, OpenAI and transformers take any int below it)
CACHE_NAMESPACE = "served-sample"


def sample_seed(run_seed: int, task: str | None, doc_id: int | None, request: int, sample: int) -> int:
    """One sample's seed: a hash of the run's seed and the sample's identity, the same in every process."""
    identity = json.dumps([run_seed, task, doc_id, request, sample])
    return int(hashlib.sha256(identity.encode()).hexdigest()[:16], 16) % SEED_RANGE


@dataclass
class Prompt:
    """One request lm-eval repeats: its prompt, settings, and where each of its samples goes in the results."""

    context: str | JsonChatStr
    message: str | JsonChatStr | list[int]
    gen_kwargs: dict
    positions: list[int]
    seeds: list[int]
    keys: list[str]
    answers: dict[int, str] = field(default_factory=dict)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(len(self.positions)) if i not in self.answers]


class ServedSamples:
    """generate_until for lm-eval's API backends: per-sample seeds, `n` where honoured, a resumable cache."""

    def __init__(self, *args: Any, n: bool = True, cache: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(n, bool):
            raise TypeError(f"n={n!r}: expected true (ask for a prompt's samples in one request) or false")
        super().__init__(*args, **kwargs)
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
            from sqlitedict import SqliteDict

            Path(self._cache_path).parent.mkdir(parents=True, exist_ok=True)
            self._own_cache = SqliteDict(self._cache_path, autocommit=True)
        return self._own_cache

    def run_seed(self) -> int:
        if self._run_seed is None:
            import torch

            return torch.initial_seed()
        return int(self._run_seed)

    def prompts(self, requests: list[Instance]) -> list[Prompt]:
        """The distinct requests among lm-eval's repeated ones, each with its samples' positions, seeds and keys."""
        run_seed = self.run_seed()
        grouped: dict[int, Prompt] = {}
        for position, request in enumerate(requests):
            context, gen_kwargs = request.args[:2]
            prompt = grouped.get(id(request))
            if prompt is None:
                message = self.tok_encode(context) if self.tokenized_requests else context
                prompt = grouped[id(request)] = Prompt(context, message, dict(gen_kwargs), [], [], [])
            sample = len(prompt.positions)
            seed = sample_seed(run_seed, request.task_name, request.doc_id, request.idx,
                               sample if samples(gen_kwargs) else 0)
            prompt.positions.append(position)
            prompt.seeds.append(seed)
            prompt.keys.append(self.cache_key(context, gen_kwargs, seed))
        return list(grouped.values())

    def cache_key(self, context: str | JsonChatStr, gen_kwargs: dict, seed: int) -> str:
        text = context.prompt if isinstance(context, JsonChatStr) else context
        return hash_args(CACHE_NAMESPACE, [self.model, text, json.dumps(gen_kwargs, sort_keys=True, default=str), seed])

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        if not requests:
            return []
        prompts = self.prompts(requests)
        cache = self.cache
        for prompt in prompts:
            if cache is not None:
                prompt.answers = {i: cache[key] for i, key in enumerate(prompt.keys) if key in cache}
        total = sum(len(p.positions) for p in prompts)
        cached = sum(len(p.answers) for p in prompts)
        if cached:
            log.info("%s: %d of %d samples read from the cache, %d to request", type(self).__name__, cached, total,
                     total - cached)
        try:
            asyncio.run(self._request_missing(prompts, cache))
        except Exception as error:
            answered = sum(len(p.answers) for p in prompts)
            kept = ("they are cached: run the same command again to send only the missing ones" if cache is not None
                    else "without a cache (cache=PATH in --model_args, or --use_cache) a rerun sends them all again")
            raise RuntimeError(
                f"{type(self).__name__}: the server at {self.base_url} failed after {self.max_retries} tries "
                f"({type(error).__name__}: {error}); {answered} of {total} samples were answered, {kept}"
            ) from error
        if unanswered := sum(len(prompt.missing) for prompt in prompts if samples(prompt.gen_kwargs)):
            raise RuntimeError(f"{type(self).__name__}: the server at {self.base_url} returned no choice for "
                               f"{unanswered} of {total} samples")
        results: list[str] = [""] * len(requests)
        for prompt in prompts:
            if not samples(prompt.gen_kwargs):
                prompt.answers = dict.fromkeys(range(len(prompt.positions)), prompt.answers[0])
            for i, position in enumerate(prompt.positions):
                results[position] = prompt.answers[i]
        return results

    async def _request_missing(self, prompts: list[Prompt], cache: Any) -> None:
        """Ask the server for every sample not yet answered, keeping each answer in the cache as it arrives."""
        from aiohttp import ClientSession, ClientTimeout, TCPConnector
        from tenacity import retry, stop_after_attempt, wait_exponential
        from tqdm.asyncio import tqdm_asyncio

        connector = TCPConnector(limit=self._concurrent, ssl=self.verify_certificate)
        semaphore = asyncio.Semaphore(self._concurrent)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=self.timeout)) as session:
            call = retry(
                stop=stop_after_attempt(self.max_retries),
                wait=wait_exponential(multiplier=0.5, min=1, max=10),
                reraise=True,
                before_sleep=lambda state: log.info("Retry attempt %d", state.attempt_number),
            )(self.amodel_call)

            async def ask(prompt: Prompt, samples: list[int]) -> None:
                until = handle_stop_sequences(prompt.gen_kwargs.get("until"), None)
                gen_kwargs = {**prompt.gen_kwargs, "seed": prompt.seeds[samples[0]]}
                if len(samples) > 1:
                    gen_kwargs["n"] = len(samples)
                answers = await call(session=session, sem=semaphore, messages=[prompt.message], generate=True,
                                     gen_kwargs=gen_kwargs)
                for sample, text in zip(samples, answers, strict=False):
                    text = postprocess_generated_text(text or "", stop=until, think_end_token=None)
                    prompt.answers[sample] = text
                    if cache is not None:
                        cache[prompt.keys[sample]] = text

            # Round one asks for all of a prompt's missing samples at once (with `n`); round two asks for each
            # sample still missing, so a server that ignores `n` costs no request more than one per sample.
            for round_ in (1, 2):
                jobs = [job for prompt in prompts for job in self._jobs(prompt, with_n=self._use_n and round_ == 1)]
                await tqdm_asyncio.gather(*(ask(prompt, samples) for prompt, samples in jobs),
                                          desc=f"Requesting samples (round {round_})")

    @staticmethod
    def _jobs(prompt: Prompt, with_n: bool) -> list[tuple[Prompt, list[int]]]:
        missing = prompt.missing
        if not missing:
            return []
        if not samples(prompt.gen_kwargs):
            return [] if prompt.answers else [(prompt, [0])]
        return [(prompt, missing)] if with_n else [(prompt, [sample]) for sample in missing]


@register_model("served-chat")
class ServedChat(ServedSamples, LocalChatCompletion):
    """`local-chat-completions` with ten real samples per prompt (use with `--apply_chat_template`)."""


@register_model("served-completions")
class ServedCompletions(ServedSamples, LocalCompletionsAPI):
    """`local-completions` with ten real samples per prompt: text prompts, for base models.

    Prompts go out as text and no tokenizer is loaded (`tokenizer_backend=None`): every server accepts text
    (transformers serve takes no token ids), and the model name need not name a local tokenizer. The `_logprob`
    tasks need one: pass `tokenizer_backend=huggingface` (and `tokenizer=PATH` unless `model` names it);
    `tokenized_requests=True` sends token ids, for servers that take them and should see exactly lm-eval's.
    """

    def __init__(self, *args: Any, tokenizer_backend: str | None = None, tokenized_requests: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, tokenizer_backend=tokenizer_backend, tokenized_requests=tokenized_requests, **kwargs)
