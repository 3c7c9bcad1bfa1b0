"""The Datasette canned query over narrative_dynamics (a hand-built store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.live import canned_rows
from tracker.base.db import open_db, transaction


def make_db(path: Path) -> None:
    """Three narratives; a lead, a non-lead, a robustness variant and a virality row."""
    conn = open_db(path).conn
    with transaction(conn):
        conn.executemany("INSERT INTO narratives (id, label) VALUES (?, ?)",
                         [("ai", "AI doubt"), ("crypto", "Crypto"), ("gold", "Gold")])
        rows = [
            ("granger", "all", "ai", "crypto", 1, 0.001, "AI doubt leads Crypto by 3 days"),
            ("granger", "all", "gold", "crypto", 0, 0.6, "no lead found from Gold to Crypto"),
            ("granger", "drop:1", "ai", "crypto", 0, 0.3, ""),
            ("virality", "all", "gold", None, None, None, "Gold: 2 episodes"),
        ]
        conn.executemany(
            "INSERT INTO narrative_dynamics (analysis, series, frequency, variant, leader, follower, significant,"
            " p_value, p_adjusted, verdict, params, computed_at) VALUES (?, 'intensity', 'daily', ?, ?, ?, ?, ?, ?,"
            " ?, '{}', 'now')", [(a, v, lead, f, s, p, p, text) for a, v, lead, f, s, p, text in rows])
    conn.close()


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("serve-dynamics") / "tracker.db"
    make_db(path)
    with canned_rows(path) as get:
        yield get


def test_query_narrative_leads(rows: Any) -> None:
    got = rows("narrative_leads", narrative="")
    # Main tests only, the lead first, labels shown.
    assert [(r["leader"], r["follower"], r["significant"]) for r in got] == [
        ("AI doubt", "Crypto", 1), ("Gold", "Crypto", 0)]
    assert got[0]["verdict"] == "AI doubt leads Crypto by 3 days"
    assert [r["leader"] for r in rows("narrative_leads", narrative=" gold ")] == ["Gold"]
    assert len(rows("narrative_leads", narrative="CRYPTO")) == 2
