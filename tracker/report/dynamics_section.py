"""The weekly report's "How the stories move together" section, from ``narrative_dynamics``.

Hook for the report: ``section = dynamics_section(conn)`` returns ``None`` when ``tracker
dynamics`` has not run (leave the section out), else a :class:`DynamicsSection` with the
section's Markdown (``section.markdown``, a level-2 heading, the verdicts of the leads
found and of the pairs the tracker was built for, a robustness line each, virality), the
lag chart's Vega-Lite spec (``section.chart``) and :func:`lag_chart_svg` to draw it.
The section reads only the stored rows, so it costs milliseconds.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd

from tracker.index.dynamics_store import stored_rows
from tracker.report.charts import CONFIG, PALETTE, TEXT_COLOUR, to_svg

TITLE = "How the stories move together"
#: The links the tracker was built to watch: always reported, lead or not.
FOCUS_PAIRS = (("ai_productivity", "crypto_legitimacy"), ("fed_easing_liquidity", "crypto_legitimacy"))


@dataclass(frozen=True)
class DynamicsSection:
    """The section's text, its chart spec and the rows behind them."""

    markdown: str
    chart: dict[str, Any]
    pairs: list[dict[str, Any]] = field(default_factory=list)
    title: str = TITLE


def _pair_label(row: dict[str, Any], labels: dict[str, str]) -> str:
    """'AI doubt -> Crypto (intensity, daily)'."""
    return (f"{labels.get(row['leader'], row['leader'])} -> {labels.get(row['follower'], row['follower'])} "
            f"({row['series']}, {row['frequency']})")  # fmt: skip


def chosen_pairs(rows: pd.DataFrame, focus: Sequence[tuple[str, str]], limit: int) -> list[dict[str, Any]]:
    """The main pair rows to show: leads found (best first), then the focus pairs' daily intensity."""
    main = rows[(rows["analysis"] == "granger") & (rows["variant"] == "all")]
    leads = main[main["significant"] == 1].sort_values("p_adjusted")
    wanted = set(focus)
    is_focus = pd.Series([(a, b) in wanted for a, b in zip(main["leader"], main["follower"], strict=True)],
                         index=main.index, dtype=bool)
    focus_rows = main[is_focus & (main["series"] == "intensity") & (main["frequency"] == "daily")]
    picked = pd.concat([leads, focus_rows]).drop_duplicates("id").head(limit)
    return [dict(r) for r in picked.to_dict("records")]


def lag_chart(pairs: Sequence[dict[str, Any]], labels: dict[str, str], *, width: int = 640,
              height: int = 240) -> dict[str, Any]:
    """Vega-Lite spec: cross-correlation by lag per pair, with the 95% band of no correlation."""
    values: list[dict[str, Any]] = []
    bands: list[float] = []
    for row in pairs:
        if not isinstance(row.get("xcorr"), str):
            continue
        name = _pair_label(row, labels)
        unit = "days" if row["frequency"] == "daily" else "weeks"
        for lag, corr in json.loads(row["xcorr"]).items():
            if corr is not None and corr == corr:
                values.append({"pair": name, "lag": int(lag), "corr": corr, "unit": unit})
        if row.get("n_obs"):
            bands.append(1.96 / math.sqrt(int(row["n_obs"])))
    if not values:
        values = [{"pair": "no pair tested", "lag": 0, "corr": 0.0, "unit": "days"}]
    band = max(bands, default=0.0)
    base = alt.Chart(alt.Data(values=values))
    lines = base.mark_line(point=True).encode(
        x=alt.X("lag:Q", title="Lag (positive: the first story leads), days or weeks"),
        y=alt.Y("corr:Q", title="Cross-correlation"),
        color=alt.Color("pair:N", title="Pair", scale=alt.Scale(range=list(PALETTE)),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=0)),
        tooltip=["pair:N", "lag:Q", "corr:Q"],
    )
    rules = alt.Chart(alt.Data(values=[{"y": band}, {"y": -band}, {"y": 0.0}])).mark_rule(
        color="#999999", strokeDash=[4, 3]).encode(y="y:Q")  # fmt: skip
    chart = alt.LayerChart(
        layer=[rules, lines], width=width, height=height, config=CONFIG,
        title=alt.TitleParams(text="Cross-correlation by lag", anchor="start", fontSize=15, color=TEXT_COLOUR,
                              subtitle=f"dashed: the 95% band of no correlation (+/-{band:.2f})",
                              subtitleColor="#555555"),
    )  # fmt: skip
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def _robust_line(row: dict[str, Any]) -> str:
    """Which robustness variants kept the lead."""
    if not isinstance(row.get("robustness"), str):
        return ""
    held = json.loads(row["robustness"]).get("held", {})
    drops = [v for v in held if v.startswith("drop:")]
    parts = []
    if drops:
        parts.append(f"held without {sum(held[v] for v in drops)} of {len(drops)} sources")
    for name in ("first_half", "second_half"):
        if name in held:
            parts.append(f"{name.replace('_', ' ')}: {'held' if held[name] else 'not held'}")
    if "placebo" in held:
        parts.append("placebo: " + ("significant (suspect)" if held["placebo"] else "no lead"))
    return "; ".join(parts)


