"""tracker export: index, articles and entities as CSV or Parquet, long or wide, never cut short."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlite_utils
from click.testing import CliRunner

from tests.report.test_report import build_store
from tracker.base.db import open_db
from tracker.cli import cli
from tracker.report import export as ex
from tracker.report.export import ExportError, export


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[sqlite_utils.Database, Path]]:
    path = tmp_path / "tracker.db"
    db = open_db(path)
    build_store(db.conn)
    db.conn.commit()
    yield db, path
    db.conn.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_article_in_small_chunks(store: tuple[sqlite_utils.Database, Path], tmp_path: Path,
                                       fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex, "CHUNK_ROWS", 7)  # many chunks, the last one partial
    conn = store[0].conn
    total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    out = tmp_path / f"a.{fmt}"
    res = export(conn, what="articles", fmt=fmt, out=out)
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert res.rows == total == len(frame) and frame["article_id"].is_unique
    assert frame["article_id"].tolist() == [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY day, id")]
    # The duplicate keeps its integer root; memberships are listed.
    dup = frame[frame["duplicate_of"].notna()]
    assert len(dup) == 1 and int(dup["duplicate_of"].iloc[0]) > 0
    assert str(frame.loc[frame["title"] == "AI money rotates into bitcoin", "narratives"].iloc[0]) == "ai;crypto"


def test_index_long_and_wide(store: tuple[sqlite_utils.Database, Path], tmp_path: Path) -> None:
    conn = store[0].conn
    long_ = export(conn, what="index", fmt="csv", out=tmp_path / "i.csv", since="2026-11-16")
    frame = pd.read_csv(tmp_path / "i.csv")
    assert long_.rows == len(frame) == 21 and frame["day"].min() == "2026-11-16"
    wide = export(conn, what="index", fmt="parquet", out=tmp_path / "w.parquet", wide=True)
    table = pd.read_parquet(tmp_path / "w.parquet")
    assert list(table.columns) == ["day", "ai", "crypto", "fed"] and wide.rows == 21
    row = table.set_index("day").loc["2026-11-18"]
    assert (row["crypto"], row["ai"]) == (300.0, 120.0)
    assert pd.isna(table.set_index("day").loc["2026-11-21", "fed"])  # missing stays missing


def test_entities(store: tuple[sqlite_utils.Database, Path], tmp_path: Path) -> None:
    conn = store[0].conn
    conn.execute("INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
                 "pipeline_version) SELECT id, 'sec', 'SEC', 'ORG', 0, 3, 't' FROM articles "
                 "WHERE duplicate_of IS NULL LIMIT 4")
    res = export(conn, what="entities", fmt="csv", out=tmp_path / "e.csv")
    frame = pd.read_csv(tmp_path / "e.csv")
    assert res.rows == 1 and frame.loc[0, "entity_id"] == "sec" and frame.loc[0, "articles"] == 4


def test_refusals_and_row_check(store: tuple[sqlite_utils.Database, Path], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    conn = store[0].conn
    with pytest.raises(ExportError, match="only applies to the index"):
        export(conn, what="articles", fmt="csv", out=tmp_path / "x.csv", wide=True)
    with pytest.raises(ExportError, match="YYYY-MM-DD"):
        export(conn, what="index", fmt="csv", out=tmp_path / "x.csv", since="2026-13-01")
    with pytest.raises(ExportError, match="--out"):
        export(conn, what="index", fmt="parquet", out=None)
    # A count that does not match what was written is an error, and no file appears.
    monkeypatch.setattr(ex, "_expected_rows", lambda *a: 10**6)
    with pytest.raises(ExportError, match="Wrote"):
        export(conn, what="articles", fmt="csv", out=tmp_path / "short.csv")
    assert not (tmp_path / "short.csv").exists()


def test_cli_export(store: tuple[sqlite_utils.Database, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "idx.csv"
    res = runner.invoke(cli, ["--db", str(store[1]), "export", "--what", "index", "--wide", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 21 rows x 4 columns" in res.output and out.is_file()
    res = runner.invoke(cli, ["--db", str(store[1]), "export", "--what", "index", "--out", "-"])
    assert res.exit_code == 0 and len(res.output.strip().splitlines()) == 63 + 1
    bad = runner.invoke(cli, ["--db", str(store[1]), "export", "--what", "entities", "--wide"])
    assert bad.exit_code == 2 and "Fix:" in bad.output
