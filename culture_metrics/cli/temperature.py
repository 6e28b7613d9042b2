"""A model's own default sampling temperature, which the paper ran each model at (Llama-3-8B-Instruct 0.6, Command R
0.3, the others 1.0): the `temperature` of its generation_config.json, or 1.0 where it sets none.

lm-eval gives a task no access to the model, so the task YAML cannot read it; pass it on the command line:

    lm_eval ... --gen_kwargs "temperature=$(python -m culture_metrics.cli.temperature MODEL)"
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from culture_metrics.generation import SAMPLING_DEFAULT


def default_temperature(model: str) -> float:
    """The model's generation_config.json temperature: from a local folder, or the hub (its cache) for an id."""
    folder = Path(model)
    if folder.is_dir():
        path = folder / "generation_config.json"
        config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    else:
        from transformers import GenerationConfig

        try:
            config = GenerationConfig.from_pretrained(model).to_dict()
        except OSError:
            config = {}
    temperature = config.get("temperature")
    return float(temperature) if temperature else SAMPLING_DEFAULT


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m culture_metrics.cli.temperature MODEL")
    print(default_temperature(sys.argv[1]))
