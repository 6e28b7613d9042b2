"""The `hf-prefix` model backend: lm-eval's `hf`, with the samples of one prompt drawn from one computed prompt.

A sampled task repeats each prompt (10 samples here), and `hf` computes the whole prompt again for every sample,
then runs a batch until its longest response. This backend groups the requests by prompt and generation settings,
computes each prompt once, copies its cache for all of its samples and samples them in one batch, each sequence
stopping on its own at a stop string, EOS or the token limit. Greedy requests are generated once and repeated.
Everything else (log-likelihood requests, chat templates, devices, dtypes) is `hf`'s own.

    wvs-lm-eval run --model hf-prefix ...   # or lm-eval's Python API after `import culture_metrics.backends`
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING

import torch
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs, postprocess_generated_text
from tqdm import tqdm
from transformers import DynamicCache, StoppingCriteriaList, StopStringCriteria

from culture_metrics.generation import samples


if TYPE_CHECKING:
    from lm_eval.api.instance import Instance


@register_model("hf-prefix")
class HFPrefixLM(HFLM):
    """HFLM whose generate_until computes each distinct prompt once for all of its samples."""

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        if self.backend != "causal":
            return super().generate_until(requests, disable_tqdm)
        groups: dict[tuple[str, str], list[int]] = {}
        for index, request in enumerate(requests):
            context, gen_kwargs = request.args
            groups.setdefault((context, json.dumps(gen_kwargs, sort_keys=True, default=str)), []).append(index)
        results: list[str] = [""] * len(requests)
        bar = tqdm(total=len(requests), disable=disable_tqdm or self.rank != 0, desc="Running generate_until requests")
        for (context, _), indices in groups.items():
            gen_kwargs = requests[indices[0]].args[1]
            for index, text in zip(indices, self.sample_shared(context, gen_kwargs, len(indices)), strict=True):
                results[index] = text
                self.cache_hook.add_partial("generate_until", (context, gen_kwargs), text)
            bar.update(len(indices))
        bar.close()
        return results

    def sample_shared(self, context: str, gen_kwargs: dict, count: int) -> list[str]:
        """`count` responses to one prompt, its cache computed once and shared by all of them."""
        kwargs = normalize_gen_kwargs(gen_kwargs, self.max_gen_toks)
        until = handle_stop_sequences(kwargs.pop("until", None), eos=self.tok_decode(self.eot_token_id,
                                                                                     skip_special_tokens=False))
        max_gen_toks = kwargs.pop("max_gen_toks")
        kwargs.pop("max_length", None)
        # Greedy settings (no temperature, as in `hf`) give one response, repeated for every sample.
        sampling = samples(kwargs)
        kwargs["do_sample"] = sampling
        if not sampling:
            kwargs.pop("temperature", None)
        width = count if sampling else 1
        ids = torch.tensor(
            [self.tok_encode(context, left_truncate_len=self.max_length - max_gen_toks)], device=self.device
        )
        cache = DynamicCache()
        # transformers renames `past_key_values` to `cache` (5.x warns, 6.0 drops the old name).
        name = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        with torch.no_grad(), torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                                             enabled=self.mixed_precision_dtype is not None):
            if ids.shape[1] > 1:
                self.model(input_ids=ids[:, :-1], use_cache=True, **{name: cache})
                cache.batch_repeat_interleave(width)
            out = self.model.generate(
                input_ids=ids.repeat(width, 1),
                attention_mask=torch.ones((width, ids.shape[1]), dtype=torch.long, device=self.device),
                **({name: cache} if ids.shape[1] > 1 else {}),
                max_new_tokens=max_gen_toks,
                stopping_criteria=StoppingCriteriaList([StopStringCriteria(self.tokenizer, until)]),
                pad_token_id=self.tokenizer.pad_token_id,
                use_cache=True,
                **kwargs,
            )
        texts = [
            postprocess_generated_text(self.tok_decode(row[ids.shape[1]:].tolist()), stop=until, think_end_token=None)
            for row in out
        ]
        return texts if width == count else texts * count
