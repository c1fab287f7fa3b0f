#!/usr/bin/env bash
# One command for a newcomer: install Tierline (first run only) and run the FastAGI
# router on 127.0.0.1:4573, on an embedded Valkey store loaded with the sample customers.
# Extra arguments go to `tierline serve` (e.g. --port 4574, --redis redis://host:6379/0).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv "embedded,web"
exec .venv/bin/tierline serve --demo "$@"
