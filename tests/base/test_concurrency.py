"""Concurrency: two writers at once (one is refused clearly or queues), and readers during writes.

Writers are real ``python -m tracker`` processes. Readers open the database the way
Datasette does (``file:...?mode=ro``), and Datasette itself answers queries while a
replay writes: under WAL no reader may ever see a fetch without its articles or the
other way round, nor be refused.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import FeedServer, rss, send, serve
from tests.paths import REPO

ITEMS = [{"guid": f"urn:c:{i}", "title": f"Concurrent story number {i} on yields", "link": f"http://c.example/{i}",
          "description": f"Body {i}.", "pubDate": f"Mon, 02 Nov 2026 {10 + i}:00:00 GMT"} for i in range(6)]
#: How long the feed takes to answer, so that the first writer holds the lock meanwhile.
SLOW = 1.5


def tracker(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tracker", "--db", str(db), *args]


def slow_feed(editions: list[list[dict[str, str]]]) -> tuple[dict[str, Any], list[float]]:
    """A feed that answers after SLOW seconds with the next edition; returns routes and answer times."""
    answered: list[float] = []
    lock = threading.Lock()

    def handler(h: BaseHTTPRequestHandler) -> None:
        with lock:
            edition = editions[min(len(answered), len(editions) - 1)]
            answered.append(0.0)
            slot = len(answered) - 1
        time.sleep(SLOW)
        send(h, 200, rss(edition), {"Content-Type": "application/rss+xml"})
        answered[slot] = time.monotonic()

    return {"/feed": handler}, answered


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - name: slow\n    url: {url}\n")
    return path


def wait_for_request(srv: FeedServer, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while len(srv.requests) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the writer never fetched"
        time.sleep(0.01)


@pytest.mark.slow
def test_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    # The feed does not answer until the test says so: the first writer holds the lock for as
    # long as the refused writers take to start, however loaded the machine is.
    release = threading.Event()

    def held(handler: BaseHTTPRequestHandler) -> None:
        release.wait(120)
        send(handler, 200, rss(ITEMS[:3]), {"Content-Type": "application/rss+xml"})

    with serve({"/feed": held}) as srv:
        config = write_config(tmp_path, srv.url("/feed"))
        first = subprocess.Popen(tracker(db, "ingest", "--feeds", str(config), "--json"), cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_request(srv, 1, first)  # it holds the lock while it waits for the feed
            refused = [subprocess.run(tracker(db, command, "--feeds", str(config), "--json"), cwd=REPO,
                                      capture_output=True, text=True, timeout=120) for command in ("ingest", "run")]
        finally:
            release.set()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    for result in refused:
        assert result.returncode == 2, result.stderr
        assert "another tracker process" in result.stderr and f"pid {first.pid}" in result.stderr
        assert "--wait" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""
    assert len(srv.requests) == 1, "a refused writer must not fetch"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone() == (3,)
    finally:
        conn.close()
    assert json.loads(out)["articles_new"] == 3


@pytest.mark.slow
def test_waiting_writer_queues_and_both_totals_are_right(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    # The second run sees the feed moved on: two items it already has, two new ones.
    routes, answered = slow_feed([ITEMS[:4], ITEMS[2:6]])
    with serve(routes) as srv:
        config = write_config(tmp_path, srv.url("/feed"))
        first = subprocess.Popen(tracker(db, "ingest", "--feeds", str(config), "--json"), cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_request(srv, 1, first)
        second = subprocess.Popen(tracker(db, "ingest", "--feeds", str(config), "--wait", "30", "--json"),
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_out, first_err = first.communicate(timeout=60)
        first_done = time.monotonic()
        second_out, second_err = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0), first_err + second_err
    assert len(answered) == 2 and answered[1] > first_done - 0.5, "the second writer fetched before the first ended"
    assert (json.loads(first_out)["articles_new"], json.loads(second_out)["articles_new"]) == (4, 2)
    conn = sqlite3.connect(db)
    try:
        keys = [row[0] for row in conn.execute("SELECT item_key FROM articles ORDER BY item_key")]
        assert keys == sorted(item["guid"] for item in ITEMS)
        runs = conn.execute("SELECT started_at, finished_at, status FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()
    assert [status for *_, status in runs] == ["ok", "ok"]
    assert runs[1][0] >= runs[0][1], "the runs overlapped"


# ---- readers during writes ---------------------------------------------------------------------

#: One statement, so one snapshot: fetch rows whose articles are missing or extra, and orphans.
CONSISTENCY_SQL = """
SELECT
  (SELECT COUNT(*) FROM fetches) AS fetches,
  (SELECT COUNT(*) FROM articles) AS articles,
  (SELECT COUNT(*) FROM (
     SELECT x.id FROM fetches x LEFT JOIN articles a ON a.fetch_id = x.id
     WHERE x.status != 'failed' GROUP BY x.id
     HAVING COALESCE(x.items_new, -1) + COALESCE(x.items_duplicate, 0) != COUNT(a.id))) AS torn,
  (SELECT COUNT(*) FROM articles WHERE fetch_id NOT IN (SELECT id FROM fetches)) AS orphans
