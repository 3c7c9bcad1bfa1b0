"""The write lock and the ingest command line: exit codes, summaries and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.feedserver import rss
from tracker.base.errors import LockError
from tracker.base.lock import write_lock
from tracker.cli import cli

BODY = rss([{"guid": "x1", "title": "Custodian wins trust charter from state regulator",
             "link": "http://example.com/x1", "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}])


def test_second_holder_is_refused_with_a_fix(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with write_lock(db), pytest.raises(LockError, match="--wait"), write_lock(db, wait=0.3):
        pass
    with write_lock(db):  # released after the block
        pass


def test_lock_held_by_another_process_then_released_on_exit(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    code = ("import sys,time; from tracker.base.lock import write_lock\n"
            f"with write_lock(__import__('pathlib').Path({str(db)!r})):\n"
            "    print('held', flush=True); time.sleep(1.5)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(LockError, match=f"pid {proc.pid}"), write_lock(db):
        pass
    start = time.monotonic()
    with write_lock(db, wait=10):  # queues behind the other process
        assert time.monotonic() - start > 0.2
    proc.wait()


def write_config(tmp_path: Path, feeds: dict[str, str]) -> Path:
    lines = ["feeds:"] + [f"  - name: {n}\n    url: {u}" for n, u in feeds.items()]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_command_summarises_and_exits_1_when_a_feed_failed(tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_bytes(BODY)
    config = write_config(tmp_path, {"good": "good.xml", "missing": "missing.xml"})
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(tmp_path / "t.db"), "ingest", "--feeds", str(config), "--json"])
    assert result.exit_code == 1, result.output
    figures = json.loads(result.output)
    assert (figures["feeds_ok"], figures["feeds_failed"], figures["articles_new"]) == (1, 1, 1)
    assert figures["failures"][0]["feed"] == "missing" and "404" in figures["failures"][0]["error"]
    again = runner.invoke(cli, ["--db", str(tmp_path / "t.db"), "ingest", "--feeds", str(config)])
    assert "New articles: 0" in again.output


def test_bad_config_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: x\n")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "t.db"), "ingest", "--feeds", str(config)])
    assert result.exit_code == 2
    assert "Error:" in result.output and "url is missing" in result.output and "Traceback" not in result.output


def test_two_paths_to_one_database_share_one_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    db = real_dir / "tracker.db"
    db.write_bytes(b"")
    (tmp_path / "link.db").symlink_to(db)
    (tmp_path / "linked_dir").symlink_to(real_dir)
    monkeypatch.chdir(tmp_path)
    others = [tmp_path / "link.db", tmp_path / "linked_dir" / "tracker.db", Path("data/tracker.db"),
              Path("linked_dir/../data/tracker.db")]
    with write_lock(db):
        for other in others:
            with pytest.raises(LockError, match="another tracker process"), write_lock(other):
                pass
    for other in others:  # and each of them locks the same file
        with write_lock(other) as path:
            assert path == real_dir / "tracker.db.lock"


def test_the_lock_file_names_its_holder(tmp_path: Path) -> None:
    import os

    with write_lock(tmp_path / "t.db") as path:
        assert path.read_text() == str(os.getpid())
