"""Gather a week's :class:`ReportData` from the store: the only step that touches the database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tracker.base.db import utcnow
from tracker.report.charts import Point
from tracker.report.data import (
    ArticleRef,
    ClaimRow,
    CrossLink,
    DayVolume,
    EntityFigure,
    FeedIssue,
    ModelVersion,
    NarrativeReport,
    ReportData,
    ReportOptions,
    SilentFeed,
    article_ref,
    clean_text,
    pick_representatives,
)
from tracker.report.dynamics_section import dynamics_section
from tracker.report.facts import CoverageDay, EmergingTopic, HitRate, WeeklyFigure, pick_stories
from tracker.report.queries import (
    Q_COVERAGE,
    Q_COVERAGE_DAYS,
    Q_CROSS_LINK_EXAMPLES,
    Q_CROSS_LINKS,
    Q_DAILY_VOLUME,
    Q_EMBEDDING_MODEL,
    Q_EMERGING,
    Q_ENTITY_RISERS,
    Q_FAILED_FEEDS,
    Q_INDEX_SERIES,
    Q_INDEX_SETTINGS,
    Q_MEMBER_ARTICLES,
    Q_MODEL_VERSIONS,
    Q_NARRATIVE_WEEK,
    Q_SILENT_FEEDS,
    Q_TOP_ENTITIES,
    Q_WEEK_CLAIMS,
    Q_WEEKLY,
    QueryRunner,
)
from tracker.report.weeks import Week

# --------------------------------------------------------------------------- gathering


def week_params(week: Week, options: ReportOptions, as_of: date | None = None) -> dict[str, Any]:
    """The named parameters every report query draws from.

    ``as_of`` is today (UTC): a week that is not over is reported up to it (``through``),
    so future days are not listed as empty and feeds are not silent for days to come.
    """
    as_of = as_of or datetime.now(UTC).date()
    through = min(week.end, as_of)
    return {
        "as_of": as_of.isoformat(),
        "through": through.isoformat(),
        "week_start": week.start.isoformat(),
        "week_end": week.end.isoformat(),
        "prev_start": week.prev_start.isoformat(),
        "prev_end": week.prev_end.isoformat(),
        "quarter_start": week.quarter_start.isoformat(),
        "after_end": (week.end + timedelta(days=1)).isoformat(),
        "baseline_start": (week.start - timedelta(days=28)).isoformat(),
        "silent_start": (through - timedelta(days=options.silent_days - 1)).isoformat(),
        "low_ratio": options.low_ratio,
        "top_n": options.top_n,
        "examples": options.cross_link_examples,
    }


def gather_report(
    conn: sqlite3.Connection,
    week: Week,
    *,
    options: ReportOptions | None = None,
    generated_at: str | None = None,
    today: date | None = None,
    models_dir: Path | None = None,
    events_path: Path | None = None,
) -> ReportData:
    """Run the report's named queries for ``week`` and assemble a :class:`ReportData`.

    ``today`` (default: UTC today) decides whether the week is over; see :func:`week_params`.
    """
    options = options or ReportOptions()
    params = week_params(week, options, today)
    runner = QueryRunner(conn, params)
    cov = runner.run(Q_COVERAGE)[0]
    base: dict[str, Any] = {
        "week": week,
        "generated_at": generated_at or utcnow(),
        "options": options,
        "first_day": cov["first_day"],
        "last_day": cov["last_day"],
        "week_articles": cov["week_articles"],
        "week_feeds": cov["week_feeds"],
        "index_first_day": cov["index_first_day"],
        "index_last_day": cov["index_last_day"],
        "week_index_values": cov["week_index_values"],
        "as_of": params["as_of"],
    }
    failed = tuple(
        FeedIssue(
            name=clean_text(r["name"], 80),
            source=clean_text(r["source"], 80),
            fetches=r["fetches"],
            failed=r["failed"],
            partial=r["partial"],
            last_error_kind=clean_text(r["last_error_kind"], 40) or None,
            last_error=clean_text(r["last_error"], 200) or None,
        )
        for r in runner.run(Q_FAILED_FEEDS)
    )
    silent = tuple(
        SilentFeed(
            name=clean_text(r["name"], 80),
            source=clean_text(r["source"], 80),
            week_articles=r["week_articles"],
            last_article_day=r["last_article_day"],
            fetches=r["fetches"],
        )
        for r in runner.run(Q_SILENT_FEEDS)
    )
    volume = tuple(
        DayVolume(
            r["day"], r["articles"], r["feeds"], r["baseline"], r["baseline_weeks"], bool(r["low"]),
            bool(r["in_progress"]),
        )
        for r in runner.run(Q_DAILY_VOLUME)
    )
    quality: dict[str, Any] = {
        "failed_feeds": failed,
        "silent_feeds": silent,
        "daily_volume": volume,
    }
    if not cov["week_articles"]:
        return ReportData(**base, **quality, queries=tuple(runner.runs))

    week_rows = runner.run(Q_NARRATIVE_WEEK)
    weekly = {r["narrative_id"]: _weekly(r) for r in runner.run(Q_WEEKLY)}
    stored = {r["key"]: r["value"] for r in runner.run(Q_INDEX_SETTINGS)}
    series: dict[str, list[Point]] = {}
    spikes: dict[str, list[str]] = {}
    for r in runner.run(Q_INDEX_SERIES):
        day = date.fromisoformat(r["day"])
        series.setdefault(r["narrative_id"], []).append(
            Point(day, r["index_value"], r["smoothed_7d"], bool(r["spike"]), r["zscore"])
        )
        if r["spike"] and week.start <= day <= week.end:
            spikes.setdefault(r["narrative_id"], []).append(r["day"])
    tops = _entities_by_narrative(runner.run(Q_TOP_ENTITIES))
    risers = _entities_by_narrative(runner.run(Q_ENTITY_RISERS))
    model_rows = runner.run(Q_EMBEDDING_MODEL)
    embedding_model = model_rows[0]["model"] if model_rows else None
    runner.params["embedding_model"] = embedding_model
    members: dict[str, list[dict[str, Any]]] = {}
    for r in runner.run(Q_MEMBER_ARTICLES):
        members.setdefault(r["narrative_id"], []).append(r)

    narratives = []
    for r in week_rows:
        nid = r["narrative_id"]
        reps, ranked_by = pick_representatives(members.get(nid, []), options.representatives)
        stories = pick_stories(members.get(nid, []), options.stories, _story_fields)
        narratives.append(
            NarrativeReport(
                id=nid,
                label=clean_text(r["label"] or nid, 120),
                description=clean_text(r["description"], 400) or None,
                week_mean=r["week_mean"],
                week_days=r["week_days"],
                prev_mean=r["prev_mean"],
                quarter_mean=r["quarter_mean"],
                change_prev=r["change_prev"],
                pct_prev=r["pct_prev"],
                change_quarter=r["change_quarter"],
                pct_quarter=r["pct_quarter"],
                articles=r["week_articles"],
                prev_articles=r["prev_articles"],
                spike_days=tuple(spikes.get(nid, [])),
                max_zscore=r["max_zscore"],
                series=tuple(series.get(nid, [])),
                top_entities=tuple(tops.get(nid, [])),
                risers=tuple(risers.get(nid, [])),
                representatives=tuple(reps),
                members=len(members.get(nid, [])),
                ranked_by=ranked_by,
                weekly=weekly.get(nid),
                stories=tuple(stories),
            )
        )
    labels = {n.id: n.label for n in narratives}

    claim_rows = runner.run(Q_WEEK_CLAIMS)
    claims = tuple(
        ClaimRow(
            claim_id=r["claim_id"],
            day=r["day"],
            kind=str(r["kind"]),
            value=r["value"],
            low=r["low"],
            high=r["high"],
            unit=r["unit"],
            text=clean_text(r["text"], 240),
            entity=clean_text(r["entity"], 80) or None,
            entity_type=r["entity_type"],
            subject=clean_text(r["subject"], 80) or None,
            article=article_ref(r),
            narratives=r["narratives"],
            mentions=r["mentions"],
        )
        for r in claim_rows[: options.max_claims]
    )

    examples: dict[tuple[str, str], list[ArticleRef]] = {}
    links = runner.run(Q_CROSS_LINKS)
    for r in runner.run(Q_CROSS_LINK_EXAMPLES):
        examples.setdefault((r["narrative_a"], r["narrative_b"]), []).append(
            article_ref({**r, "score": None})
        )
    cross = tuple(
        CrossLink(
            narrative_a=r["narrative_a"],
            narrative_b=r["narrative_b"],
            label_a=labels.get(r["narrative_a"], r["narrative_a"]),
            label_b=labels.get(r["narrative_b"], r["narrative_b"]),
            articles=r["articles"],
            examples=tuple(examples.get((r["narrative_a"], r["narrative_b"]), [])),
        )
        for r in links
    )
    versions = tuple(
        ModelVersion(clean_text(r["model_version"], 200), r["rows"], r["computed_at"])
        for r in runner.run(Q_MODEL_VERSIONS)
    )
    coverage_days = tuple(
        CoverageDay(r["day"], r["articles"], r["scored_articles"], r["sources"], bool(r["covered"]))
        for r in runner.run(Q_COVERAGE_DAYS)
    )
    emerging = tuple(_emerging(r) for r in runner.run(Q_EMERGING))
    rates, note = _hit_rates(conn, labels, models_dir, events_path)
    dynamics = dynamics_section(conn)
    return ReportData(
        **base,
        **quality,
        interval=_float(stored.get("interval"), 0.9),
        mover_p=_float(stored.get("mover_p"), 0.01),
        coverage_days=coverage_days,
        emerging=emerging,
        hit_rates=rates,
        validation_note=note,
        dynamics_markdown=dynamics.markdown if dynamics is not None else None,
        dynamics_chart=dynamics.chart if dynamics is not None else None,
        narratives=tuple(narratives),
        claims=claims,
        claims_total=len(claim_rows),
        cross_links=cross,
        model_versions=versions,
        embedding_model=embedding_model,
        queries=tuple(runner.runs),
    )


def _entities_by_narrative(rows: list[dict[str, Any]]) -> dict[str, list[EntityFigure]]:
    out: dict[str, list[EntityFigure]] = {}
    for r in rows:
        out.setdefault(r["narrative_id"], []).append(
            EntityFigure(
                entity_id=str(r["entity_id"]),
                name=clean_text(r["name"], 80),
                type=clean_text(r["type"], 40),
                week_articles=r["week_articles"],
                prev_articles=r["prev_articles"],
                change=r["change"],
            )
        )
    return out


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


def _weekly(r: Mapping[str, Any]) -> WeeklyFigure:
    return WeeklyFigure(
        index_value=r["index_value"], index_low=r["index_low"], index_high=r["index_high"],
        prev_index=r["prev_index"], change=r["change"], change_p=r["change_p"],
        mover=bool(r["mover"]), articles=int(r["articles"]), expected=r["expected_articles"],
        covered_days=int(r["covered_days"]), member_sources=int(r["member_sources"]),
        net_stance=r["net_stance"], stance_articles=int(r["stance_articles"] or 0),
        prev_net_stance=r["prev_net_stance"],
    )


def _story_fields(row: Mapping[str, Any]) -> tuple[str, str | None, str, str, float | None, str | None]:
    ref = article_ref(row, evidence=True)
    return ref.title, ref.url, ref.source, ref.day, ref.score, ref.evidence


def _json_list(text: Any, key: str, limit: int) -> tuple[str, ...]:
    try:
        items = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return ()
    out = []
    for item in items if isinstance(items, list) else []:
        value = item.get(key) if isinstance(item, dict) else item
        if isinstance(value, str) and value.strip():
            out.append(clean_text(value, 160))
    return tuple(out[:limit])


def _emerging(r: Mapping[str, Any]) -> EmergingTopic:
    return EmergingTopic(
        topic_id=int(r["topic_id"]), label=clean_text(r["label"], 120), growth=str(r["growth"]),
        articles=int(r["articles"]), sources=int(r["sources"]),
        recent_articles=int(r["recent_articles"]), baseline_weekly=r["baseline_weekly"],
        peak_day=str(r["peak_day"]), headlines=_json_list(r["headlines"], "title", 3),
        entities=_json_list(r["entities"], "name", 5),
    )


def _hit_rates(conn: sqlite3.Connection, labels: Mapping[str, str], models_dir: Path | None,
               events_path: Path | None) -> tuple[tuple[HitRate, ...], str | None]:
    """Current event hit rates of the index (tracker validate's study), or why there are none."""
    from tracker.base.errors import TrackerError
    from tracker.index.validate import current_hit_rates

    try:
        rates = current_hit_rates(conn, events_path, models_dir=models_dir)
    except (TrackerError, OSError, ValueError, ImportError) as exc:
        return (), f"The event study could not run: {clean_text(exc, 300)}"
    if not rates:
        return (), "The index is empty: no event study yet."
    return tuple(
        HitRate(r.narrative, labels.get(r.narrative, r.narrative), r.events, r.ranked, r.hits,
                r.hit_rate, r.placebo_rate, r.p_value)
        for r in rates
    ), None
