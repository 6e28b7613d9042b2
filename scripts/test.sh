#!/usr/bin/env bash
# Install everything into .venv and run the whole test suite (what CI runs).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
python -m pytest "$@"
