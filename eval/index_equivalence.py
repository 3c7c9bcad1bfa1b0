"""Check that a change to the index code leaves every stored index figure unchanged.

Builds the index of each given database twice, once with the ``tracker`` package of a git
revision (exported to a temporary folder) and once with this checkout, each in its own
process on its own copy of the database, then compares the index tables row by row
(``narrative_index``, ``narrative_source_daily``, ``narrative_source_scale``,
``narrative_index_base``; ``computed_at`` ignored). Floats must agree to ``--tol``
(relative and absolute, default 1e-9); everything else exactly.

The two inputs of issue 11's acceptance are built with ``--make DIR`` (the bundled sample
feeds, and May 2025 of ../shared/data/orx365-rss-arch/daily, each through ``tracker run``
with the shipped classifier)::

    .venv/bin/python eval/index_equivalence.py --make /tmp/eq
    .venv/bin/python eval/index_equivalence.py --rev HEAD~1 /tmp/eq/sample.db /tmp/eq/may2025.db
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORX_DAILY = ROOT.parent / "shared" / "data" / "orx365-rss-arch" / "daily"

TABLES = {
    "narrative_index": "narrative_id, day",
    "narrative_source_daily": "narrative_id, day, feed_id",
    "narrative_source_scale": "narrative_id, feed_id",
    "narrative_index_base": "narrative_id",
}

#: Run in a child process with the tree under test first on sys.path.
BUILD = """
import json, sys
from pathlib import Path
from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.index.store import build_index
path = Path(sys.argv[1])
db = open_db(path)
build_index(db, Settings(db_path=path))
out = {}
for table, order in json.loads(sys.argv[2]).items():
    cur = db.conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    out[table] = [{k: v for k, v in zip(names, row) if k != "computed_at"} for row in cur]
print(json.dumps(out))
"""


def build_with(tree: Path, db: Path, workdir: Path, label: str) -> dict[str, list[dict[str, Any]]]:
    """The index tables after ``build_index`` with the ``tracker`` package found in ``tree``."""
    copy = workdir / f"{label}-{db.name}"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(copy), json.dumps(TABLES)],
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return result


def same(a: Any, b: Any, tol: float) -> bool:
    """Equal, floats within ``tol`` (relative or absolute)."""
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    if numbers and (isinstance(a, float) or isinstance(b, float)):
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return bool(a == b)


def compare(old: dict[str, list[dict[str, Any]]], new: dict[str, list[dict[str, Any]]],
            tol: float) -> dict[str, Any]:
    """Rows, values compared and the differences (at most 10 listed per table)."""
    report: dict[str, Any] = {}
    for table in TABLES:
        a, b = old[table], new[table]
        diffs: list[str] = []
        values = max_abs = 0.0
        if len(a) != len(b):
            diffs.append(f"{len(a)} rows before, {len(b)} after")
        for ra, rb in zip(a, b, strict=False):
            for key in ra:
                values += 1
                va, vb = ra[key], rb.get(key, "<missing column>")
                if isinstance(va, float) and isinstance(vb, float):
                    max_abs = max(max_abs, abs(va - vb))
                if not same(va, vb, tol):
                    diffs.append(f"{key}: {va!r} -> {vb!r} in {ra}")
        report[table] = {"rows": len(a), "values": int(values), "max_abs_diff": max_abs,
                         "differences": len(diffs), "first": diffs[:10]}  # fmt: skip
    return report


def make_inputs(out: Path) -> list[Path]:
    """The bundled sample feeds and May 2025 of orx365, each through ``tracker run``."""
    out.mkdir(parents=True, exist_ok=True)
    tracker = [sys.executable, "-m", "tracker"]
    sample = out / "sample.db"
    subprocess.run([*tracker, "--db", str(sample), "run", "--feeds",
                    str(ROOT / "tracker" / "sample_feeds" / "feeds.yaml")], check=True)  # fmt: skip
    may = out / "may2025"
    for feed in sorted(p for p in ORX_DAILY.iterdir() if p.is_dir()):
        (may / feed.name).mkdir(parents=True, exist_ok=True)
        for snap in feed.glob("2025-05-*.xml"):
            target = may / feed.name / snap.name
            if not target.exists():
                target.symlink_to(snap)
    subprocess.run([*tracker, "--db", str(out / "may2025.db"), "run", "--from-dir", str(may)], check=True)
    return [sample, out / "may2025.db"]


def main() -> None:
    """Build both ways, compare, print a JSON report; exit 1 on any difference."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dbs", nargs="*", type=Path, help="tracker databases (read, never written)")
    parser.add_argument("--rev", default="HEAD", help="git revision of the code before the change")
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--make", type=Path, metavar="DIR", help="build the two acceptance inputs here")
    args = parser.parse_args()
    dbs = list(args.dbs) + (make_inputs(args.make) if args.make else [])
    if not dbs:
        parser.error("give databases or --make DIR")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old_tree = work / "old"
        old_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.rev, "tracker"],
                                 capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        report = {}
        for db in dbs:
            old = build_with(old_tree, db, work, "old")
            new = build_with(ROOT, db, work, "new")
            report[str(db)] = compare(old, new, args.tol)
        shutil.rmtree(old_tree)
    print(json.dumps({"rev": args.rev, "tol": args.tol, "databases": report}, indent=1))
    bad = sum(t["differences"] for r in report.values() for t in r.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
