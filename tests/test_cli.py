"""The command line never ends in a traceback: every error is exit 2 with the cause and a fix,
a total outage has its own exit status, and the summaries count what they say they count."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from tests.feedserver import rss, send, serve
from tests.paths import REPO
from tracker.base.db import open_db
from tracker.cli import cli

BODY = rss([{"guid": "c1", "title": "Custodian wins trust charter from state regulator",
             "link": "http://example.com/c1", "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}])


def invoke(*args: str, env: dict[str, str] | None = None, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def assert_clear_error(result: Result, *needles: str) -> None:
    """Exit 2, 'Error: ... Fix: ...' and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Error:" in result.output and "Fix" in result.output, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (AssertionError, TypeError))
    for needle in needles:
        assert needle in result.output, result.output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tracker_db(path: Path) -> Path:
    open_db(path).conn.close()
    return path


def feeds_file(tmp_path: Path, feeds: dict[str, str]) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n" + "".join(f"  - {{name: {n}, url: '{u}'}}\n" for n, u in feeds.items()))
    return path


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` read-only even for root: ``chattr +i`` as root, ``chmod`` otherwise."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make {path} immutable here: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


# ---- a database that is not the tracker's ------------------------------------------------------


@pytest.fixture
def foreign_db(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('x');")
    conn.close()
    return path


COMMANDS: list[Sequence[str]] = [
    ("ingest", "--feeds", "{feeds}"), ("run", "--feeds", "{feeds}"), ("enrich",), ("index",),
    ("report", "--week", "2026-W47", "--out", "{out}"), ("serve", "--port", "1"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_foreign_sqlite_file_is_refused_untouched_by_every_command(
        tmp_path: Path, foreign_db: Path, command: Sequence[str]) -> None:
    feeds = feeds_file(tmp_path, {"one": "one.xml"})
    (tmp_path / "one.xml").write_bytes(BODY)
    before = digest(foreign_db)
    args = [a.format(feeds=feeds, out=tmp_path / "reports") for a in command]
    result = invoke("--db", str(foreign_db), *args)
    assert_clear_error(result, "not a tracker database", "notes")
    assert digest(foreign_db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["feeds.yaml", "one.xml", "notes.db"])


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes, not a database\n" * 100)
    assert_clear_error(invoke("--db", str(path), "index"), "not a SQLite database")
    assert path.read_text().startswith("just some notes")


def test_a_half_created_database_is_still_the_trackers(tmp_path: Path) -> None:
    # A first run killed right after creating its migration ledger left only `_migrations`.
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.close()
    result = invoke("--db", str(path), "index", "--json")
    assert result.exit_code == 0, result.output


# ---- read-only storage and lock folders ----------------------------------------------------------


@pytest.mark.parametrize("command", [("ingest", "--feeds", "{feeds}"), ("index",)], ids=["ingest", "index"])
def test_a_read_only_database_is_a_clear_error(tmp_path: Path, command: Sequence[str]) -> None:
    db = tracker_db(tmp_path / "t.db")
    (tmp_path / "one.xml").write_bytes(BODY)
    feeds = feeds_file(tmp_path, {"one": "one.xml"})
    with read_only(db):
        result = invoke("--db", str(db), *[a.format(feeds=feeds) for a in command])
    assert_clear_error(result, "read-only")


def test_an_unwritable_lock_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    with read_only(folder):
        result = invoke("--db", str(folder / "t.db"), "index")
    assert_clear_error(result, "lock file", str(folder))


# ---- bad values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("var", "value"), [("TRACKER_CONCURRENCY", "abc"), ("TRACKER_CONCURRENCY", "0"),
                                            ("TRACKER_TIMEOUT", "nan"), ("TRACKER_TIMEOUT", "soon")])
def test_bad_environment_values_are_named(tmp_path: Path, var: str, value: str) -> None:
    result = invoke("--db", str(tmp_path / "t.db"), "index", env={var: value})
    assert_clear_error(result, var, repr(value))


@pytest.mark.parametrize("args", [("index", "--spike-p", "nan"), ("index", "--spike-p", "inf"),
                                  ("index", "--wait", "nan"), ("ingest", "--wait", "-1"),
                                  ("index", "--smooth-days", "0"), ("index", "--prior-days", "-5"),
                                  ("index", "--interval", "1.5"), ("index", "--min-expected", "nan")])
def test_non_finite_or_negative_options_are_usage_errors(tmp_path: Path, args: Sequence[str]) -> None:
    result = invoke("--db", str(tmp_path / "t.db"), *args)
    assert result.exit_code == 2 and "Invalid value" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "t.db").exists()


@pytest.mark.parametrize("week", ["0001-W02", "9999-W52"])
def test_weeks_outside_the_calendar_are_a_clear_error(tmp_path: Path, week: str) -> None:
    db = tracker_db(tmp_path / "t.db")
    result = invoke("--db", str(db), "report", "--week", week, "--out", str(tmp_path / "out"))
    assert_clear_error(result, week)


# ---- exceptions no stage expected --------------------------------------------------------------------


def test_memory_error_is_exit_2_with_a_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr("tracker.cli.collect.run_ingest", exhausted)
    assert_clear_error(invoke("--db", str(tmp_path / "t.db"), "ingest"), "out of memory")


def test_any_unexpected_exception_is_exit_2_and_says_how_to_see_more(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr("tracker.cli.collect.run_ingest", broken)
    result = invoke("--db", str(tmp_path / "t.db"), "ingest")
    assert_clear_error(result, "KeyError", "-vv")


# ---- exit statuses of ingest and run -----------------------------------------------------------------


def test_total_outage_has_its_own_exit_status(tmp_path: Path) -> None:
    (tmp_path / "one.xml").write_bytes(BODY)
    db = tmp_path / "t.db"
    all_gone = feeds_file(tmp_path, {"gone": "gone.xml", "lost": "lost.xml"})
    result = invoke("--db", str(db), "ingest", "--feeds", str(all_gone))
    assert result.exit_code == 3, result.output
    assert "Every feed failed" in result.output
    some_gone = feeds_file(tmp_path, {"one": "one.xml", "gone": "gone.xml"})
    assert invoke("--db", str(db), "ingest", "--feeds", str(some_gone)).exit_code == 1
    assert invoke("--db", str(db), "ingest", "--feeds", str(feeds_file(tmp_path, {"one": "one.xml"}))).exit_code == 0
    conn = sqlite3.connect(db)
    try:
        assert [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")] == ["failed", "partial", "ok"]
    finally:
        conn.close()


def test_a_new_database_is_announced(tmp_path: Path) -> None:
    typo = tmp_path / "trakcer.db"
    result = invoke("--db", str(typo), "index")
    assert result.exit_code == 0 and f"created a new database at {typo}" in result.output
    again = invoke("--db", str(typo), "index")
    assert "created a new database" not in again.output
    as_json = invoke("--db", str(tmp_path / "other.db"), "index", "--json")
    assert json.loads(as_json.stdout)["database_created"] == str(tmp_path / "other.db")


def test_replay_summary_counts_feeds_not_snapshot_files(tmp_path: Path) -> None:
    daily = tmp_path / "daily"
    for feed in ("alpha", "beta", "gamma"):
        (daily / feed).mkdir(parents=True)
        for day in range(1, 5):
            (daily / feed / f"2026-11-0{day}.xml").write_bytes(rss([{
                "guid": f"{feed}-{day}", "title": f"Story {day} of feed {feed} on bond markets",
                "link": f"http://{feed}.example/{day}", "pubDate": f"Mon, 0{day} Nov 2026 10:00:00 GMT"}]))
    result = invoke("--db", str(tmp_path / "t.db"), "ingest", "--from-dir", str(daily))
    assert result.exit_code == 0, result.output
    assert "Feeds: 3 ok, 0 failed (12 snapshot files replayed)" in result.output
    figures = json.loads(invoke("--db", str(tmp_path / "u.db"), "ingest", "--from-dir", str(daily), "--json").stdout)
    assert (figures["feeds"], figures["feeds_ok"], figures["fetches"]) == (3, 3, 12)


def test_counts_are_pluralised() -> None:
    from tracker.cli import plural

    assert (plural(1, "spike"), plural(2, "spike"), plural(0, "spike")) == ("1 spike", "2 spikes", "0 spikes")
    assert plural(1, "snapshot file") == "1 snapshot file" and plural(1_000, "article") == "1,000 articles"


# ---- analyze input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "needle"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("Zürich bank raises 3bn francs".encode("latin-1"), "not UTF-8"),
    (b"", "empty"),
    (b"  \n\t \n", "empty"),
])
def test_analyze_refuses_input_it_cannot_read(tmp_path: Path, data: bytes, needle: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    assert_clear_error(invoke("analyze", str(path)), needle)
    assert_clear_error(invoke("analyze", "-", input=data), needle)


class LengthStage:
    """A stand-in stage that records what it was given (no models)."""

    name = "length"
    version = "length-1"
    seen: ClassVar[list[int]] = []

    def process(self, texts: Sequence[str]) -> list[int]:
        self.seen.extend(len(t) for t in texts)
        return [len(t) for t in texts]

    def describe(self, result: int) -> dict[str, Any]:
        return {"length": result}


def test_analyze_warns_how_much_of_a_huge_input_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tracker.analyze.default_stages", lambda settings: [LengthStage()])
    LengthStage.seen.clear()
    path = tmp_path / "big.txt"
    path.write_bytes(b"Goldman Sachs raises its gold forecast. " * 524_288)  # 20 MiB
    result = invoke("analyze", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert "Warning: the input has 20,971,520 bytes; only the first 1,000,000 characters" in result.output
    assert "4.8%" in result.output and LengthStage.seen == [1_000_000]
    small = invoke("analyze", "-", "--json", input="Goldman Sachs raises its gold forecast.")
    assert "Warning" not in small.output and LengthStage.seen[-1] == 39


# ---- a killed run is marked aborted --------------------------------------------------------------------


def test_a_killed_run_is_marked_aborted_by_the_next_writer(tmp_path: Path) -> None:
    release = threading.Event()

    def stuck(handler: Any) -> None:
        release.wait(30)
        send(handler, 200, BODY, {"Content-Type": "application/rss+xml"})

    db = tmp_path / "t.db"
    with serve({"/stuck": stuck, "/ok": lambda h: send(h, 200, BODY, {"Content-Type": "application/rss+xml"})}) as srv:
        config = feeds_file(tmp_path, {"stuck": srv.url("/stuck")})
        proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", str(db), "ingest", "--feeds", str(config)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not srv.hits("/stuck"):
            assert proc.poll() is None and time.monotonic() < deadline, "the writer never fetched"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        release.set()
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("SELECT status, finished_at FROM runs").fetchall() == [(None, None)]
        finally:
            conn.close()
        result = invoke("--db", str(db), "ingest", "--feeds", str(feeds_file(tmp_path, {"ok": srv.url("/ok")})))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT status, finished_at IS NOT NULL, summary FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()
    assert [(status, done) for status, done, _ in rows] == [("aborted", 1), ("ok", 1)]
    assert json.loads(rows[0][2])["aborted"] is True
