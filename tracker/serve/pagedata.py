"""What the narrative, entity, day, article and "why it moved" pages show: the queries.

Every function takes the served Datasette database and returns plain rows (dicts); the
routes in :mod:`tracker.serve.pages` render them. Each query reads a narrow index or a
small precomputed table (narrative_index, narrative_weekly, narrative_entity_daily,
narrative_source_daily, entity_daily, coverage_daily) or a handful of article rows by id,
so every page stays well under 100 ms at a million articles (bench/bench_serve.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from tracker.enrich.runner import article_text


async def rows(db: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts."""
    result = await db.execute(sql, params)
    return [dict(r) for r in result.rows]


async def one(db: Any, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first row of ``sql`` as a dict, or None."""
    found = await rows(db, sql, params)
    return found[0] if found else None


# "+a.duplicate_of is null" (a unary plus) keeps the planner off idx_articles_duplicate_of:
# nearly every article is not a duplicate, so that index would read the whole table.


def _marks(n: int) -> str:
    return ",".join("?" * n)


# --------------------------------------------------------------------------- links and words

#: Archive services that wrap a publisher's URL: the canonical link is the one inside.
_ARCHIVE = re.compile(r"^https?://(?:web\.)?archive\.(?:org|ph|today|is|li|md|vn)/\S*?(https?://\S+)$")


def canonical_link(url: str | None, canonical: str | None = None) -> str | None:
    """The publisher's own link: unwrapped from an archive service, else ``canonical``/``url``."""
    for candidate in (url, canonical):
        if candidate:
            match = _ARCHIVE.match(candidate)
            if match:
                return match.group(1)
    return canonical if canonical and canonical.startswith("http") else url


#: Words of feed slugs written as publishers write them.
_SLUG_WORDS = {"ft": "FT", "wsj": "WSJ", "nyt": "NYT", "ai": "AI", "ecb": "ECB", "fed": "Fed",
               "fomc": "FOMC", "boe": "BoE", "boj": "BoJ", "snb": "SNB", "bis": "BIS", "imf": "IMF",
               "cnbc": "CNBC", "bbc": "BBC", "ap": "AP", "us": "US", "uk": "UK", "eu": "EU",
               "theverge": "The Verge", "techcrunch": "TechCrunch", "coindesk": "CoinDesk",
               "cointelegraph": "Cointelegraph", "cryptopanic": "CryptoPanic", "marketwatch": "MarketWatch"}
#: Slug words that name a section or a format, not the publisher.
_SLUG_FILLER = {"home", "rss", "feed", "atom", "xml", "all", "top", "main"}


def readable_source(name: str | None, title: str | None = None) -> str:
    """A feed's name in words: its own title when short, else its slug made readable.

    "wsj_markets" -> "WSJ Markets", "cryptopanic_cointelegraph" -> "Cointelegraph (CryptoPanic)":
    an aggregator's feeds are named after the outlet, the aggregator in brackets.
    """
    title = (title or "").strip()
    if title and len(title) <= 60:
        return title
    words = [w for w in re.split(r"[_\-\s]+", str(name or "")) if w]
    if not words:
        return "unknown source"
    shown = [_SLUG_WORDS.get(w.lower(), w.capitalize()) for w in words
             if w.lower() not in _SLUG_FILLER] or [_SLUG_WORDS.get(words[0].lower(), words[0].capitalize())]
    if len(shown) > 1 and words[0].lower() == "cryptopanic":
        return f"{' '.join(shown[1:])} (CryptoPanic)"
    return " ".join(shown)


def source_name(feed: Mapping[str, Any]) -> str:
    """:func:`readable_source` of a row with ``feed_name`` and ``feed_title``."""
    return readable_source(feed.get("feed_name"), feed.get("feed_title"))


#: A full stop that ends an abbreviation ("U.S.", "Mr.", "Inc."), not a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Za-z]\.)+|\b(?:Mr|Mrs|Ms|Dr|St|Inc|Corp|Co|Ltd|Jr|Sr|No|vs|"
                           r"Gov|Sen|Rep|Gen|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.)$")
_BOUNDARY = re.compile(r"[.!?](?=\s)|\n")


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    return match.group() == "\n" or not _ABBREVIATION.search(text[max(0, match.start() - 12):match.end()])


