"""The report's "How the stories move together" section from stored dynamics rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tracker.base.db import open_db, transaction
from tracker.report.dynamics_section import dynamics_section, lag_chart_svg


def make_db(path: Path, with_rows: bool = True) -> sqlite3.Connection:
    conn = open_db(path).conn
    with transaction(conn):
        conn.executemany("INSERT INTO narratives (id, label) VALUES (?, ?)",
                         [("ai_productivity", "AI doubt"), ("crypto_legitimacy", "Crypto"),
                          ("fed_easing_liquidity", "Fed easing"), ("gold", "Gold")])
        if not with_rows:
            return conn
        xcorr = json.dumps({str(k): (0.3 if k == 3 else 0.01 * k) for k in range(-3, 4)})
        robust = json.dumps({"held": {"drop:1": True, "drop:2": False, "first_half": True, "second_half": True,
                                      "placebo": False}, "p": {}})
        rows = [
            ("granger", "gold", "ai_productivity", 1, 0.001, "Gold leads AI doubt by 2 days; held in both halves",
             robust),
            ("granger", "ai_productivity", "crypto_legitimacy", 0, 0.4, "no lead found from AI doubt to Crypto",
             robust),
            ("granger", "fed_easing_liquidity", "crypto_legitimacy", 0, 0.9, "no lead found from Fed easing to Crypto",
             None),
            ("granger", "crypto_legitimacy", "gold", 0, 0.7, "no lead found from Crypto to Gold", None),
            ("virality", "gold", None, None, None, "Gold: 2 episodes; 40% of sources within 1 day", None),
        ]
        conn.executemany(
            "INSERT INTO narrative_dynamics (analysis, series, frequency, variant, leader, follower, significant,"
            " p_value, p_adjusted, verdict, robustness, xcorr, n_obs, params, first_day, last_day, computed_at)"
            " VALUES (?, 'intensity', 'daily', 'all', ?, ?, ?, ?, ?, ?, ?, ?, 400, ?, '2025-01-01', '2026-02-04',"
            " 'now')",
            [(a, lead, f, s, p, p, v, r, xcorr if a == "granger" else None,
              json.dumps({"ic": "aic", "alpha": 0.05, "correction": "holm"})) for a, lead, f, s, p, v, r in rows])
    return conn


def test_section_lists_leads_then_the_focus_pairs(tmp_path: Path) -> None:
    conn = make_db(tmp_path / "t.db")
    section = dynamics_section(conn)
    assert section is not None
    text = section.markdown
    assert text.startswith("## How the stories move together\n")
    assert "1 lead among 4 tests" in text and "2025-01-01..2026-02-04" in text and "AIC" in text
    bullets = [line for line in text.splitlines() if line.startswith("- **")]
    # The lead first (with its robustness), then the two links the tracker watches; not Crypto -> Gold.
    assert bullets[0].startswith("- **intensity, daily**: Gold leads AI doubt by 2 days (held without 1 of 2")
    assert "placebo: no lead" in bullets[0]
    assert "AI doubt to Crypto" in bullets[1] and "Fed easing to Crypto" in bullets[2] and len(bullets) == 3
    assert "- Gold: 2 episodes" in text
    pairs = {r["pair"] for r in section.chart["layer"][1]["data"]["values"]}
    assert pairs == {"Gold -> AI doubt (intensity, daily)", "AI doubt -> Crypto (intensity, daily)",
                     "Fed easing -> Crypto (intensity, daily)"}
    assert lag_chart_svg(section).lstrip().startswith("<svg")


def test_no_section_before_dynamics_ran(tmp_path: Path) -> None:
    assert dynamics_section(make_db(tmp_path / "t.db", with_rows=False)) is None
