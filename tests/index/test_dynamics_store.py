"""`tracker dynamics` on a synthetic database: stored rows, verdicts, robustness, errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.index.dynamics_db import build_lead_db
from tracker.base.db import open_db
from tracker.cli import cli


def _build(path: Path, **kwargs: object) -> Path:
    db = open_db(path)
    build_lead_db(db, days=150, per_day=25, seed=8, **kwargs)  # type: ignore[arg-type]
    db.conn.close()
    result = CliRunner().invoke(cli, ["--db", str(path), "index"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def lead_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AI leads crypto by three days in every feed."""
    return _build(tmp_path_factory.mktemp("dyn") / "lead.db")


@pytest.fixture
def copy(lead_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    shutil.copy(lead_db, path)
    return path


def rows(path: Path, where: str = "1") -> list[dict[str, object]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    out = [dict(r) for r in conn.execute(f"SELECT * FROM narrative_dynamics WHERE {where} ORDER BY id")]
    conn.close()
    return out


def test_dynamics_finds_the_lead_and_stores_every_row(copy: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(copy), "dynamics"])
    assert result.exit_code == 0, result.output
    assert "[intensity, daily] AI doubt leads Crypto by 3 days (pushes it up)" in result.output
    assert "robust to dropping each source" in result.output and "placebo not significant" in result.output
    main = rows(copy, "analysis = 'granger' AND variant = 'all'")
    assert len(main) == 6 * 2 * 2  # ordered pairs x series x frequencies
    lead = next(r for r in main if (r["leader"], r["follower"], r["series"], r["frequency"])
                == ("ai", "crypto", "intensity", "daily"))
    assert lead["significant"] == 1 and lead["lag_low"] == 3 and lead["lag_high"] == 3
    assert lead["leader_transform"] in ("log", "log_diff")
    held = json.loads(str(lead["robustness"]))["held"]
    assert {"drop:1", "drop:2", "drop:3", "first_half", "second_half", "placebo"} <= set(held)
    assert not held["placebo"] and all(held[f"drop:{f}"] for f in (1, 2, 3))
    reverse = next(r for r in main if (r["leader"], r["follower"], r["series"], r["frequency"])
                   == ("crypto", "ai", "intensity", "daily"))
    assert reverse["significant"] == 0 and str(reverse["verdict"]).startswith("no lead found from Crypto to AI")
    params = json.loads(str(lead["params"]))
    assert params["max_lag"] == 14 and params["correction"] == "holm"
    assert params["narratives"] == ["ai", "crypto", "gold"]
    assert "narratives=narr-v1" in str(lead["model_version"]) and "statsmodels=" in str(lead["model_version"])
    assert len(rows(copy, "analysis = 'stationarity'")) == 3 * 2 * 2
    virality = rows(copy, "analysis = 'virality'")
    assert [r["leader"] for r in virality] == ["ai", "crypto", "gold"]
    # A second run replaces the rows.
    again = CliRunner().invoke(cli, ["--db", str(copy), "dynamics", "--narratives", "AI doubt,crypto", "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert summary["narratives"] == ["ai", "crypto"] and len(summary["verdicts"]) == 2 * 2 * 2
    assert {r["leader"] for r in rows(copy)} == {"ai", "crypto"}


def test_a_lead_carried_by_one_source_is_not_robust_to_dropping_it(tmp_path: Path) -> None:
    path = _build(tmp_path / "one.db", lead_feeds=(1,), strength=1.5)
    result = CliRunner().invoke(cli, ["--db", str(path), "dynamics", "--narratives", "ai,crypto"])
    assert result.exit_code == 0, result.output
    lead = rows(path, "analysis = 'granger' AND variant = 'all' AND leader = 'ai' AND follower = 'crypto' "
                "AND series = 'intensity' AND frequency = 'daily'")[0]
    assert lead["significant"] == 1
    assert "not robust to dropping feed1" in str(lead["verdict"])
    held = json.loads(str(lead["robustness"]))["held"]
    assert not held["drop:1"] and held["drop:2"] and held["drop:3"]


def test_errors_say_what_to_run(copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.db"
    open_db(empty).conn.close()
    for args, words in [
        ([str(empty), "dynamics"], "run `tracker index` first"),
        ([str(copy), "dynamics", "--since", "2025-05-01"], "need at least 60 days"),
        ([str(copy), "dynamics", "--narratives", "ai,nope"], "Unknown narrative(s): nope"),
        ([str(copy), "dynamics", "--narratives", "ai"], "only one was given"),
        ([str(copy), "dynamics", "--since", "May"], "YYYY-MM-DD"),
        ([str(tmp_path / "none.db"), "dynamics"], "tracker"),
    ]:
        result = runner.invoke(cli, ["--db", *args])
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output and "Traceback" not in result.output, (args, result.output)
    assert rows(copy) == []  # nothing stored by the failed runs
