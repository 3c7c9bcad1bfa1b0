#!/usr/bin/env bash
# Create .venv and install the project into it. Fast when nothing changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# EXTRAS: optional extras to install, e.g. EXTRAS=dev,ray (scripts/test.sh adds ray for the Ray engine tests).
EXTRAS=${EXTRAS:-dev}
stamp=".venv/.installed-$( (cat pyproject.toml; echo "$EXTRAS") | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing dependencies (first run takes a few minutes)"
  # Old pip cannot resolve some extras (lxml[html_clean]); upgrade it first.
  .venv/bin/python -m pip install -q --upgrade pip
  # The CPU wheel of torch 2.13.0 is on these machines; installing it first stops
  # sentence-transformers from pulling a multi-GB CUDA build.
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
