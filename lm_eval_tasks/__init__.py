"""The lm-eval task folder, importable so an installed copy can be found: `--include_path "$(python -m lm_eval_tasks)"`."""

from pathlib import Path


PATH = Path(__file__).parent
