#!/usr/bin/env bash
# Create .venv (if needed) and install the project into it. Sourced by the other scripts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# torch first, pinned: its CPU build is on this machine's disk; a bare `torch` requirement pulls a multi-GB CUDA build.
pip install --quiet --disable-pip-version-check torch==2.13.0
pip install --quiet --disable-pip-version-check -e ".[test,demo]"
