#!/usr/bin/env bash
# Set up (if needed) and run the whole pipeline on the defaults: `dvc repro` runs one
# `kedro run --pipelines <stage>` per stage of dvc.yaml and skips stages whose inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 MPLBACKEND=Agg
export PATH="$PWD/.venv/bin:$PATH"
dvc repro "$@"
echo "done: runs and metrics are in the MLflow store (mlflow ui --backend-store-uri sqlite:///mlflow.db)"
