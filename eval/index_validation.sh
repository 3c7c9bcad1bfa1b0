#!/usr/bin/env bash
# The whole index validation of issue 14 in one command, on a copy of a replayed and
# enriched database (e.g. the full replay of every real archive):
#
#   bash eval/index_validation.sh REAL_DB OUT_DIR [JUDGMENTS_FILE]
#
# 1. copies REAL_DB into OUT_DIR (the original is only read) and rebuilds the index there
#    with the default parameters (--reset-params);
# 2. tracker validate: event study on models/events.yaml, placebos, every spike with its
#    headlines -> OUT_DIR/validation-<day>.md and validation.json;
# 3. leave-one-source-out level check -> OUT_DIR/leave_one_out.md;
# 4. draws every spike for judging: OUT_DIR/spikes-sheet.md (titles: publisher text, keep it
#    out of the repository) and, if JUDGMENTS_FILE (e.g. eval/spikes_<date>.md) does not
#    exist yet, the judgment file with ids and guids to fill in by reading;
# 5. if JUDGMENTS_FILE holds judgments, prints the spike precision per narrative.
# OUT_DIR must lie outside the repository (it holds publisher text).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:?usage: eval/index_validation.sh REAL_DB OUT_DIR [JUDGMENTS_FILE]}
out=${2:?usage: eval/index_validation.sh REAL_DB OUT_DIR [JUDGMENTS_FILE]}
judged=${3:-}
mkdir -p "$out"
copy="$out/index.db"
rm -f "$copy" "$copy-wal" "$copy-shm"
sqlite3 "$db" ".backup '$copy'"
.venv/bin/tracker --db "$copy" index --reset-params --json > "$out/index.json"
.venv/bin/tracker --db "$copy" validate --out "$out"
.venv/bin/tracker --db "$copy" validate --out "$out" --json > "$out/validation.json"
.venv/bin/python eval/index_leave_one_out.py --db "$copy" > "$out/leave_one_out.md"
cat "$out/leave_one_out.md"
if [ -n "$judged" ] && [ -s "$judged" ] && grep -qiE '^judgment: *(yes|no)' "$judged"; then
  .venv/bin/python eval/draw_spikes.py score "$judged"
else
  rm -f "$out/spikes-judgments.md"
  .venv/bin/python eval/draw_spikes.py draw --db "$copy" --sheet "$out/spikes-sheet.md" \
    --out "${judged:-$out/spikes-judgments.md}"
fi
