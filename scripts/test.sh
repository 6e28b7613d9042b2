#!/usr/bin/env bash
# Install everything into .venv and run the whole test suite (what CI runs).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# One worker per core; a file's tests stay on one worker, so its module fixtures (a server, a fresh venv) are built
# once. `-n 0` runs everything in this one process.
python -m pytest -n logical --dist loadfile "$@"
