"""``tracker export``: the index, articles or entities as CSV or Parquet, every row, checked.

Rows are streamed from SQLite in chunks (a million articles do not have to fit in memory
twice) and counted on the way out; the count is compared with a ``COUNT(*)`` of the same
query, so an export is never cut short without an error.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracker.base.errors import TrackerError

What = Literal["index", "articles", "entities"]
Format = Literal["csv", "parquet"]
WHATS: tuple[str, ...] = ("index", "articles", "entities")
FORMATS: tuple[str, ...] = ("csv", "parquet")
CHUNK_ROWS = 50_000


class ExportError(TrackerError):
    """An export cannot be written (bad option, unwritable path, row count mismatch)."""


#: One query per export; ``:since``/``:until`` bound the day (NULL = open).
_SQL: dict[str, str] = {
    "index": """
SELECT ni.day, ni.narrative_id, n.label, ni.index_value, ni.index_low, ni.index_high,
  ni.smoothed_7d, ni.articles, ni.expected_articles, ni.total_articles, ni.member_sources,
  ni.share, ni.zscore, ni.p_value, ni.spike, ni.net_stance, ni.stance_articles, ni.covered,
  ni.model_version
FROM narrative_index ni JOIN narratives n ON n.id = ni.narrative_id
WHERE (:since IS NULL OR ni.day >= :since) AND (:until IS NULL OR ni.day <= :until)
ORDER BY ni.day, ni.narrative_id
""",
    "articles": """
SELECT a.id AS article_id, a.day, f.name AS feed, COALESCE(f.title, f.name) AS source,
  a.title, COALESCE(a.canonical_url, a.url) AS url, a.published_at, a.duplicate_of,
  (SELECT group_concat(narrative_id, ';') FROM (
     SELECT an.narrative_id FROM article_narratives an
     WHERE an.article_id = a.id AND an.is_member = 1 ORDER BY an.narrative_id)) AS narratives,
  sa.cluster_id AS story_id
FROM articles a JOIN feeds f ON f.id = a.feed_id
LEFT JOIN story_articles sa ON sa.article_id = a.id
WHERE (:since IS NULL OR a.day >= :since) AND (:until IS NULL OR a.day <= :until)
ORDER BY a.day, a.id
""",
    "entities": """
SELECT e.id AS entity_id, e.name, e.type, COUNT(DISTINCT m.article_id) AS articles,
  COUNT(m.id) AS mentions, MIN(a.day) AS first_day, MAX(a.day) AS last_day
FROM entities e
JOIN mentions m ON m.entity_id = e.id
JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL
WHERE (:since IS NULL OR a.day >= :since) AND (:until IS NULL OR a.day <= :until)
GROUP BY e.id
ORDER BY articles DESC, e.id
""",
}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote."""

    what: str
    format: str
    wide: bool
    path: Path | None
    rows: int
    columns: int


def default_path(out_dir: Path, what: str, fmt: str, wide: bool) -> Path:
    """``export-<what>[-wide].<fmt>`` in ``out_dir``."""
    return out_dir / f"export-{what}{'-wide' if wide else ''}.{fmt}"


def check_options(what: str, fmt: str, wide: bool) -> None:
    """Refuse combinations that make no sense, saying why and what to do."""
    if what not in WHATS:
        raise ExportError(f"Cannot export {what!r}. Fix: use --what {'|'.join(WHATS)}.")
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt!r}. Fix: use --format {'|'.join(FORMATS)}.")
    if wide and what != "index":
        raise ExportError(
            f"--wide makes one column per narrative and only applies to the index, not {what}. "
            "Fix: drop --wide or use --what index."
        )


def _chunks(conn: sqlite3.Connection, sql: str, params: dict[str, str | None]) -> Iterator[pd.DataFrame]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        yield pd.DataFrame.from_records(rows, columns=cols)


def _expected_rows(conn: sqlite3.Connection, sql: str, params: dict[str, str | None]) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0])


