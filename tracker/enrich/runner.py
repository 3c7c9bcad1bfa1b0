"""The enrichment runner: run each stage over the articles it has not yet seen.

A stage is anything with a ``name``, a ``version``, ``prepare`` (sync reference
tables), ``process`` (texts in, results out, pure), ``save`` (write one batch of
results) and ``describe`` (one result as JSON-able data for ``tracker analyze``).
:func:`enrich_pending` selects, per stage, the non-duplicate articles that have
no ``enrichments`` row at the stage's current version, and writes each batch's
outputs together with its ``enrichments`` rows in one transaction, so an
interrupted run never leaves an article half-enriched and a version bump
re-enriches everything.

To add a stage: implement the :class:`Stage` protocol and list it in
:func:`tracker.enrich.stages.default_stages`. A stage whose ``process`` reads a cache
in the store also implements :class:`CachedStage`, so that engines whose workers have
no database (``tracker.enrich.ray_engine``) can run it; this local engine does not
need it.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping, Sequence, Set
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import sqlite_utils

from tracker.base.db import transaction, utcnow
from tracker.base.settings import Settings

DEFAULT_BATCH_SIZE = 256


#: A sentence ends at . ! ? or … (with any closing quotes or brackets) before white space, or at a line end.
_SENTENCE_END = re.compile(r"([.!?…][\"”’')\]]*)[ \t]+|\n+")


def first_sentences(text: str, n: int | None) -> str:
    """The first ``n`` sentences of ``text`` (all of it when ``n`` is None), line breaks kept.

    A cheap rule rather than the spaCy sentencizer, so the cut costs nothing per article; an
    abbreviation ("U.S. Fed") may end a "sentence" early, which only keeps a little less text.
    """
    if n is None:
        return text
    count = pos = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(1) or "")
        if text[pos:end].strip():
            count += 1
            if count >= n:
                return text[:end].rstrip()
        pos = match.end()
    return text


def article_text(title: str | None, summary: str | None, content_text: str | None,
                 max_sentences: int | None = None) -> str:
    """The text every stage analyses: title, a blank line, then the first ``max_sentences``
    sentences of the full text if present, else of the summary."""
    head = (title or "").strip()
    body = first_sentences((content_text or "").strip() or (summary or "").strip(), max_sentences)
    if head and body:
        return f"{head}\n\n{body}"
    return head or body


def forget_enrichments(conn: sqlite3.Connection, article_ids: Sequence[int] | set[int]) -> int:
    """Make these articles pending for every stage again (their text changed); returns rows removed."""
    ids = sorted(article_ids)
    removed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cur = conn.execute(f"DELETE FROM enrichments WHERE article_id IN ({','.join('?' * len(chunk))})", chunk)
        removed += cur.rowcount
    return removed


@runtime_checkable
class Stage(Protocol):
    """One enrichment step; see the module docstring."""

    @property
    def name(self) -> str:
        """Stage name, the ``enrichments.stage`` key (e.g. ``entities``)."""
        ...

    @property
    def version(self) -> str:
        """Versioned name of everything that shapes the output; a change re-enriches."""
        ...

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Sync reference rows (e.g. the gazetteer) before any batch is saved."""
        ...

    def process(self, texts: Sequence[str]) -> Sequence[Any]:
        """Analyse a batch of texts; one result per text, in order. No database access."""
        ...

    def save(
        self, conn: sqlite3.Connection, article_ids: Sequence[int], results: Sequence[Any]
    ) -> dict[str, int]:
        """Replace the stage's rows for these articles; return rows written per table."""
        ...

    def describe(self, result: Any) -> dict[str, Any]:
        """One result as JSON-able data, merged into ``tracker analyze`` output."""
        ...


