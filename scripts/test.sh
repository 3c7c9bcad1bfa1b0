#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Ray engine's tests start a local Ray runtime: install the ray extra too.
EXTRAS=dev,ray bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> installing Debian chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped"
  else
    echo "warning: chromium missing and not root; browser tests will be skipped"
  fi
fi
echo "==> ruff"
.venv/bin/ruff check tracker tests bench eval
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/python -m pytest -q "$@"
