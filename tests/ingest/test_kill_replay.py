"""SIGKILL the replay at seeded random points, restart it, and get the database an uninterrupted run makes.

The replay runs as the real command line (``python -m tracker ingest --from-dir``) over
symlinks to a slice of the real archive. Kill points are chosen three ways: after a
random delay, after a random number of fetch rows, and while a write transaction is
open (found by probing the write lock). After every kill the half-done database must
already be consistent; after the restart it must equal the reference, row for row.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.paths import REPO
from tracker.base.migrations import MIGRATIONS

pytestmark = pytest.mark.slow

#: A fixed slice of the archive: every feed, DAYS consecutive days from day START.
START, DAYS = 100, 16
SEED = 20261120


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A folder of symlinks (never copies) to the real snapshots, one sub-folder per feed."""
    root = tmp_path_factory.mktemp("snapshots") / "daily"
    for feed_dir in sorted((shared_data / "orx365-rss-arch" / "daily").iterdir()):
        (root / feed_dir.name).mkdir(parents=True)
        for path in sorted(feed_dir.glob("*.xml"))[START:START + DAYS]:
            (root / feed_dir.name / path.name).symlink_to(path)
    return root


def command(db: Path, snapshots: Path) -> list[str]:
    return [sys.executable, "-m", "tracker", "--db", str(db), "ingest", "--from-dir", str(snapshots), "--json"]


def run_to_end(db: Path, snapshots: Path) -> float:
    start = time.monotonic()
    done = subprocess.run(command(db, snapshots), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


def canonical_dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a replay decides, without row ids, run ids or wall-clock times."""
    conn = sqlite3.connect(db)
    try:
        articles = conn.execute(
            "SELECT f.name, a.item_key, a.guid, a.url, a.canonical_url, a.title, a.summary, a.content_text, "
            "a.author, a.published_at, a.published_raw, a.date_flag, a.day, a.fetched_at, a.content_hash, "
            "a.title_key, a.language, rf.name, r.item_key, a.duplicate_reason, x.snapshot_path "
            "FROM articles a JOIN feeds f ON f.id = a.feed_id JOIN fetches x ON x.id = a.fetch_id "
            "LEFT JOIN articles r ON r.id = a.duplicate_of LEFT JOIN feeds rf ON rf.id = r.feed_id "
            "ORDER BY f.name, a.item_key").fetchall()
        fetches = conn.execute(
            "SELECT f.name, x.source, x.snapshot_path, x.body_hash, x.bytes, x.status, x.items_seen, x.items_new, "
            "x.items_duplicate, x.bozo, x.error_kind, x.error, x.started_at FROM fetches x "
            "JOIN feeds f ON f.id = x.feed_id ORDER BY x.snapshot_path").fetchall()
        feeds = conn.execute("SELECT name, url, last_fetched_at, last_ok_at, last_new_at FROM feeds "
                             "ORDER BY name").fetchall()
        fts = conn.execute("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'the'").fetchone()
    finally:
        conn.close()
    return {"articles": articles, "fetches": fetches, "feeds": feeds, "fts": [fts]}


def assert_consistent(db: Path) -> None:
    """What must hold after any kill: a sound file, whole fetches, an index that matches the table."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Killed during start-up: migrations are whole and in order, and nothing was ingested yet.
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = ([row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
                   if "_migrations" in tables else [])
        names = [name for name, _ in MIGRATIONS]
        assert applied == names[: len(applied)]
        if applied != names:
            assert "fetches" not in tables or conn.execute("SELECT COUNT(*) FROM fetches").fetchone() == (0,)
            return
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        # Each committed fetch holds exactly the articles it counted, no more, no fewer.
        mismatched = conn.execute(
            "SELECT x.id, x.items_new + x.items_duplicate, COUNT(a.id) FROM fetches x "
            "LEFT JOIN articles a ON a.fetch_id = x.id WHERE x.status != 'failed' GROUP BY x.id "
            "HAVING x.items_new IS NULL OR x.items_new + x.items_duplicate != COUNT(a.id)").fetchall()
        assert mismatched == []
        assert conn.execute("SELECT COUNT(*) FROM articles WHERE fetch_id NOT IN (SELECT id FROM fetches)"
                            ).fetchone() == (0,)
        # Every snapshot is recorded at most once, so a restart can never store it twice.
        assert conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM fetches GROUP BY snapshot_path, body_hash "
                            "HAVING COUNT(*) > 1)").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM articles a JOIN articles r ON r.id = a.duplicate_of "
                            "WHERE r.duplicate_of IS NOT NULL OR a.duplicate_of = a.id").fetchone() == (0,)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reference(snapshots: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[Any]], float]:
    db = tmp_path_factory.mktemp("reference") / "reference.db"
    seconds = run_to_end(db, snapshots)
    assert_consistent(db)
    dump = canonical_dump(db)
    assert len(dump["fetches"]) == len(list(snapshots.rglob("*.xml")))
    assert dump["articles"] and any(row[17] for row in dump["articles"]), "the slice should hold duplicates"
    return dump, seconds