def sentence_around(text: str, start: int, end: int, limit: int = 320) -> str:
    """The sentence of ``text`` holding characters ``start:end`` (trimmed to ``limit``)."""
    if not text or start >= len(text):
        return ""
    left = 0
    for match in _BOUNDARY.finditer(text, 0, start):
        if _is_boundary(text, match):
            left = match.end()
    right = len(text)
    for match in _BOUNDARY.finditer(text, end):
        if _is_boundary(text, match):
            right = match.end()
            break
    sentence = text[left:right].strip()
    if len(sentence) > limit:
        centre = (start + end) // 2 - left
        lo = max(0, centre - limit // 2)
        sentence = ("…" if lo else "") + sentence[lo:lo + limit].strip() + "…"
    return sentence


def evidence_list(value: str | None) -> list[str]:
    """Evidence sentences from the JSON column, best first."""
    try:
        items = json.loads(value or "[]")
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    scored = [(float(i.get("score") or 0), str(i["sentence"])) for i in items
              if isinstance(i, Mapping) and i.get("sentence")]
    return [s for _, s in sorted(scored, key=lambda p: -p[0])]


def iso_week(day: date) -> str:
    """The ISO week of ``day`` as YYYY-Www."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of ISO week ``YYYY-Www``."""
    monday = date.fromisocalendar(int(week[:4]), int(week[6:8]), 1)
    return monday, monday + timedelta(days=6)


# --------------------------------------------------------------------------- pick lists


async def narratives(db: Any) -> list[dict[str, Any]]:
    """Every narrative with its label, in label order."""
    return await rows(db, "select id, coalesce(label, id) as label from narratives order by label, id")


async def top_entities(db: Any, days: int = 90, limit: int = 150) -> list[dict[str, Any]]:
    """The entities named in most articles over the last ``days`` days (for the pick list)."""
    return await rows(db, """
        with last as (select max(day) as d from entity_daily)
        select ed.entity_id as id, e.name, sum(ed.articles) as articles
        from entity_daily ed join entities e on e.id = ed.entity_id
        where ed.day > (select date(d, :back) from last)
        group by ed.entity_id order by articles desc, e.name limit :limit
    """, {"back": f"-{days} days", "limit": limit})


async def find_entities(db: Any, text: str, limit: int = 30) -> list[dict[str, Any]]:
    """Entities whose id or name is ``text`` (any case) first, then names containing it."""
    return await rows(db, """
        select id, name, type from entities
        where id = :t or name = :t collate nocase or name like :like
        order by id = :t desc, name = :t collate nocase desc, length(name), name limit :limit
    """, {"t": text.strip(), "like": f"%{text.strip()}%", "limit": limit})


# --------------------------------------------------------------------------- narrative


async def narrative_row(db: Any, narrative_id: str) -> dict[str, Any] | None:
    """The narrative by id (or label, any case)."""
    return await one(db, """
        select id, coalesce(label, id) as label, description from narratives
        where id = :n or id = :n collate nocase or label = :n collate nocase
        order by id = :n desc limit 1""", {"n": narrative_id})


async def index_span(db: Any, narrative_id: str, start: str | None, end: str | None,
                     default_days: int) -> tuple[str, str] | None:
    """The day range to show: ``start``..``end`` or the ``default_days`` up to the last day."""
    found = await one(db, """
        select min(day) as first, max(day) as last,
          (select max(day) from narrative_index where narrative_id = :n and index_value is not null)
            as last_value,
          (select max(day) from narrative_index where narrative_id = :n and articles > 0)
            as last_articles
        from narrative_index where narrative_id = :n""", {"n": narrative_id})
    if not found or not found["last"]:
        return None
    # Up to the last day with a value (else with member articles): a narrative whose sources
    # stopped, or whose articles are not scored yet, shows where it was measured, not months
    # of empty days.
    end_day = end or found["last_value"] or found["last_articles"] or found["last"]
    # Never before the index's first day: every chart of the page shares this span.
    start_day = start or max(found["first"], (date.fromisoformat(end_day)
                                              - timedelta(days=default_days - 1)).isoformat())
    return start_day, end_day


async def narrative_days(db: Any, narrative_id: str, start: str, end: str) -> list[dict[str, Any]]:
    """The narrative's index rows over the range, oldest first."""
    return await rows(db, """
        select day, index_value, index_low, index_high, smoothed_7d, zscore, p_value, spike,
          articles, expected_articles, sources, member_sources, net_stance, covered
        from narrative_index where narrative_id = ? and day between ? and ? order by day""",
        [narrative_id, start, end])


async def coverage(db: Any, start: str, end: str) -> list[dict[str, Any]]:
    """Articles, sources and whether each day is covered, over the range."""
    return await rows(db, "select day, articles, sources, covered from coverage_daily "
                          "where day between ? and ? order by day", [start, end])


async def weekly_stance(db: Any, narrative_id: str, start: str, end: str,
                        z: float = 1.645) -> list[dict[str, Any]]:
    """Net stance per ISO week with a 90% interval, source-days as clusters.

    The mean is the ratio sum(stance)/sum(articles) over the week's source-days; its
    standard error is the ratio estimator's, from the sums of squares, so one outlet's
    burst of like-minded articles widens the interval instead of narrowing it.
    """
    found = await rows(db, """
        select date(day, 'weekday 0', '-6 days') as week_start, sum(stance_sum) as s,
          sum(stance_articles) as n, sum(stance_sum * stance_sum) as ss,
          sum(stance_sum * stance_articles) as sn, sum(stance_articles * stance_articles) as nn,
          count(*) as k
        from narrative_source_daily
        where narrative_id = ? and day between ? and ? and stance_articles > 0
        group by week_start order by week_start""", [narrative_id, start, end])
    out = []
    for r in found:
        n, k = r["n"] or 0, r["k"] or 0
        if n <= 0:
            continue
        mean = r["s"] / n
        resid = max(0.0, r["ss"] - 2 * mean * r["sn"] + mean * mean * r["nn"])
        se = math.sqrt(resid * k / max(k - 1, 1)) / n if k > 1 else 1.0
        out.append({"week_start": r["week_start"], "stance": round(mean, 3),
                    "low": round(max(-1.0, mean - z * se), 3), "high": round(min(1.0, mean + z * se), 3),
                    "articles": n})
    return out


async def entity_movers(db: Any, narrative_id: str, end: str, days: int = 28,
                        limit: int = 12) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top entities of the narrative's last ``days`` days, and the risers against the days before."""
    end_day = date.fromisoformat(end)
    cur_start = (end_day - timedelta(days=days - 1)).isoformat()
    prev_start = (end_day - timedelta(days=2 * days - 1)).isoformat()
    found = await rows(db, """
        select ned.entity_id, e.name,
          sum(case when ned.day >= :cur then ned.articles else 0 end) as articles,
          sum(case when ned.day < :cur then ned.articles else 0 end) as before
        from narrative_entity_daily ned join entities e on e.id = ned.entity_id
        where ned.narrative_id = :n and ned.day between :prev and :end
        group by ned.entity_id""", {"cur": cur_start, "prev": prev_start, "end": end, "n": narrative_id})
    top = sorted((r for r in found if r["articles"]), key=lambda r: (-r["articles"], r["name"]))[:limit]
    # Risers: log ratio with half an article added each side, so 0 -> 1 is not infinite.
    for r in found:
        r["lift"] = math.log((r["articles"] + 0.5) / (r["before"] + 0.5))
    risers = sorted((r for r in found if r["articles"] >= 3 and r["lift"] > 0),
                    key=lambda r: (-r["lift"], -r["articles"]))[:limit]
    return top, risers


async def latest_members(db: Any, narrative_id: str, end: str, limit: int = 12) -> list[dict[str, Any]]:
    """The narrative's newest member articles up to ``end`` (latest days first, best score first)."""
    # The last days with members, from the index (narrow), then those days' articles drive
    # the join: ids follow the order articles were stored, not their days (replays, backfills).
    days = [r["day"] for r in await rows(db, """
        select day from narrative_index where narrative_id = ? and day <= ? and articles > 0
        order by day desc limit 7""", [narrative_id, end])]
    if not days:
        return []
    return await rows(db, f"""
        select a.id, a.day, a.title, a.url, a.canonical_url, an.score, an.stance,
          f.name as feed_name, f.title as feed_title
        from articles a cross join article_narratives an
        left join feeds f on f.id = a.feed_id
        where a.day in ({_marks(len(days))}) and an.article_id = a.id and an.narrative_id = ?
          and an.is_member = 1 and +a.duplicate_of is null
        order by a.day desc, an.score desc, a.id limit ?""", [*days, narrative_id, limit])


async def weeks(db: Any, narrative_id: str, end: str, limit: int = 12) -> list[dict[str, Any]]:
    """The narrative's weeks up to ``end`` from narrative_weekly, newest first."""
    return await rows(db, """
        select week, week_start, week_end, index_value, index_low, index_high, change, change_p,
          mover, articles, member_sources, net_stance
        from narrative_weekly where narrative_id = ? and week_start <= ?
        order by week desc limit ?""", [narrative_id, end, limit])


# --------------------------------------------------------------------------- articles


async def member_articles(db: Any, narrative_id: str, day: str) -> list[dict[str, Any]]:
    """Member articles of a narrative-day, best score first, with evidence and stance."""
    # The day's articles drive the join: a day has hundreds, a narrative can have 100,000s.
    return await rows(db, """
        select a.id, a.day, a.title, a.url, a.canonical_url, a.published_at, an.score, an.stance,
          an.evidence, an.stance_evidence, f.name as feed_name, f.title as feed_title
        from articles a cross join article_narratives an
        left join feeds f on f.id = a.feed_id
        where a.day = ? and an.article_id = a.id and an.narrative_id = ? and an.is_member = 1
          and +a.duplicate_of is null
        order by an.score desc, a.id""", [day, narrative_id])


async def article_details(db: Any, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Entities, member narratives and story cluster of each article id."""
    out: dict[int, dict[str, Any]] = {i: {"entities": [], "narratives": [], "story": None} for i in ids}
    if not ids:
        return out
    ids = list(ids)
    for r in await rows(db, f"""
            select m.article_id, e.id, e.name, count(*) as n from mentions m
            join entities e on e.id = m.entity_id
            where m.article_id in ({_marks(len(ids))}) and m.entity_id is not null
            group by m.article_id, e.id order by n desc, e.name""", ids):
        out[r["article_id"]]["entities"].append(r)
    for r in await rows(db, f"""
            select an.article_id, an.narrative_id, coalesce(n.label, an.narrative_id) as label,
              an.score, an.stance
            from article_narratives an join narratives n on n.id = an.narrative_id
            where an.article_id in ({_marks(len(ids))}) and an.is_member = 1
            order by an.score desc""", ids):
        out[r["article_id"]]["narratives"].append(r)
    for r in await rows(db, f"""
            select sa.article_id, c.id, c.title, c.articles, c.copies, c.sources, c.first_day,
              c.last_day
            from story_articles sa join story_clusters c on c.id = sa.cluster_id
            where sa.article_id in ({_marks(len(ids))})""", ids):
        out[r["article_id"]]["story"] = r
    return out


async def story_ids(db: Any, ids: Sequence[int]) -> dict[int, int]:
    """The story cluster of each article id that has one."""
    out: dict[int, int] = {}
    ids = list(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in await rows(db, f"select article_id, cluster_id from story_articles "
                                f"where article_id in ({_marks(len(chunk))})", chunk):
            out[r["article_id"]] = r["cluster_id"]
    return out


def group_stories(articles: Iterable[Mapping[str, Any]],
                  details: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The articles grouped by story cluster, biggest first (an unclustered article is its own)."""
    groups: dict[Any, dict[str, Any]] = {}
    for a in articles:
        story = details.get(a["id"], {}).get("story")
        key = story["id"] if story else f"a{a['id']}"
        g = groups.setdefault(key, {"story": story, "articles": [], "sources": set()})
        g["articles"].append(a)
        g["sources"].add(a.get("feed_name"))
    out = [{"story": g["story"], "articles": g["articles"], "sources": len(g["sources"])}
           for g in groups.values()]
    out.sort(key=lambda g: (-len(g["articles"]), -g["sources"], -(g["articles"][0].get("score") or 0)))
    return out


async def article(db: Any, article_id: int) -> dict[str, Any] | None:
    """One article with its source name."""
    return await one(db, """
        select a.id, a.day, a.title, a.summary, a.url, a.canonical_url, a.published_at, a.author,
          a.duplicate_of, a.content_status, f.name as feed_name, f.title as feed_title
        from articles a left join feeds f on f.id = a.feed_id where a.id = ?""", [article_id])


async def article_narratives(db: Any, article_id: int) -> list[dict[str, Any]]:
    """Every narrative score of an article, members first."""
    return await rows(db, """
        select an.narrative_id, coalesce(n.label, an.narrative_id) as label, an.score, an.is_member,
          an.stance, an.evidence, an.stance_evidence
        from article_narratives an join narratives n on n.id = an.narrative_id
        where an.article_id = ? order by an.is_member desc, an.score desc""", [article_id])


async def story_articles(db: Any, cluster_id: int, limit: int = 60) -> list[dict[str, Any]]:
    """The articles of a story cluster in time order."""
    return await rows(db, """
        select a.id, a.day, a.title, a.url, a.canonical_url, sa.is_copy, f.name as feed_name,
          f.title as feed_title
        from story_articles sa join articles a on a.id = sa.article_id
        left join feeds f on f.id = a.feed_id
        where sa.cluster_id = ? order by a.day, coalesce(a.published_at, a.fetched_at), a.id
        limit ?""", [cluster_id, limit])


# --------------------------------------------------------------------------- entity


async def entity_row(db: Any, entity_id: str) -> dict[str, Any] | None:
    """The entity by id (or name, any case)."""
    return await one(db, """
        select id, name, type, description, aliases from entities
        where id = :e or name = :e collate nocase order by id = :e desc limit 1""", {"e": entity_id})


async def entity_timeline(db: Any, entity_id: str, start: str, end: str) -> list[dict[str, Any]]:
    """Articles naming the entity per day, per 1,000 of the day's articles (every covered day)."""
    found = await rows(db, """
        select c.day, c.articles as total, coalesce(ed.articles, 0) as articles
        from coverage_daily c
        left join entity_daily ed on ed.entity_id = ? and ed.day = c.day
        where c.day between ? and ? order by c.day""", [entity_id, start, end])
    for r in found:
        r["per_1000"] = round(1000.0 * r["articles"] / r["total"], 2) if r["total"] else None
    return found


async def entity_last_day(db: Any, entity_id: str) -> str | None:
    """The last day with an article naming the entity, else the last covered day."""
    found = await one(db, "select max(day) as d from entity_daily where entity_id = ? and articles > 0",
                      [entity_id])
    if found and found["d"]:
        return str(found["d"])
    found = await one(db, "select max(day) as d from coverage_daily")
    return str(found["d"]) if found and found["d"] else None


async def entity_articles(db: Any, entity_id: str, day: str | None = None,
                          limit: int = 15) -> list[dict[str, Any]]:
    """The newest articles naming the entity (on ``day`` if given) with the sentence naming it."""
    if day:
        mentions = await rows(db, """
            select m.article_id, min(m.start) as start, min(m."end") as "end"
            from articles a cross join mentions m
            where a.day = ? and +a.duplicate_of is null and m.article_id = a.id and m.entity_id = ?
            group by m.article_id order by m.article_id desc limit ?""", [day, entity_id, limit])
    else:
        # The entity's last days from entity_daily, then those days' articles: ids follow the
        # order articles were stored (replays, backfills), not their days.
        days = [r["day"] for r in await rows(db, """
            select day from entity_daily where entity_id = ? and articles > 0
            order by day desc limit 5""", [entity_id])]
        if not days:
            return []
        mentions = await rows(db, f"""
            select m.article_id, min(m.start) as start, min(m."end") as "end"
            from articles a cross join mentions m
            where a.day in ({_marks(len(days))}) and +a.duplicate_of is null
              and m.article_id = a.id and m.entity_id = ?
            group by m.article_id order by max(a.day) desc, m.article_id desc limit ?""",
            [*days, entity_id, limit])
    ids = [m["article_id"] for m in mentions]
    if not ids:
        return []
    found = {r["id"]: r for r in await rows(db, f"""
        select a.id, a.day, a.title, a.summary, a.content_text, a.url, a.canonical_url,
          a.duplicate_of, f.name as feed_name, f.title as feed_title
        from articles a left join feeds f on f.id = a.feed_id
        where a.id in ({_marks(len(ids))})""", ids)}
    out = []
    for m in mentions:
        a = found.get(m["article_id"])
        if a is None or a["duplicate_of"] is not None:
            continue
        text = article_text(a["title"], a["summary"], a["content_text"])
        a["sentence"] = sentence_around(text, m["start"], m["end"])
        a.pop("content_text")
        out.append(a)
        if len(out) >= limit:
            break
    return out


async def entity_narratives(db: Any, entity_id: str, end: str, days: int = 90) -> list[dict[str, Any]]:
    """The narratives whose member articles name the entity most over the last ``days`` days."""
    start = (date.fromisoformat(end) - timedelta(days=days - 1)).isoformat()
    return await rows(db, """
        with mine as (
          select narrative_id, sum(articles) as articles from narrative_entity_daily
          where entity_id = :e and day between :s and :end group by narrative_id
        )
        select mine.narrative_id, coalesce(n.label, mine.narrative_id) as label, mine.articles,
          round(100.0 * mine.articles / nullif((select sum(ni.articles) from narrative_index ni
            where ni.narrative_id = mine.narrative_id and ni.day between :s and :end), 0), 1) as pct
        from mine join narratives n on n.id = mine.narrative_id
        order by mine.articles desc""", {"e": entity_id, "s": start, "end": end})


# --------------------------------------------------------------------------- why it moved


async def week_row(db: Any, narrative_id: str, week: str) -> dict[str, Any] | None:
    """The narrative's narrative_weekly row for ``week``."""
    return await one(db, "select * from narrative_weekly where narrative_id = ? and week = ?",
                     [narrative_id, week])


async def member_texts(db: Any, narrative_id: str, start: str, end: str,
                       cap: int = 400) -> list[dict[str, Any]]:
    """Member articles of the period (id, title, summary, source, story), at most ~``cap``.

    Above ``cap`` members a deterministic sample (every k-th article id) is read, so the
    terms of a busy narrative cost the same as a quiet one's.
    """
    total = await one(db, "select coalesce(sum(articles), 0) as n from narrative_index "
                          "where narrative_id = ? and day between ? and ?", [narrative_id, start, end])
    k = max(1, math.ceil((total["n"] if total else 0) / cap))
    return await rows(db, """
        select a.id, a.day, a.title, a.summary, a.url, a.canonical_url, an.score,
          f.name as feed_name, f.title as feed_title, sa.cluster_id
        from articles a cross join article_narratives an
        left join feeds f on f.id = a.feed_id
        left join story_articles sa on sa.article_id = a.id
        where a.day between ? and ? and a.id % ? = 0 and an.article_id = a.id
          and an.narrative_id = ? and an.is_member = 1 and +a.duplicate_of is null""",
        [start, end, k, narrative_id])


async def clusters(db: Any, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Story clusters by id."""
    if not ids:
        return {}
    ids = list(ids)
    return {r["id"]: r for r in await rows(db, f"""
        select id, title, articles, copies, sources, first_day, last_day, representative_id
        from story_clusters where id in ({_marks(len(ids))})""", ids)}


async def week_entities(db: Any, narrative_id: str, start: str, end: str, ref_start: str,
                        limit: int = 12) -> list[dict[str, Any]]:
    """Entities of the week's member articles against their weekly average in the trailing weeks."""
    ref_weeks = max(1, (date.fromisoformat(start) - date.fromisoformat(ref_start)).days / 7)
    found = await rows(db, """
        select ned.entity_id, e.name,
          sum(case when ned.day >= :s then ned.articles else 0 end) as articles,
          sum(case when ned.day < :s then ned.articles else 0 end) as before
        from narrative_entity_daily ned join entities e on e.id = ned.entity_id
        where ned.narrative_id = :n and ned.day between :r and :e
        group by ned.entity_id""", {"s": start, "e": end, "r": ref_start, "n": narrative_id})
    for r in found:
        r["weekly_before"] = round(r["before"] / ref_weeks, 1)
        r["lift"] = math.log((r["articles"] + 0.5) / (r["weekly_before"] + 0.5))
    found = [r for r in found if r["articles"] > 0]
    found.sort(key=lambda r: (-(r["articles"] - r["weekly_before"]), -r["articles"]))
    return found[:limit]