def section_markdown(pairs: Sequence[dict[str, Any]], virality: pd.DataFrame, rows: pd.DataFrame) -> str:
    """The section's Markdown (heading, one bullet per pair, virality, what was tested)."""
    main = rows[(rows["analysis"] == "granger") & (rows["variant"] == "all")]
    leads = int((main["significant"] == 1).sum())
    first = rows["first_day"].dropna().min() if "first_day" in rows else None
    last = rows["last_day"].dropna().max() if "last_day" in rows else None
    params = json.loads(rows["params"].iloc[0]) if len(rows) else {}
    lines = [f"## {TITLE}", ""]
    lines.append(
        f"{leads} lead{'s' * (leads != 1)} among {len(main)} tests of ordered narrative pairs "
        f"({first}..{last}; Granger tests with the lag order chosen by {str(params.get('ic', 'aic')).upper()}, "
        f"{params.get('correction', 'holm')}-corrected at {params.get('alpha', 0.05)}).")  # fmt: skip
    lines.append("")
    for row in pairs:
        robust = _robust_line(row)
        lines.append(f"- **{row['series']}, {row['frequency']}**: {str(row['verdict']).split('; ')[0]}"
                     + (f" ({robust})" if robust and row.get("significant") == 1 else ""))  # fmt: skip
    if len(virality):
        lines += ["", "How fast a story spreads (share of publishing sources carrying it after a first story):", ""]
        for r in virality.to_dict("records"):
            lines.append(f"- {r['verdict']}")
    lines += ["", "Leads are statistical (one series helps forecast the other), not proof of cause."]
    return "\n".join(lines) + "\n"


def dynamics_section(conn: sqlite3.Connection, *, focus: Sequence[tuple[str, str]] = FOCUS_PAIRS,
                     limit: int = 6) -> DynamicsSection | None:
    """The section from the stored dynamics rows, or None if `tracker dynamics` never ran."""
    rows = stored_rows(conn)
    if rows.empty:
        return None
    labels = dict(conn.execute("SELECT id, label FROM narratives").fetchall())
    pairs = chosen_pairs(rows, focus, limit)
    virality = rows[rows["analysis"] == "virality"]
    return DynamicsSection(markdown=section_markdown(pairs, virality, rows),
                           chart=lag_chart(pairs, labels), pairs=pairs)  # fmt: skip


def lag_chart_svg(section: DynamicsSection) -> str:
    """The section's lag chart as standalone SVG (for the report's files)."""
    return to_svg(section.chart)


def section_html(markdown: str) -> str:
    """The section's Markdown (as :func:`section_markdown` writes it: a heading, paragraphs,
    bullets with **bold**) as escaped HTML for the report page, heading left to the page."""
    from markupsafe import escape

    def inline(text: str) -> str:
        parts = str(escape(text)).split("**")
        return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))

    html: list[str] = []
    in_list = False
    for line in markdown.splitlines():
        if line.startswith("- "):
            if not in_list:
                html.append("<ul>")
                in_list = True
            html.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            html.append("</ul>")
            in_list = False
        if line.strip() and not line.startswith("## "):
            html.append(f"<p>{inline(line)}</p>")
    if in_list:
        html.append("</ul>")
    return "\n".join(html)
