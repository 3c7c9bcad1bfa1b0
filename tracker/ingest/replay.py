"""Replay archived snapshot files (backfill): each file is a fetch of the feed named after its folder."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from tracker.base.db import transaction
from tracker.base.errors import TrackerError
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fetch import FetchResult, read_local_file
from tracker.ingest.normalize import body_hash
from tracker.ingest.parse import ParsedFeed, normalize_entries, parse_document
from tracker.ingest.runner import _STAMP, SNAPSHOT_SUFFIXES, FeedOutcome, IngestSummary, _finish, _progress, store_fetch
from tracker.ingest.store import (
    start_run,
    upsert_feed,
)

log = logging.getLogger(__name__)


#: Most bytes of a ``.json`` file read to decide whether it is a JSON Feed.
JSON_SNIFF_BYTES = 10 * 1024 * 1024


def is_json_feed(path: Path) -> bool:
    """True when a ``.json`` file is a JSON Feed (jsonfeed.org: a ``version`` URL and ``items``),
    not some other JSON such as an archive's ``stats.json``."""
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(JSON_SNIFF_BYTES + 1)[:JSON_SNIFF_BYTES])
    except (OSError, ValueError):
        return False
    return (isinstance(data, dict) and str(data.get("version", "")).startswith("https://jsonfeed.org/version/")
            and isinstance(data.get("items"), list))


def feed_name(directory: Path, folder: Path) -> str:
    """The feed a snapshot folder replays into: its path below ``directory``, normalised."""
    rel_parent = folder.relative_to(directory)
    raw = "_".join(rel_parent.parts) if rel_parent.parts else directory.name
    return re.sub(r"[^a-z0-9_\-]+", "_", raw.lower()).strip("_") or "snapshots"


def snapshot_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """(feed name, file) for every snapshot under ``directory``, in a stable order.

    The feed name is the file's folder relative to ``directory`` (``daily/ft_home/x.xml``
    -> ``ft_home``); files directly in ``directory`` take its own name. Only regular
    files count, and a ``.json`` file only when it is a JSON Feed.
    """
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.suffix.lower() not in SNAPSHOT_SUFFIXES or path.name.startswith("."):
            continue
        if path.suffix.lower() == ".json" and not is_json_feed(path):
            log.info("not a JSON Feed, not replayed: %s", path)
            continue
        yield feed_name(directory, path.parent), path


def check_feed_folders(files: Iterable[tuple[str, Path]]) -> dict[str, Path]:
    """The one folder behind each feed name; two folders that normalise to one name are an error
    (``FT Home/`` and ``ft_home/`` would otherwise be merged into one feed)."""
    folders: dict[str, Path] = {}
    for name, path in files:
        seen = folders.setdefault(name, path.parent)
        if seen != path.parent:
            raise TrackerError(
                f"the folders {seen} and {path.parent} would both replay into the feed {name!r}, mixing two "
                "archives. Fix: rename one of them (feed names are folder names in lower case, other "
                "characters as '_'), or replay them separately into different databases")
    return folders