def wide_index(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per day, one column per narrative id holding its index value (NaN where none)."""
    if frame.empty:
        return pd.DataFrame({"day": pd.Series(dtype="object")})
    wide = frame.pivot(index="day", columns="narrative_id", values="index_value")
    wide.columns.name = None
    return wide.sort_index().reset_index()


def export(conn: sqlite3.Connection, *, what: str, fmt: str, out: Path | None,
           wide: bool = False, since: str | None = None, until: str | None = None) -> ExportResult:
    """Write the chosen table to ``out`` (None: CSV to standard output); every row or an error."""
    check_options(what, fmt, wide)
    for name, day in (("--since", since), ("--until", until)):
        try:
            if day is not None:
                date.fromisoformat(day)
        except ValueError:
            raise ExportError(f"{name} {day!r} is not a day. Fix: give YYYY-MM-DD, e.g. 2026-01-31.") from None
    if out is None and fmt != "csv":
        raise ExportError("Parquet cannot go to standard output. Fix: give --out PATH.")
    sql = _SQL[what]
    params = {"since": since, "until": until}
    expected = _expected_rows(conn, sql, params)
    chunks = _chunks(conn, sql, params)
    if wide:
        frame = pd.concat(list(chunks), ignore_index=True) if expected else pd.DataFrame(
            columns=["day", "narrative_id", "index_value"])
        got = len(frame)
        table = wide_index(frame)
        written, ncols = _write_frame(table, fmt, out), len(table.columns)
        if got != expected:
            raise ExportError(f"Read {got:,} of {expected:,} index rows. Fix: run the export again.")
        return ExportResult(what, fmt, wide, out, written, ncols)
    written, ncols = _write_stream(chunks, fmt, out, _columns(conn, sql, params), expected)
    return ExportResult(what, fmt, wide, out, written, ncols)


def _columns(conn: sqlite3.Connection, sql: str, params: dict[str, str | None]) -> list[str]:
    cur = conn.execute(f"SELECT * FROM ({sql}) LIMIT 0", params)
    return [d[0] for d in cur.description]


def _tmp(out: Path) -> Path:
    return out.with_name(f".{out.name}.tmp")


def _write_frame(frame: pd.DataFrame, fmt: str, out: Path | None) -> int:
    try:
        if out is None:
            frame.to_csv(sys.stdout, index=False)
            return len(frame)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp(out)
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportError(f"Cannot write {out}: {exc}. Fix: choose a writable --out path.") from exc
    return len(frame)


def _write_stream(chunks: Iterator[pd.DataFrame], fmt: str, out: Path | None,
                  empty_columns: list[str], expected: int) -> tuple[int, int]:
    """Append chunk after chunk; the file appears (atomically) only when complete."""
    written = 0
    ncols = len(empty_columns)
    tmp = _tmp(out) if out is not None else None
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
        first = True
        for raw in chunks:
            chunk = _typed(raw)
            if fmt == "csv":
                if tmp is None:
                    chunk.to_csv(sys.stdout, index=False, header=first)
                else:
                    chunk.to_csv(tmp, index=False, header=first, mode="w" if first else "a")
            else:
                assert tmp is not None
                if schema is None:
                    schema = _schema(chunk)
                    writer = pq.ParquetWriter(tmp, schema)
                assert writer is not None
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
            written += len(chunk)
            first = False
        if first:  # no rows: still a file with the header / schema
            empty = pd.DataFrame(columns=empty_columns)
            if fmt == "csv":
                empty.to_csv(tmp if tmp is not None else sys.stdout, index=False)
            else:
                empty.to_parquet(tmp, index=False)
        if writer is not None:
            writer.close()
        if written != expected:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise ExportError(
                f"Wrote {written:,} rows but the query has {expected:,} (the database changed "
                "during the export?). Fix: run the export again, or fix the range with --until."
            )
        if tmp is not None and out is not None:
            os.replace(tmp, out)
    except OSError as exc:
        raise ExportError(f"Cannot write {out}: {exc}. Fix: choose a writable --out path.") from exc
    return written, ncols


#: Column types fixed up front, so a chunk whose column is all NULL never clashes with a
#: schema guessed from an earlier chunk.
_FLOAT = {"index_value", "index_low", "index_high", "smoothed_7d", "expected_articles", "share",
          "zscore", "p_value", "net_stance"}
_INT = {"article_id", "duplicate_of", "story_id", "articles", "total_articles", "member_sources",
        "spike", "stance_articles", "covered", "mentions"}


def _schema(chunk: pd.DataFrame) -> pa.Schema:
    return pa.schema([
        pa.field(c, pa.float64() if c in _FLOAT else pa.int64() if c in _INT else pa.string())
        for c in chunk.columns
    ])


def _typed(chunk: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers stay integers (a NULL duplicate_of must not turn ids into floats)."""
    out = chunk.copy()
    for c in out.columns:
        if c in _INT:
            out[c] = out[c].astype("Int64")
        elif c in _FLOAT:
            out[c] = out[c].astype("float64")
    return out
