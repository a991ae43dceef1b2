#!/usr/bin/env bash
# Set up (if needed) and run the linter and the test suite on the conf/test sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# LibreOffice for the writer backend's tests: installed when missing; where it cannot be (exit 3,
# the reason printed; or apt-get failed, e.g. no Debian mirror) those tests skip, and where it is and
# this venv's Python can drive it (python3-uno is built for Debian's Python 3.11),
# LAM_REQUIRE_WRITER=1 makes a skip a failure.
writer=0
bash scripts/setup_writer.sh || writer=$?
if [ "$writer" -eq 0 ]; then
  if why=$(.venv/bin/python -c 'import sys; from lam_kedro.env.writer import writer_available as w; r = w(); print(r or ""); sys.exit(1 if r else 0)'); then
    export LAM_REQUIRE_WRITER=1
  else
    echo "test: the writer backend's tests will skip: $why"
  fi
elif [ "$writer" -eq 3 ]; then
  echo "test: the writer backend's tests will skip (LibreOffice cannot be installed here, see above)"
else
  echo "test: WARNING: installing LibreOffice failed (apt-get exit $writer, see above); the writer backend's tests will skip"
fi
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 MPLBACKEND=Agg
.venv/bin/ruff check src tests benchmarks
.venv/bin/pytest -q "$@"