def snapshot_time(path: Path, parsed: ParsedFeed | None) -> datetime:
    """When a snapshot was taken: its file-name stamp, else the feed's own date, else mtime.

    A bare date (the last snapshot of that day) counts as fetched at the feed's
    update time when that falls on the same day, otherwise at 23:59:59 UTC.
    """
    match = _STAMP.search(path.name)
    if match:
        day = datetime.strptime(match.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
        if match.group(2):
            return day.replace(hour=int(match.group(2)), minute=int(match.group(3)),
                               second=int(match.group(4)))
        if parsed is not None and parsed.updated is not None and parsed.updated.date() == day.date():
            return parsed.updated
        return day + timedelta(hours=23, minutes=59, seconds=59)
    if parsed is not None and parsed.updated is not None:
        return parsed.updated
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def replay_dir(
    db: sqlite_utils.Database,
    settings: Settings,
    directory: Path,
    *,
    progress: bool = False,
    files: Iterable[tuple[str, Path]] | None = None,
) -> IngestSummary:
    """Ingest archived snapshot files as if fetched on their day; already-replayed files are skipped."""
    if not directory.is_dir():
        raise TrackerError(f"{directory} is not a folder. Fix: pass --from-dir a folder of feed snapshots "
                           "(e.g. ../shared/data/orx365-rss-arch/daily/)")
    todo = list(files if files is not None else snapshot_files(directory))
    if not todo:
        raise TrackerError(f"no snapshot files ({', '.join(SNAPSHOT_SUFFIXES)}) found under {directory}. "
                           "Fix: point --from-dir at the folder that holds them")
    folders = check_feed_folders(todo)
    conn = db.conn
    with transaction(conn):
        run_id = start_run(conn, f"replay {directory}")
        ids: dict[str, int] = {}
        for name, folder in sorted(folders.items()):
            # A feed already known (say, live from feeds.yaml) keeps its URL and settings:
            # the archive is a past of that feed, not a new address for it.
            row = conn.execute("SELECT id FROM feeds WHERE name = ?", (name,)).fetchone()
            ids[name] = int(row[0]) if row else upsert_feed(
                conn, FeedConfig(name=name, url=folder.resolve().as_uri()))
    summary = IngestSummary(run_id=run_id, replay=True)
    with _progress(todo, f"Replaying {directory.name or directory}", progress) as items:
        for name, path in items:
            outcome = _replay_file(conn, settings, ids[name], name, path, run_id)
            if outcome is None:
                summary.skipped += 1
            else:
                summary.outcomes.append(outcome)
    _finish(conn, run_id, summary)
    return summary


def _stored_guids(conn: sqlite3.Connection, feed_id: int, parsed: ParsedFeed) -> set[str]:
    """Which of this document's guids the feed already has (item_key is the guid when there is one)."""
    guids = [str(g).strip() for g in (raw.get("id") or raw.get("guid") for raw in parsed.raw_entries) if g]
    known: set[str] = set()
    for start in range(0, len(guids), 500):
        chunk = guids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        known.update(row[0] for row in conn.execute(
            f"SELECT item_key FROM articles WHERE feed_id = ? AND item_key IN ({marks})", (feed_id, *chunk)))
    return known


def _replay_file(conn: sqlite3.Connection, settings: Settings, feed_id: int, name: str,
                 path: Path, run_id: int) -> FeedOutcome | None:
    # The same size cap and wall-clock budget as a fetch: a 300 MB file is a failed fetch, not 300 MB of memory.
    body, problem = read_local_file(path, settings.max_bytes, time.monotonic() + settings.total_timeout,
                                    settings.total_timeout)
    raw_hash = body_hash(body)
    snapshot = str(path.resolve())
    done = conn.execute(
        "SELECT 1 FROM fetches WHERE snapshot_path = ? AND body_hash = ? LIMIT 1", (snapshot, raw_hash)
    ).fetchone()
    if done:
        return None
    fetch: FetchResult | None = None
    parsed: ParsedFeed | None = None
    if problem is not None:
        fetch = FetchResult(url=path.resolve().as_uri(), status="failed", error_kind=problem[0],
                            error=f"cannot replay snapshot: {problem[1]}")
        fetched_at = datetime.now(UTC)
    else:
        # No base URL: the archive's file path says nothing about the publisher's links.
        parsed = parse_document(body)
        fetched_at = snapshot_time(path, parsed)
        normalize_entries(parsed, fetched_at, _stored_guids(conn, feed_id, parsed))
    with transaction(conn):
        outcome = store_fetch(conn, feed_id, fetch, parsed, run_id=run_id, fetched_at=fetched_at,
                              settings=settings, source="replay", snapshot_path=snapshot,
                              raw_hash=raw_hash, nbytes=len(body))
    outcome.feed = name
    outcome.snapshot = str(path)
    return outcome
