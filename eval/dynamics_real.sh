#!/usr/bin/env bash
# The README's "Narrative dynamics" figures, regenerated from a real replay database:
#
#   bash eval/dynamics_real.sh REAL_DB OUT_DIR [NOTE]
#
# 1. copies REAL_DB into OUT_DIR with sqlite3 .backup (the original is only read);
# 2. builds the index on the copy when it has none (or when REINDEX=1);
# 3. runs `tracker dynamics` on the copy, on the three narratives of the question and on
#    every narrative (JSON kept in OUT_DIR/dynamics_three.json and dynamics.json);
# 4. writes eval/dynamics_real.md (ids, labels and figures only) and replaces the text
#    between the dynamics markers in README.md with it.
# NOTE (optional) is printed above the figures, e.g. to say the database was partial.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:?usage: eval/dynamics_real.sh REAL_DB OUT_DIR [NOTE]}
out=${2:?usage: eval/dynamics_real.sh REAL_DB OUT_DIR [NOTE]}
note=${3:-}
mkdir -p "$out"
copy="$out/dynamics.db"
rm -f "$copy" "$copy-wal" "$copy-shm"
sqlite3 "$db" ".backup '$copy'"
if [ "${REINDEX:-0}" = 1 ] || [ "$(sqlite3 "$copy" 'SELECT COUNT(*) FROM narrative_index')" = 0 ]; then
  .venv/bin/tracker --db "$copy" index --json > "$out/index.json"
fi
# The three narratives of the question alone first (fewer pairs to correct over), then
# every narrative (the run whose rows stay in the table).
.venv/bin/tracker --db "$copy" dynamics --narratives ai_productivity,crypto_legitimacy,fed_easing_liquidity \
  --json > "$out/dynamics_three.json"
.venv/bin/tracker --db "$copy" dynamics --json > "$out/dynamics.json"
.venv/bin/python eval/dynamics_real.py --db "$copy" --note "$note" --three "$out/dynamics_three.json" \
  > eval/dynamics_real.md
.venv/bin/python - <<'PY'
from pathlib import Path
readme, figures = Path("README.md"), Path("eval/dynamics_real.md").read_text(encoding="utf-8")
begin, end = "<!-- dynamics:begin (eval/dynamics_real.sh) -->", "<!-- dynamics:end -->"
text = readme.read_text(encoding="utf-8")
head, rest = text.split(begin, 1)
readme.write_text(head + begin + "\n" + figures + rest[rest.index(end):], encoding="utf-8")
PY
echo "wrote eval/dynamics_real.md and the README figures"
