#!/usr/bin/env bash
# Set up (if needed) and run the linter and the test suite on the conf/test sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# LibreOffice for the writer backend's tests: installed when missing; where it cannot be (exit 3,
# the reason printed) those tests skip, and where it is, LAM_REQUIRE_WRITER=1 makes a skip a failure.
writer=0
bash scripts/setup_writer.sh || writer=$?
case $writer in
  0) export LAM_REQUIRE_WRITER=1 ;;
  3) echo "test: the writer backend's tests will skip (LibreOffice cannot be installed here, see above)" ;;
  *) exit "$writer" ;;
esac
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 MPLBACKEND=Agg
.venv/bin/ruff check src tests benchmarks
.venv/bin/pytest -q "$@"
