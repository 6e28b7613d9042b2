"""The project's Python passes lm-eval's own ruff configuration (copied into pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_ruff_with_lm_evals_configuration():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
