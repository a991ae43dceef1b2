#!/usr/bin/env bash
# `make writer-run`: the whole pipeline in LibreOffice Writer (`kedro run --env writer`, about an
# hour on two cores: docs/writer.md), then its numbers next to the default run's
# (benchmarks/worlds_report.py -> benchmarks/results/worlds.md) when the default run has reported.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_writer.sh
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 MPLBACKEND=Agg
export PATH="$PWD/.venv/bin:$PATH"
kedro run --env writer "$@"
kedro run --env writer --pipelines evaluation   # `kedro run` leaves evaluation out (pipeline_registry.py)
if [ -f data/08_reporting/evaluation_table.csv ] && [ -f data/writer/08_reporting/evaluation_table.csv ]; then
  python benchmarks/worlds_report.py
else
  echo "run_writer: no default run's report in data/08_reporting yet: \`make run\`, then" \
       "\`.venv/bin/python benchmarks/worlds_report.py\` puts the two worlds side by side"
fi
echo "done: the Writer run's reports are in data/writer/08_reporting, its MLflow experiment is lam-writer"
