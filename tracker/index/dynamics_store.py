"""Read the index tables the dynamics run needs and store its rows in ``narrative_dynamics``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import pandas as pd

from tracker.base.db import transaction, utcnow
from tracker.base.errors import TrackerError
from tracker.index.compute import join_versions
from tracker.index.dynamics import DynamicsParams
from tracker.index.dynamics_series import ROW_COLUMNS, DynamicsInputs, compute_dynamics
from tracker.index.params import parse_day

#: The columns stored besides a row's own: the run's constants.
RUN_COLUMNS = ["first_day", "last_day", "params", "model_version", "computed_at"]


class DynamicsError(TrackerError):
    """The dynamics cannot be computed from what the database holds."""


def _frame(conn: sqlite3.Connection, sql: str, columns: list[str], args: Sequence[Any] = ()) -> pd.DataFrame:
    """A query's rows as a frame with the given column names."""
    return pd.DataFrame(conn.execute(sql, tuple(args)).fetchall(), columns=columns)


def _days(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The given text day columns as Timestamps."""
    return frame.assign(**{c: pd.to_datetime(frame[c]) for c in columns})


def load_inputs(conn: sqlite3.Connection, since: str | None = None) -> DynamicsInputs:
    """The stored index, weeks and per-source counts (from ``since`` on) as the run takes them."""
    since = since or ""
    index = _frame(conn, "SELECT day, narrative_id, covered, index_value, articles, expected_articles, net_stance, "
                   "spike FROM narrative_index WHERE day >= ? ORDER BY day",
                   ["day", "narrative_id", "covered", "index_value", "articles", "expected_articles", "net_stance",
                    "spike"], (since,))  # fmt: skip
    weekly = _frame(conn, "SELECT week_end, narrative_id, articles, expected_articles, net_stance "
                    "FROM narrative_weekly WHERE week_start >= ? AND covered_days > 0",
                    ["week_end", "narrative_id", "articles", "expected_articles", "net_stance"], (since,))
    members = _frame(conn, "SELECT narrative_id, day, feed_id, articles, stance_sum, stance_articles "
                     "FROM narrative_source_daily WHERE day >= ?",
                     ["narrative_id", "day", "feed_id", "articles", "stance_sum", "stance_articles"], (since,))
    sources = _frame(conn, "SELECT day, feed_id, scored_articles FROM source_daily WHERE day >= ?",
                     ["day", "feed_id", "scored_articles"], (since,))
    rates = _frame(conn, "SELECT narrative_id, feed_id, rate FROM narrative_source_rate",
                   ["narrative_id", "feed_id", "rate"])
    feeds = {str(i): n for i, n in conn.execute("SELECT id, name FROM feeds")}
    labels = dict(conn.execute("SELECT id, label FROM narratives").fetchall())
    return DynamicsInputs(
        index=_days(index, "day"), weekly=_days(weekly, "week_end"), members=_days(members, "day"),
        sources=_days(sources, "day"), rates=rates, feeds=feeds, labels=labels,
    )


def model_version(conn: sqlite3.Connection) -> str:
    """The narrative models behind the index, and the statsmodels release that ran the tests."""
    models = join_versions(r[0] for r in conn.execute("SELECT DISTINCT model_version FROM narrative_index"))
    return f"narratives={models or 'unknown'}; statsmodels={version('statsmodels')}"


def choose_narratives(conn: sqlite3.Connection, wanted: Sequence[str] | None) -> list[str]:
    """The narratives to test: the given ids or labels (any case), else every indexed one."""
    known = dict(conn.execute("SELECT DISTINCT n.id, n.label FROM narratives n "
                              "JOIN narrative_index i ON i.narrative_id = n.id").fetchall())  # fmt: skip
    if not known:
        raise DynamicsError("The database has no narrative index yet, so there are no series to compare. "
                            "Fix: run `tracker index` first (or `tracker run`).")
    if not wanted:
        return sorted(known)
    by_name = {k.lower(): k for k in known} | {v.lower(): k for k, v in known.items()}
    missing = [w for w in wanted if w.strip().lower() not in by_name]
    if missing:
        raise DynamicsError(f"Unknown narrative(s): {', '.join(missing)}. "
                            f"Fix: use ids from the index: {', '.join(sorted(known))}.")
    chosen = list(dict.fromkeys(by_name[w.strip().lower()] for w in wanted))
    if len(chosen) < 2:
        raise DynamicsError("Dynamics compare narratives in pairs, and only one was given. "
                            "Fix: give two or more with --narratives A,B.")
    return chosen


@dataclass(frozen=True)
class DynamicsSummary:
    """What one run did, for the CLI."""

    narratives: list[str]
    first_day: str | None
    last_day: str | None
    rows: int
    computed_at: str
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    virality: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def build_dynamics(conn: sqlite3.Connection, params: DynamicsParams, *, narratives: Sequence[str] | None = None,
                   since: str | None = None) -> DynamicsSummary:
    """Compute every dynamics row from the stored index and replace ``narrative_dynamics``."""
    if since is not None:
        since = parse_day(since, "--since").isoformat()
    chosen = choose_narratives(conn, narratives)
    inputs = load_inputs(conn, since)
    covered = inputs.index[inputs.index["covered"].astype(bool)]["day"]
    days = covered.nunique()
    if days < params.min_obs:
        raise DynamicsError(
            f"The index has {days} covered days{f' from {since}' if since else ''}; the tests need at least "
            f"{params.min_obs} days of series. Fix: ingest a longer period (or an earlier --since), run "
            "`tracker index`, then `tracker dynamics` again.")  # fmt: skip
    rows = compute_dynamics(inputs, chosen, params)
    first, last = covered.min().date().isoformat(), covered.max().date().isoformat()
    now = utcnow()
    constants = {"first_day": first, "last_day": last,
                 "params": json.dumps({**params.as_dict(), "narratives": chosen, "since": since}, sort_keys=True),
                 "model_version": model_version(conn), "computed_at": now}  # fmt: skip
    save_rows(conn, rows, constants)
    main = rows[(rows["analysis"] == "granger") & (rows["variant"] == "all")]
    return DynamicsSummary(
        narratives=chosen, first_day=first, last_day=last, rows=len(rows), computed_at=now,
        verdicts=_records(main[["series", "frequency", "leader", "follower", "lag", "p_value", "p_adjusted",
                                "significant", "verdict"]]),
        virality=_records(rows[rows["analysis"] == "virality"][["leader", "episodes", "spread_1d", "spread_3d",
                                                                "spread_7d", "half_life_days", "verdict"]]),
        params=params.as_dict(),
    )  # fmt: skip


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain values (NaN as None)."""
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """A frame cell as a plain Python value SQLite and JSON take (NaN -> None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    return value


def save_rows(conn: sqlite3.Connection, rows: pd.DataFrame, constants: dict[str, Any]) -> None:
    """Replace every stored dynamics row with ``rows`` (one transaction)."""
    names = [*ROW_COLUMNS, *RUN_COLUMNS]
    values = [tuple(_plain(r[c]) for c in ROW_COLUMNS) + tuple(constants[c] for c in RUN_COLUMNS)
              for r in rows.to_dict("records")]  # fmt: skip
    with transaction(conn):
        conn.execute("DELETE FROM narrative_dynamics")
        conn.executemany(f"INSERT INTO narrative_dynamics ({', '.join(names)}) "
                         f"VALUES ({', '.join('?' * len(names))})", values)  # fmt: skip


def stored_rows(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every stored dynamics row (empty frame if the table is empty or absent)."""
    try:
        cur = conn.execute("SELECT * FROM narrative_dynamics ORDER BY id")
    except sqlite3.OperationalError:
        return pd.DataFrame(columns=["id", *ROW_COLUMNS, *RUN_COLUMNS])
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
