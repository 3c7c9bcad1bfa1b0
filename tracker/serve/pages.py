"""The reader's pages of ``tracker serve``: narrative, entity, narrative-day, article, why it moved.

Routes (registered by :mod:`tracker.serve.plugin`):

* ``/-/narrative/ID``: intensity with intervals, net stance by week, calendar events, top
  entities and risers, latest members, the last weeks with a "why it moved" link each;
* ``/-/day/NARRATIVE/YYYY-MM-DD``: that narrative-day's member articles with evidence,
  stance, entities, other narratives, grouped by story ("1 event, 12 stories, 4 outlets");
* ``/-/entity/ID``: articles naming it per 1,000 articles a day, its newest articles with
  the sentence naming it, the narratives it drives;
* ``/-/article/ID``: one article, its narratives with evidence, its story cluster;
* ``/-/why/NARRATIVE/YYYY-Www``: the stories, entities and distinctive terms behind a
  week's change (:mod:`tracker.report.why`).

``/-/narrative`` and ``/-/entity`` without an id answer the pick-list forms (``?id=``,
``?q=`` for an entity name). The queries are in :mod:`tracker.serve.pagedata`.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from tracker.base.resources import model_file
from tracker.report.charts import PALETTE
from tracker.report.why import distinctive_terms, term_counts
from tracker.serve import charts, pagedata
from tracker.serve.pagedata import canonical_link, iso_week, source_name, week_bounds

DATABASE_NAME = "tracker"
#: Trailing weeks "why it moved" compares a week with.
WHY_REFERENCE_WEEKS = 4
#: Entity types in words (others: the type with spaces, capitalised).
ENTITY_TYPES = {"ORG": "Organisation", "PERSON": "Person", "GPE": "Country, city or state",
                "LOC": "Place", "NORP": "Group", "PRODUCT": "Product", "EVENT": "Event",
                "FAC": "Facility", "LAW": "Law", "MONEY": "Amount"}
#: z-score from which a word is shown as distinctive of a week (about 2.5% one-sided).
MIN_TERM_Z = 1.96
#: Member articles a narrative-day page shows in full before "show all".
DAY_PAGE_ARTICLES = 60
#: Pick-list cache: the top entities change with each run, not each request.
PICK_TTL_SECONDS = 300.0


def _db(datasette: Any) -> Any:
    try:
        return datasette.get_database(DATABASE_NAME)
    except KeyError as exc:
        raise NotFound("No tracker database is served") from exc


def narrative_url(narrative_id: str) -> str:
    """The narrative's page."""
    return f"/-/narrative/{quote(narrative_id, safe='')}"


def day_url(narrative_id: str, day: str) -> str:
    """A narrative-day's member articles."""
    return f"/-/day/{quote(narrative_id, safe='')}/{day}"


def entity_url(entity_id: str, day: str | None = None) -> str:
    """The entity's page (its articles of ``day`` when given)."""
    return f"/-/entity/{quote(entity_id, safe='')}" + (f"?day={day}" if day else "")


def article_url(article_id: int) -> str:
    """One article's page."""
    return f"/-/article/{article_id}"


def why_url(narrative_id: str, week: str) -> str:
    """Why a narrative-week moved."""
    return f"/-/why/{quote(narrative_id, safe='')}/{week}"


@cache
def _calendar() -> list[dict[str, str]]:
    """The shipped event calendar as plain rows (empty when it cannot be read)."""
    import yaml

    # The user's models/ (as every command reads it) first, else the packaged calendar.
    try:
        path = model_file(Path("models"), "events.yaml")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ImportError, yaml.YAMLError):
        return []
    return [{"day": str(e.get("date")), "title": str(e.get("title") or e.get("id")),
             "narrative": str(e.get("narrative"))}
            for e in (data or {}).get("events", []) if isinstance(e, dict)]


def _fmt(value: Any, digits: int = 0, sign: bool = False) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return "–"
    return f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"


def _plural(n: Any, word: str, words: str | None = None) -> str:
    """"1 article", "2,013 articles" (the number rounded)."""
    return f"{_fmt(n)} {word if n == 1 else (words or word + 's')}"


def _day_words(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%a %-d %b %Y")
    except ValueError:
        return day


def _spec_html(element_id: str, spec: dict[str, Any], static: str, version: str) -> Markup:
    blob = (json.dumps(spec, separators=(",", ":")).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))
    return Markup(
        f'<div class="tracker-chart" id="{escape(element_id)}" data-spec-id="{escape(element_id)}-spec">'
        f'</div><script type="application/json" id="{escape(element_id)}-spec">{blob}</script>'
        f'<script src="{static}vega-embed.js?v={version}" defer></script>'
        f'<script src="{static}tracker-charts.js?v={version}" defer></script>')


