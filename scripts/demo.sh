#!/usr/bin/env bash
# The main job on the bundled offline sample feeds: ingest, enrich, index, weekly report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TRACKER_DB="${TRACKER_DB:-db/tracker.db}"
.venv/bin/tracker run --feeds tracker/sample_feeds/feeds.yaml
.venv/bin/tracker report --week 2026-W47 --out reports
echo
echo "Done. Explore the database in Datasette:"
echo "  .venv/bin/tracker serve        # then open http://127.0.0.1:8001/"