@runtime_checkable
class CachedStage(Protocol):
    """Optional extension of :class:`Stage` for a stage whose ``process`` reads a cache in the store.

    The narratives stage reads ``embedding_cache`` inside ``process``; workers on a
    cluster have no database, so an engine like ``tracker.enrich.ray_engine`` splits
    ``process`` into a read on the database side, a pure part on a worker and a write
    in the batch's transaction. The cache is a map from string keys to picklable values:

    * ``cache_keys(texts)``: the keys ``process`` would look up for these texts (pure,
      no model). ``cache_keys([])`` gives the keys a worker needs before its first text
      (e.g. the narratives' anchor sentences).
    * ``cache_get(conn, keys)``: the stored values of those keys that exist (read-only).
    * ``process_cached(texts, cached, in_flight)``: on a worker, pure: the results
      ``process(texts)`` gives, plus the values it computed for keys not in ``cached``.
      ``in_flight`` are keys an earlier batch of this run computes and will store: use
      them, but compute them apart and do not return them, so each key is computed
      once with the same batch mates as in the local engine (bit-identical floats).
    * ``save_cache(conn, entries)``: store computed values, inside the batch's transaction;
      returns rows written per table.

    ``process_cached(texts, cache_get(conn, cache_keys(texts)), set())`` followed by
    ``save`` and ``save_cache`` must write what ``process`` then ``save`` writes.
    """

    def cache_keys(self, texts: Sequence[str]) -> list[str]:
        """Keys ``process`` looks up for these texts (for no texts: what every worker needs)."""
        ...

    def cache_get(self, conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, Any]:
        """Stored values for those of ``keys`` the cache holds; never writes."""
        ...

    def process_cached(
        self, texts: Sequence[str], cached: Mapping[str, Any], in_flight: Set[str]
    ) -> tuple[Sequence[Any], dict[str, Any]]:
        """``process(texts)`` without a database: results and the newly computed entries."""
        ...

    def save_cache(self, conn: sqlite3.Connection, entries: Mapping[str, Any]) -> dict[str, int]:
        """Store computed cache entries (in the caller's transaction); rows per table."""
        ...


@dataclass
class StageSummary:
    """What one stage did in one run."""

    version: str
    articles: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    #: Where the time went, in seconds (e.g. ``read``, ``process``, ``write``; engines add more).
    seconds: dict[str, float] = field(default_factory=dict)
    #: Other engine figures (e.g. the Ray engine's ``workers``, ``bytes_out``, ``bytes_back``).
    stats: dict[str, float] = field(default_factory=dict)

    def add_rows(self, rows: Mapping[str, int]) -> None:
        """Add one batch's rows-per-table counts."""
        for table, n in rows.items():
            self.rows[table] = self.rows.get(table, 0) + n

    def add_seconds(self, name: str, seconds: float) -> None:
        """Add time to one of the ``seconds`` buckets."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


@dataclass
class EnrichSummary:
    """What :func:`enrich_pending` did: articles processed (by any stage) and per-stage counts."""

    articles: int = 0
    stages: dict[str, StageSummary] = field(default_factory=dict)
    #: Ids of the articles any stage processed, so callers can tell which days changed.
    article_ids: set[int] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        """Flat per-stage counts, e.g. ``{"entities.articles": 10, "entities.mentions": 31}``."""
        flat: dict[str, int] = {}
        for name, stage in self.stages.items():
            flat[f"{name}.articles"] = stage.articles
            for table, n in stage.rows.items():
                flat[f"{name}.{table}"] = n
        return flat


def count_pending(conn: sqlite3.Connection, stage: str, version: str) -> int:
    """How many non-duplicate articles lack an enrichment by this stage at this version."""
    row = conn.execute(
        "SELECT COUNT(*) FROM articles a WHERE a.duplicate_of IS NULL AND NOT EXISTS ("
        " SELECT 1 FROM enrichments e WHERE e.article_id = a.id AND e.stage = ?"
        " AND e.version = ?)",
        (stage, version),
    ).fetchone()
    return int(row[0])


def iter_pending(
    conn: sqlite3.Connection,
    stage: str,
    version: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    max_sentences: int | None = None,
) -> Iterator[list[tuple[int, str]]]:
    """Batches of ``(article_id, article_text)`` pending for a stage, in id order.

    Keyset pagination (``id > last``) so each batch is a fresh, short query and rows
    enriched meanwhile are not revisited.
    """
    last_id = -1
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch_size if remaining is None else min(batch_size, remaining)
        rows = conn.execute(
            "SELECT a.id, a.title, a.summary, a.content_text FROM articles a"
            " WHERE a.id > ? AND a.duplicate_of IS NULL AND NOT EXISTS ("
            "  SELECT 1 FROM enrichments e WHERE e.article_id = a.id AND e.stage = ?"
            "  AND e.version = ?)"
            " ORDER BY a.id LIMIT ?",
            (last_id, stage, version, size),
        ).fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)
        yield [(int(r[0]), article_text(r[1], r[2], r[3], max_sentences)) for r in rows]


def save_enrichments(
    conn: sqlite3.Connection, stage: str, version: str, article_ids: Sequence[int]
) -> None:
    """Record that these articles are enriched by ``stage`` at ``version`` (replacing older)."""
    now = utcnow()
    conn.executemany(
        "INSERT INTO enrichments (article_id, stage, version, enriched_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(article_id, stage) DO UPDATE SET version = excluded.version,"
        " enriched_at = excluded.enriched_at",
        [(aid, stage, version, now) for aid in article_ids],
    )


def write_batch(
    conn: sqlite3.Connection,
    stage: Stage,
    version: str,
    article_ids: Sequence[int],
    results: Sequence[Any],
    cache_entries: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Commit one batch: the stage's rows, its new cache entries and the ``enrichments`` rows.

    One transaction, so a crash leaves the batch either wholly enriched or still pending.
    Every engine writes through here.
    """
    with transaction(conn):
        rows = dict(stage.save(conn, article_ids, results))
        if cache_entries:
            assert isinstance(stage, CachedStage)
            for table, n in stage.save_cache(conn, cache_entries).items():
                rows[table] = rows.get(table, 0) + n
        save_enrichments(conn, stage.name, version, article_ids)
    return rows