def _cache(datasette: Any) -> dict[str, tuple[float, Any]]:
    """This server's pick-list cache (one per Datasette instance: each serves its own file)."""
    cache: dict[str, tuple[float, Any]] | None = getattr(datasette, "_tracker_pick_cache", None)
    if cache is None:
        cache = {}
        datasette._tracker_pick_cache = cache
    return cache


async def _picks(datasette: Any) -> dict[str, Any]:
    """Narratives and the most-named entities for the pick lists (cached a few minutes)."""
    _pick_cache = _cache(datasette)
    now = time.monotonic()
    hit = _pick_cache.get("picks")
    if hit and now - hit[0] < PICK_TTL_SECONDS:
        return dict(hit[1])
    db = _db(datasette)
    picks = {"narratives": await pagedata.narratives(db),
             "entities": await pagedata.top_entities(db)}
    _pick_cache["picks"] = (now, picks)
    return picks


async def picker_html(datasette: Any, narrative_id: str | None = None,
                      entity_id: str | None = None) -> Markup:
    """The pick lists, rendered once per selection while the lists are cached."""
    picks = await _picks(datasette)
    _pick_cache = _cache(datasette)
    key = f"picker:{narrative_id}:{entity_id}"
    hit = _pick_cache.get(key)
    if hit and hit[0] >= _pick_cache["picks"][0]:
        return Markup(hit[1])
    html = await datasette.render_template(
        "_tracker_picker.html", {"picks": picks, "fmt": _fmt, "nar": {"id": narrative_id},
                                 "ent": {"id": entity_id}})
    if len(_pick_cache) > 500:  # one entry per page visited: keep it bounded
        _pick_cache.clear()
        _pick_cache["picks"] = (time.monotonic(), picks)
    _pick_cache[key] = (_pick_cache["picks"][0], html)
    return Markup(html)


async def _render(datasette: Any, request: Any, template: str, title: str,
                  context: dict[str, Any]) -> Response:
    from tracker.serve.plugin import _static_version

    picks = await _picks(datasette)
    nar, ent = context.get("nar"), context.get("ent")
    picker = await picker_html(datasette, nar["id"] if nar else None, ent["id"] if ent else None)
    html = await datasette.render_template(
        template, {"page_title": title, "picks": picks, "picker": picker, "fmt": _fmt,
                   "plural": _plural, "day_words": _day_words,
                   "narrative_url": narrative_url, "day_url": day_url, "entity_url": entity_url,
                   "article_url": article_url, "why_url": why_url, "link": canonical_link,
                   "source": source_name, "evidence": pagedata.evidence_list, "item": article_item,
                   "static": datasette.urls.path("/-/tracker-static/"),
                   "draw": lambda i, s: _spec_html(i, s, datasette.urls.path("/-/tracker-static/"),
                                                    _static_version()),
                   **context}, request=request)
    return Response.html(html)


def article_item(a: dict[str, Any], details: dict[int, dict[str, Any]] | None = None,
                 narrative_id: str | None = None) -> Markup:
    """One article in a list: headline to the publisher, source, score and stance, evidence,
    the sentence naming an entity, entities and the other narratives it counts towards.

    Built in Python rather than a Jinja include: Datasette's async Jinja costs about a
    millisecond per included article, most of a busy day's page.
    """
    e = escape
    href = canonical_link(a.get("url"), a.get("canonical_url")) or article_url(a["id"])
    meta = [e(source_name(a)), e(_day_words(a["day"]))]
    if a.get("score") is not None:
        meta.append(e(f"score {_fmt(a['score'], 2)}"))
    stance = a.get("stance")
    if stance is not None:
        kind = "pos" if stance > 0 else ("neg" if stance < 0 else "")
        meta.append(Markup(f'stance <span class="stance {kind}">{e(_fmt(stance, 2, True))}</span>'))
    meta.append(Markup(f'<a href="{e(article_url(a["id"]))}">details</a>'))
    parts = [Markup(f'<li class="tracker-article"><a class="headline" href="{e(href)}" rel="noopener">'
                    f'{e(a.get("title") or "(no headline)")}</a><div class="meta">')
             + Markup(" · ").join(meta) + Markup("</div>")]
    evidence = pagedata.evidence_list(a.get("evidence"))[:3] if a.get("evidence") else []
    if evidence:
        parts.append(Markup('<ol class="tracker-evidence">')
                     + Markup("").join(Markup(f"<li>{e(x)}</li>") for x in evidence) + Markup("</ol>"))
    if a.get("sentence"):
        parts.append(Markup(f'<blockquote class="sentence">{e(a["sentence"])}</blockquote>'))
    d = (details or {}).get(a["id"])
    if d:
        if d["entities"]:
            links = Markup(", ").join(Markup(f'<a href="{e(entity_url(x["id"]))}">{e(x["name"])}</a>')
                                      for x in d["entities"][:8])
            parts.append(Markup('<div class="tags">Entities: ') + links + Markup("</div>"))
        others = [o for o in d["narratives"] if o["narrative_id"] != narrative_id]
        if others:
            links = Markup(", ").join(
                Markup(f'<a href="{e(day_url(o["narrative_id"], a["day"]))}">{e(o["label"])}</a>')
                for o in others)
            parts.append(Markup('<div class="tags">Also: ') + links + Markup("</div>"))
    return Markup("").join(parts) + Markup("</li>")


