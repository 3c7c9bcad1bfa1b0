"""Local feeds (file paths and file:// URLs) and replayed snapshots get the same size cap and
wall-clock budget as HTTP: /dev/zero, a FIFO or a 300 MB file end as a failed fetch row."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from tests.feedserver import rss
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig, load_feeds_config
from tracker.ingest.fetch import fetch_feed, make_client
from tracker.ingest.replay import replay_dir
from tracker.ingest.runner import ingest_feeds

BODY = rss([{"guid": "l1", "title": "Local feed story on central bank reserves", "link": "http://l.example/1",
             "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}])
BIG = 300 * 1024 * 1024


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "t.db", total_timeout=5.0, max_bytes=1_000_000)


def finishes(fn: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it does not end in time."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds}s"
    return out[0]


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (reads as zeros)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def fetch_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT f.name, x.* FROM fetches x JOIN feeds f ON f.id = x.feed_id ORDER BY x.id"))


def test_dev_zero_is_a_failed_fetch_not_gigabytes(settings: Settings) -> None:
    tracemalloc.start()
    try:
        with make_client(settings) as client:
            result = finishes(lambda: fetch_feed(client, "file:///dev/zero", settings))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.status, result.error_kind) == ("failed", "not_a_file")
    assert "device" in result.error and peak < 5_000_000


def test_fifo_in_the_feeds_folder_is_a_failed_fetch_not_a_hang(
        db: sqlite_utils.Database, settings: Settings, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xml")  # nobody ever writes: a plain open() would block forever
    (tmp_path / "good.xml").write_bytes(BODY)
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - {name: pipe, url: pipe.xml}\n  - {name: good, url: good.xml}\n")
    summary = finishes(lambda: ingest_feeds(db, settings, load_feeds_config(config)))
    rows = {row["name"]: row for row in fetch_rows(db)}
    assert (rows["pipe"]["status"], rows["pipe"]["error_kind"]) == ("failed", "not_a_file")
    assert "FIFO" in rows["pipe"]["error"]
    assert rows["good"]["status"] == "ok" and summary.articles_new == 1


def test_a_300_mb_local_feed_is_refused_by_the_cap_without_reading_it(
        db: sqlite_utils.Database, settings: Settings, tmp_path: Path) -> None:
    sparse(tmp_path / "huge.xml", BIG)
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - {name: huge, url: huge.xml}\n")
    tracemalloc.start()
    try:
        start = time.monotonic()
        finishes(lambda: ingest_feeds(db, settings, load_feeds_config(config)))
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [row] = fetch_rows(db)
    assert (row["status"], row["error_kind"]) == ("failed", "too_large")
    assert f"{BIG:,}" in row["error"] and peak < 20_000_000 and elapsed < 5


def test_a_symlink_to_dev_zero_is_refused_by_the_fetcher_too(settings: Settings, tmp_path: Path) -> None:
    # /dev/zero through a symlink the feeds check would refuse; the fetcher itself must hold too.
    (tmp_path / "zero.xml").symlink_to("/dev/zero")
    with make_client(settings) as client:
        result = finishes(lambda: fetch_feed(client, (tmp_path / "zero.xml").as_uri(), settings))
    assert result.error_kind == "not_a_file"


def test_local_files_keep_conditional_get(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(BODY)
    with make_client(settings) as client:
        first = fetch_feed(client, path.as_uri(), settings)
        again = fetch_feed(client, path.as_uri(), settings, etag=first.etag)
        by_date = fetch_feed(client, path.as_uri(), settings, last_modified=first.last_modified)
        missing = fetch_feed(client, (tmp_path / "nope.xml").as_uri(), settings)
        folder = fetch_feed(client, tmp_path.as_uri(), settings)
    assert (first.status, first.body, first.http_status) == ("ok", BODY, 200)
    assert (again.status, again.http_status, again.etag) == ("not_modified", 304, first.etag)
    assert by_date.status == "not_modified"
    assert (missing.status, missing.http_status) == ("failed", 404) and "404" in (missing.error or "")
    assert (folder.status, folder.error_kind) == ("failed", "not_a_file")


def test_replay_caps_snapshot_files_too(db: sqlite_utils.Database, settings: Settings, tmp_path: Path) -> None:
    daily = tmp_path / "daily" / "wire"
    daily.mkdir(parents=True)
    (daily / "2026-11-02.xml").write_bytes(BODY)
    sparse(daily / "2026-11-03.xml", BIG)
    tracemalloc.start()
    try:
        summary = finishes(lambda: replay_dir(db, settings, tmp_path / "daily"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rows = fetch_rows(db)
    assert [row["status"] for row in rows] == ["ok", "failed"]
    assert rows[1]["error_kind"] == "too_large" and peak < 20_000_000
    assert summary.articles_new == 1


def test_a_feed_config_built_in_code_still_cannot_read_devices(
        db: sqlite_utils.Database, settings: Settings) -> None:
    # The loader refuses /dev paths; a FeedConfig made by a library caller reaches the fetcher, which holds.
    summary = finishes(lambda: ingest_feeds(db, settings, [FeedConfig(name="z", url="file:///dev/zero")]))
    assert summary.feeds_failed == 1 and fetch_rows(db)[0]["error_kind"] == "not_a_file"
