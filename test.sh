#!/usr/bin/env bash
# One command for the whole check: install the test extras (first run only), then
# ruff, mypy (strict on router/ and simulator/) and the pytest suite.
# Extra arguments go to pytest (e.g. ./test.sh -k agi -x).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv "test"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