def _redirect(location: str) -> Response:
    return Response.redirect(location)


def _day_arg(request: Any, name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


# --------------------------------------------------------------------------- narrative


async def narrative_page(request: Any, datasette: Any) -> Response:
    """Intensity, stance, events, entities and latest members of one narrative."""
    db = _db(datasette)
    wanted = request.url_vars.get("id") or request.args.get("id") or request.args.get("narrative")
    if not request.url_vars.get("id"):
        if wanted:
            return _redirect(narrative_url(wanted))
        picks = await _picks(datasette)
        if picks["narratives"]:
            return _redirect(narrative_url(picks["narratives"][0]["id"]))
        raise NotFound("No narratives yet: run `tracker run` first.")
    nar = await pagedata.narrative_row(db, wanted or "")
    if nar is None:
        raise NotFound(f"No narrative {wanted!r}: pick one from the list.")
    nid = nar["id"]
    span = await pagedata.index_span(db, nid, _day_arg(request, "start"), _day_arg(request, "end"), 180)
    context: dict[str, Any] = {"nar": nar, "span": span}
    labels = [n["label"] for n in (await _picks(datasette))["narratives"]]
    colour = PALETTE[labels.index(nar["label"]) % len(PALETTE)] if nar["label"] in labels else PALETTE[0]
    if span:
        start, end = span
        days = await pagedata.narrative_days(db, nid, start, end)
        events = [e for e in _calendar() if e["narrative"] == nid and start <= e["day"] <= end]
        points = [{"day": d["day"], "value": d["index_value"], "low": d["index_low"],
                   "high": d["index_high"], "smoothed": d["smoothed_7d"], "spike": d["spike"],
                   "articles": d["articles"], "href": day_url(nid, d["day"])} for d in days]
        if any(d["index_value"] is not None for d in days):
            context["chart"] = charts.narrative_spec(
                points, events, title=f"{nar['label']}: daily index", colour=colour, start=start,
                end=end)
        else:
            context["chart"] = charts.counts_spec(
                [{"day": d["day"], "articles": d["articles"], "href": day_url(nid, d["day"])}
                 for d in days if d["articles"]],
                title=f"{nar['label']}: member articles a day", colour=colour, start=start, end=end)
        cover = await pagedata.coverage(db, start, end)
        context["coverage"] = charts.coverage_spec(cover, start=start, end=end)
        stance = await pagedata.weekly_stance(db, nid, start, end)
        for s in stance:
            s["href"] = why_url(nid, iso_week(date.fromisoformat(s["week_start"])))
        context["stance"] = (charts.stance_spec(stance, colour=colour, start=start, end=end)
                             if stance else None)
        context["top"], context["risers"] = await pagedata.entity_movers(db, nid, end)
        context["spikes"] = [d for d in reversed(days) if d["spike"]][:10]
        context["events"] = list(reversed(events))[:10]
        context["latest"] = await pagedata.latest_members(db, nid, end)
        context["weeks"] = await pagedata.weeks(db, nid, end)
        context["last"] = days[-1] if days else None
    return await _render(datasette, request, "tracker_narrative.html", nar["label"], context)


# --------------------------------------------------------------------------- narrative-day


async def day_page(request: Any, datasette: Any) -> Response:
    """Member articles of a narrative-day, grouped by story, with evidence."""
    db = _db(datasette)
    nar = await pagedata.narrative_row(db, request.url_vars["narrative"])
    if nar is None:
        raise NotFound(f"No narrative {request.url_vars['narrative']!r}")
    day = request.url_vars["day"]
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise NotFound(f"{day!r} is not a day (YYYY-MM-DD)") from exc
    nid = nar["id"]
    index = await pagedata.one(db, "select * from narrative_index where narrative_id = ? and day = ?",
                               [nid, day])
    members = await pagedata.member_articles(db, nid, day)
    # Counted over every member; shown (with entities and stories) for the best-scoring
    # DAY_PAGE_ARTICLES unless ?all=1, so a busy day stays one quick page.
    clusters = await pagedata.story_ids(db, [a["id"] for a in members])
    story_count = len({clusters.get(a["id"], f"a{a['id']}") for a in members})
    shown = members if request.args.get("all") else members[:DAY_PAGE_ARTICLES]
    details = await pagedata.article_details(db, [a["id"] for a in shown])
    stories = pagedata.group_stories(shown, details)
    cover = await pagedata.one(db, "select * from coverage_daily where day = ?", [day])
    prev_next = await pagedata.one(db, """
        select (select max(day) from narrative_index where narrative_id = :n and day < :d and articles > 0) as prev,
               (select min(day) from narrative_index where narrative_id = :n and day > :d and articles > 0) as next
        """, {"n": nid, "d": day})
    week = iso_week(date.fromisoformat(day))
    context = {"nar": nar, "day": day, "index": index, "members": members, "details": details,
               "stories": stories, "cover": cover, "prev_next": prev_next, "week": week,
               "story_count": story_count, "shown": len(shown),
               "sources": len({a["feed_name"] for a in members})}
    return await _render(datasette, request, "tracker_day.html",
                         f"{nar['label']}, {_day_words(day)}", context)


# --------------------------------------------------------------------------- article


async def article_page(request: Any, datasette: Any) -> Response:
    """One article: its narratives with evidence, its entities and its story cluster."""
    db = _db(datasette)
    try:
        article_id = int(request.url_vars["id"])
    except ValueError as exc:
        raise NotFound("An article id is a number") from exc
    art = await pagedata.article(db, article_id)
    if art is None:
        raise NotFound(f"No article {article_id}")
    details = (await pagedata.article_details(db, [article_id]))[article_id]
    story = details["story"]
    story_rows = await pagedata.story_articles(db, story["id"]) if story else []
    context = {"art": art, "details": details, "story": story, "story_rows": story_rows,
               "narratives": await pagedata.article_narratives(db, article_id)}
    return await _render(datasette, request, "tracker_article.html", art["title"] or "Article", context)


# --------------------------------------------------------------------------- entity


async def entity_page(request: Any, datasette: Any) -> Response:
    """An entity's coverage-normalised timeline, newest articles and narratives."""
    db = _db(datasette)
    wanted = request.url_vars.get("id")
    if not wanted:
        text = (request.args.get("id") or request.args.get("q") or "").strip()
        if not text:
            picks = await _picks(datasette)
            if picks["entities"]:
                return _redirect(entity_url(picks["entities"][0]["id"]))
            raise NotFound("No entities yet: run `tracker run` first.")
        found = await pagedata.find_entities(db, text)
        if len(found) == 1 or (found and (found[0]["id"] == text
                                          or found[0]["name"].lower() == text.lower())):
            return _redirect(entity_url(found[0]["id"]))
        return await _render(datasette, request, "tracker_entity_search.html",
                             f"Entities matching {text}", {"text": text, "found": found})
    ent = await pagedata.entity_row(db, wanted)
    if ent is None:
        raise NotFound(f"No entity {wanted!r}: pick one from the list or search by name.")
    eid = ent["id"]
    end = _day_arg(request, "end") or await pagedata.entity_last_day(db, eid)
    context: dict[str, Any] = {"ent": ent, "end": end, "day": _day_arg(request, "day")}
    if end:
        first = await pagedata.one(db, "select min(day) as d from coverage_daily")
        year_ago = (date.fromisoformat(end) - timedelta(days=364)).isoformat()
        # A year up to the entity's last day, never before the first day with coverage.
        start = _day_arg(request, "start") or max(year_ago, (first or {}).get("d") or year_ago)
        timeline = await pagedata.entity_timeline(db, eid, start, end)
        for r in timeline:
            r["href"] = entity_url(eid, r["day"])
        context["chart"] = charts.entity_spec(timeline, title=f"{ent['name']}: share of coverage",
                                              start=start, end=end)
        context["coverage"] = charts.coverage_spec(
            await pagedata.coverage(db, start, end), start=start, end=end)
        context["total"] = sum(r["articles"] for r in timeline)
        context["start"] = start
        context["narratives"] = await pagedata.entity_narratives(db, eid, end)
    context["articles"] = await pagedata.entity_articles(db, eid, context["day"])
    context["kind"] = ENTITY_TYPES.get(ent["type"] or "", (ent["type"] or "").replace("_", " ").capitalize())
    return await _render(datasette, request, "tracker_entity.html", ent["name"], context)


# --------------------------------------------------------------------------- why it moved


async def why_page(request: Any, datasette: Any) -> Response:
    """The stories, entities and distinctive terms behind one narrative-week."""
    db = _db(datasette)
    nar = await pagedata.narrative_row(db, request.url_vars["narrative"])
    if nar is None:
        raise NotFound(f"No narrative {request.url_vars['narrative']!r}")
    week = request.url_vars["week"]
    try:
        start_d, end_d = week_bounds(week)
    except ValueError as exc:
        raise NotFound(f"{week!r} is not an ISO week (YYYY-Www)") from exc
    nid = nar["id"]
    start, end = start_d.isoformat(), end_d.isoformat()
    ref_start = (start_d - timedelta(days=7 * WHY_REFERENCE_WEEKS)).isoformat()
    ref_end = (start_d - timedelta(days=1)).isoformat()
    row = await pagedata.week_row(db, nid, week)
    this = await pagedata.member_texts(db, nid, start, end)
    before = await pagedata.member_texts(db, nid, ref_start, ref_end)
    terms = distinctive_terms(term_counts(f"{a['title'] or ''}. {a['summary'] or ''}" for a in this),
                              term_counts(f"{a['title'] or ''}. {a['summary'] or ''}" for a in before))
    by_cluster: dict[Any, list[dict[str, Any]]] = {}
    for a in this:
        by_cluster.setdefault(a["cluster_id"] or f"a{a['id']}", []).append(a)
    ranked = sorted(by_cluster.items(), key=lambda kv: (-len({a["feed_name"] for a in kv[1]}),
                                                       -len(kv[1]), -max(a["score"] for a in kv[1])))[:10]
    info = await pagedata.clusters(db, [k for k, _ in ranked if isinstance(k, int)])
    stories = [{"story": info.get(k) if isinstance(k, int) else None,
                "articles": sorted(v, key=lambda a: -a["score"]),
                "sources": len({a["feed_name"] for a in v})} for k, v in ranked]
    entities = await pagedata.week_entities(db, nid, start, end, ref_start)
    # Only words the test calls distinctive (z >= 2): with a handful of articles the prior
    # rightly keeps every word near zero, and a list of z = 0.1 words would read as reasons.
    terms = [t for t in terms if t.z >= MIN_TERM_Z]
    context = {"nar": nar, "week": week, "row": row, "start": start, "end": end,
               "terms": terms, "stories": stories, "entities": entities, "sampled": len(this),
               "reference": len(before), "ref_weeks": WHY_REFERENCE_WEEKS,
               "prev_week": iso_week(start_d - timedelta(days=7)),
               "next_week": iso_week(start_d + timedelta(days=7))}
    return await _render(datasette, request, "tracker_why.html",
                         f"Why {nar['label']} moved in {week}", context)


# --------------------------------------------------------------------------- home


async def home_page(request: Any, datasette: Any) -> Response:
    """The reader's home: the clickable overview chart, the latest week's movers, the pick lists.

    Replaces Datasette's instance page, which lists every table (a few hundred permission
    checks and queries per request); the tables stay one click away at ``/tracker``.
    """
    from tracker.serve.plugin import overview_chart

    db = _db(datasette)
    latest = await pagedata.rows(db, """
        select w.narrative_id, coalesce(n.label, n.id) as label, w.week, w.week_start,
          w.index_value, w.prev_index, w.change, w.change_p, w.mover, w.articles
        from narrative_weekly w join narratives n on n.id = w.narrative_id
        where w.week = (select max(week) from narrative_weekly)
        order by w.mover desc, abs(coalesce(w.change_z, 0)) desc, n.label""")
    metadata = datasette.metadata() or {}
    context = {"overview": await overview_chart(datasette), "latest": latest,
               "description_html": Markup(metadata.get("description_html") or "")}
    return await _render(datasette, request, "tracker_home.html", "Narrative Tracker", context)


ROUTES: list[tuple[str, Any]] = [
    (r"^/$", home_page),
    (r"^/-/narrative/?$", narrative_page),
    (r"^/-/narrative/(?P<id>[^/]+)$", narrative_page),
    (r"^/-/entity/?$", entity_page),
    (r"^/-/entity/(?P<id>[^/]+)$", entity_page),
    (r"^/-/day/(?P<narrative>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})$", day_page),
    (r"^/-/article/(?P<id>\d+)$", article_page),
    (r"^/-/why/(?P<narrative>[^/]+)/(?P<week>\d{4}-W\d{2})$", why_page),
]
