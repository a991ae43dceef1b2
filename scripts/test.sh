#!/usr/bin/env bash
# Set up (if needed) and run the linter and the test suite on the conf/test sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 MPLBACKEND=Agg
.venv/bin/ruff check src tests benchmarks
.venv/bin/pytest -q "$@"
