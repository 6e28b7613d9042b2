"""Documents spread evenly over a task's probes, for lm_eval's `--samples`: a small run that sees every category.

`--limit 20` scores the first 20 probes, all Social Values (Q1-Q20); the probes are in questionnaire order, so every
k-th one covers the WVS categories in proportion to their size.

    lm_eval ... --tasks wvs_selfalign_en --samples "$(python -m culture_metrics.cli.spread wvs_selfalign_en 20)"
"""

from __future__ import annotations

import argparse
import json
import sys

from culture_metrics import task_names
from culture_metrics.dataset import load_probes
from hf_dataset.errors import DataError


def spread(available: int, count: int) -> list[int]:
    """`count` indices evenly spaced over `available` documents (all of them when `count` is larger)."""
    count = min(count, available)
    return [i * available // count for i in range(count)]


def labelled_count(task: str) -> int:
    """How many documents the task scores: the labelled probes of its language (the task skips the others)."""
    language = task_names.parse(task).language
    return sum(answer is not None for answer in load_probes(language)["test"]["answer"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m culture_metrics.cli.spread", description=__doc__.split("\n")[0])
    parser.add_argument("task", help="e.g. wvs_selfalign_en")
    parser.add_argument("count", type=int, help="documents to score")
    args = parser.parse_args(argv)
    try:
        indices = spread(labelled_count(args.task), args.count)
    except (DataError, task_names.TaskNameError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({args.task: indices}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