def start_stage(
    conn: sqlite3.Connection, stage: Stage, *, limit: int | None = None
) -> tuple[StageSummary, int]:
    """A stage's summary and how many articles it will process; prepares it if any."""
    summary = StageSummary(version=stage.version)
    total = count_pending(conn, stage.name, summary.version)
    if limit is not None:
        total = min(total, limit)
    if total:
        with transaction(conn):
            stage.prepare(conn)
    return summary, total


def run_stage(
    conn: sqlite3.Connection,
    stage: Stage,
    *,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    max_sentences: int | None = None,
) -> tuple[StageSummary, set[int]]:
    """Process every pending article for one stage; return its summary and the article ids."""
    summary, total = start_stage(conn, stage, limit=limit)
    version = summary.version
    done: set[int] = set()
    if total == 0:
        return summary, done
    with progressbar(total, f"enrich {stage.name}", progress) as bar:
        clock = time.perf_counter()
        for batch in iter_pending(conn, stage.name, version, batch_size=batch_size, limit=limit,
                                  max_sentences=max_sentences):
            ids = [aid for aid, _ in batch]
            summary.add_seconds("read", time.perf_counter() - clock)
            clock = time.perf_counter()
            results = stage.process([text for _, text in batch])
            summary.add_seconds("process", time.perf_counter() - clock)
            clock = time.perf_counter()
            summary.add_rows(write_batch(conn, stage, version, ids, results))
            summary.add_seconds("write", time.perf_counter() - clock)
            summary.articles += len(ids)
            done.update(ids)
            if bar is not None:
                bar.update(len(ids))
            clock = time.perf_counter()
    return summary, done


def progressbar(total: int, label: str, show: bool) -> Any:
    """A click progress bar on stderr as a context manager, or a null context yielding None."""
    if not show:
        return nullcontext(None)
    import click

    return click.progressbar(length=total, label=label, file=sys.stderr)


def enrich_pending(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    stages: Sequence[Stage],
) -> EnrichSummary:
    """Run every stage over the articles not yet enriched at its current version."""
    conn = db.conn
    summary = EnrichSummary()
    touched: set[int] = set()
    for stage in stages:
        stage_summary, ids = run_stage(
            conn, stage, limit=limit, batch_size=batch_size, progress=progress,
            max_sentences=settings.fulltext_sentences,
        )
        summary.stages[stage.name] = stage_summary
        touched |= ids
    summary.articles = len(touched)
    summary.article_ids = touched
    return summary


#: Bump when entity tagging or claim parsing changes behaviour, to re-enrich every article.