"""


@pytest.fixture
def snapshots(tmp_path: Path, shared_data: Path) -> Path:
    """Symlinks (not copies) to twelve days of every archived feed."""
    root = tmp_path / "daily"
    for feed_dir in sorted((shared_data / "orx365-rss-arch" / "daily").iterdir()):
        (root / feed_dir.name).mkdir(parents=True)
        for path in sorted(feed_dir.glob("*.xml"))[200:212]:
            (root / feed_dir.name / path.name).symlink_to(path)
    return root


def wait_for_schema(db: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline and proc.poll() is None, "the writer never created the schema"
        if db.exists():
            try:
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    conn.execute("SELECT 1 FROM fetches LIMIT 1").fetchall()
                    return
                finally:
                    conn.close()
            except sqlite3.OperationalError:
                pass
        time.sleep(0.005)


@pytest.mark.slow
def test_readers_never_see_half_a_fetch_during_a_replay(tmp_path: Path, snapshots: Path) -> None:
    from datasette.app import Datasette

    db = tmp_path / "tracker.db"
    total = len(list(snapshots.rglob("*.xml")))
    writer = subprocess.Popen(tracker(db, "ingest", "--from-dir", str(snapshots), "--json"), cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_schema(db, writer)
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
    datasette = Datasette(files=[str(db)])
    seen: list[tuple[int, int, int, int]] = []
    via_datasette: list[dict[str, int]] = []

    async def read_while_writing() -> None:
        while writer.poll() is None:
            seen.append(ro.execute(CONSISTENCY_SQL).fetchone())
            response = await datasette.client.get(
                "/tracker.json", params={"sql": CONSISTENCY_SQL, "_shape": "array"})
            assert response.status_code == 200, response.text
            via_datasette.append(response.json()[0])

    try:
        asyncio.run(read_while_writing())
        assert writer.wait(timeout=60) == 0
        seen.append(ro.execute(CONSISTENCY_SQL).fetchone())
    finally:
        ro.close()
        if writer.stderr is not None:
            writer.stderr.close()
    # The readers really read while the writer wrote: they saw the replay part done, several times.
    partial = {fetches for fetches, *_ in seen if 0 < fetches < total}
    assert len(partial) >= 5, f"only {len(partial)} distinct intermediate states seen"
    assert seen[-1][0] == total and seen[-1][1] > 0
    for fetches, articles, torn, orphans in seen:
        assert (torn, orphans) == (0, 0), (fetches, articles)
    assert via_datasette and all((row["torn"], row["orphans"]) == (0, 0) for row in via_datasette)
    # Counts only ever grow: no reader saw a write undone.
    assert [s[:2] for s in seen] == sorted(s[:2] for s in seen)