def count_fetches(reader: sqlite3.Connection) -> int:
    try:
        return int(reader.execute("SELECT COUNT(*) FROM fetches").fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def write_transaction_open(db: Path) -> bool:
    """True when another connection holds the write lock (a transaction is in progress)."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        probe.close()


def kill_once(db: Path, snapshots: Path, how: str, value: float) -> bool:
    """Start the replay, SIGKILL it at the chosen point; True if it was killed before it finished."""
    proc = subprocess.Popen(command(db, snapshots), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if how == "seconds":
            time.sleep(value)
        else:
            while not db.exists() and proc.poll() is None:
                time.sleep(0.005)
            reader = sqlite3.connect(db, timeout=5)
            try:
                while proc.poll() is None and count_fetches(reader) < value:
                    time.sleep(0.005)
            finally:
                reader.close()
            if how == "in_transaction":
                while proc.poll() is None and not write_transaction_open(db):
                    pass
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    return proc.returncode == -signal.SIGKILL


def kill_plans(total_files: int, replay_seconds: float) -> list[list[tuple[str, float]]]:
    """Seeded kill points: by fetch count, by write transaction, by time, and a run killed three times."""
    rng = random.Random(SEED)
    by_count = [("fetches", float(rng.randint(1, total_files - 15))) for _ in range(2)]
    in_transaction = [("in_transaction", float(rng.randint(1, total_files - 15))) for _ in range(2)]
    # Start-up (imports, migrations) takes about a third of a second; kill before and during the replay.
    by_time = [("seconds", round(rng.uniform(0.05, 0.4), 3)),
               ("seconds", round(rng.uniform(0.4, max(0.5, replay_seconds * 0.8)), 3))]
    repeated = [("fetches", float(n)) for n in sorted(rng.sample(range(1, total_files - 15), 3))]
    return [[plan] for plan in by_count + in_transaction + by_time] + [repeated]


def test_killed_replays_restart_to_the_uninterrupted_result(
    snapshots: Path, reference: tuple[dict[str, list[Any]], float], tmp_path: Path
) -> None:
    expected, seconds = reference
    total = len(expected["fetches"])
    for i, plan in enumerate(kill_plans(total, seconds)):
        db = tmp_path / f"killed-{i}.db"
        for how, value in plan:
            killed = kill_once(db, snapshots, how, value)
            if how != "seconds":
                # Count-based kills wait for the point, so they land mid-run; a timed kill may come first.
                assert killed, f"plan {plan}: the replay finished before the kill"
            if db.exists():
                assert_consistent(db)
                conn = sqlite3.connect(db)
                try:
                    assert not killed or count_fetches(conn) < total
                finally:
                    conn.close()
        run_to_end(db, snapshots)
        assert_consistent(db)
        actual = canonical_dump(db)
        for table in expected:
            assert actual[table] == expected[table], f"plan {plan}: {table} differ after restart"
