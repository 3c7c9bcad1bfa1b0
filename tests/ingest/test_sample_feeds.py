"""The bundled offline sample feeds and the default feeds.yaml are valid and exercise the ingest."""

from __future__ import annotations

import calendar
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

from tests.paths import REPO
from tracker.ingest.feeds import load_feeds_config

SAMPLE_DIR = REPO / "tracker" / "sample_feeds"
SAMPLE_YAML = SAMPLE_DIR / "feeds.yaml"
ROOT_YAML = REPO / "feeds.yaml"
FIRST_DAY, LAST_DAY = date(2026, 11, 2), date(2026, 11, 22)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]


def _sample_entries() -> list[dict[str, Any]]:
    return yaml.safe_load(SAMPLE_YAML.read_text(encoding="utf-8"))["feeds"]


def _parse(path: Path) -> Any:
    return feedparser.parse(path.read_bytes())


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    """Every sample feed parsed once, by feed name."""
    return {e["name"]: _parse(SAMPLE_DIR / e["url"]) for e in _sample_entries()}


def _utc_day(entry: Any) -> date | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC).date()


def _identity(entry: Any) -> str:
    return str(entry.get("id") or entry.get("link"))


def test_sample_yaml_urls_are_existing_local_files() -> None:
    entries = _sample_entries()
    assert len(entries) == 5
    for entry in entries:
        url = entry["url"]
        assert not urlsplit(url).scheme, f"{entry['name']}: sample feeds must be relative paths"
        assert (SAMPLE_DIR / url).is_file(), f"{entry['name']}: {url} does not exist"


def test_sample_yaml_loads_through_the_project_loader() -> None:
    feeds = load_feeds_config(SAMPLE_YAML)
    assert [f.name for f in feeds] == [e["name"] for e in _sample_entries()]
    for feed in feeds:
        assert feed.url.startswith("file://")
        assert Path(urlsplit(feed.url).path).is_file()


def test_every_sample_feed_parses_without_bozo(parsed: dict[str, Any]) -> None:
    for name, result in parsed.items():
        assert result.bozo == 0, f"{name}: {result.get('bozo_exception')}"
        assert result.entries, f"{name}: no entries"
    versions = {result.version for result in parsed.values()}
    assert "atom10" in versions and "rss20" in versions


def test_at_least_three_items_per_feed_on_most_days(parsed: dict[str, Any]) -> None:
    for name, result in parsed.items():
        per_day: dict[date, set[str]] = defaultdict(set)
        for entry in result.entries:
            day = _utc_day(entry)
            if day is not None:
                per_day[day].add(_identity(entry))
        assert min(per_day) >= FIRST_DAY and max(per_day) <= LAST_DAY, name
        full_days = sum(1 for d in DAYS if len(per_day.get(d, ())) >= 3)
        assert full_days >= len(DAYS) - 2, f"{name}: only {full_days}/{len(DAYS)} days with 3+ items"
    total = sum(len(r.entries) for r in parsed.values())
    assert total >= 300


def test_identities_are_unique_within_each_feed(parsed: dict[str, Any]) -> None:
    for name, result in parsed.items():
        ids = Counter(_identity(e) for e in result.entries)
        assert max(ids.values()) == 1, f"{name}: repeated ids {[k for k, v in ids.items() if v > 1]}"


def test_republished_story_has_new_guid_and_same_title(parsed: dict[str, Any]) -> None:
    repeats = [
        (name, title)
        for name, result in parsed.items()
        for title, n in Counter(e.title for e in result.entries).items()
        if n > 1
    ]
    assert len(repeats) == 1, repeats
    name, title = repeats[0]
    copies = [e for e in parsed[name].entries if e.title == title]
    first, second = sorted(copies, key=lambda e: calendar.timegm(e.published_parsed))
    assert first.id != second.id and first.link != second.link
    gap = calendar.timegm(second.published_parsed) - calendar.timegm(first.published_parsed)
    assert 12 * 3600 <= gap <= 48 * 3600


def test_same_wire_story_appears_in_two_outlets(parsed: dict[str, Any]) -> None:
    titles = {name: {e.title for e in r.entries} for name, r in parsed.items()}
    shared = titles["markets_wire"] & titles["harbourside_times"]
    assert any(t.startswith("Fed minutes") for t in shared)


def test_feature_coverage(parsed: dict[str, Any]) -> None:
    entries = {name: r.entries for name, r in parsed.items()}
    # One feed has no guids at all: the link is the identity.
    assert all("id" not in e for e in entries["circuit_ledger"])
    # One feed uses permalink guids only.
    assert all(e.id == e.link for e in entries["harbourside_times"])
    assert all("content" in e for e in entries["harbourside_times"])
    # Exactly one item without any date.
    undated = [e for es in entries.values() for e in es if _utc_day(e) is None]
    assert len(undated) == 1
    # The script-like title survives parsing as text, so later output must escape it.
    assert any("<script>alert(1)</script>" in e.title for e in entries["circuit_ledger"])
    links = [e.link for es in entries.values() for e in es]
    assert sum("utm_source=rss" in link for link in links) >= 100
    assert all(e.get("author") for es in entries.values() for e in es)
    raw = (SAMPLE_DIR / "markets_wire.xml").read_text(encoding="ascii")
    assert "&#8217;" in raw and "&amp;utm_medium" in raw


def test_narratives_have_their_intended_shape() -> None:
    """W47 carries the crypto spike and W46 the rise in AI coverage, per the author's labels."""
    import csv

    with (SAMPLE_DIR / "intended_labels.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["published_utc"]]
    week_all: Counter[int] = Counter()
    week_label: dict[str, Counter[int]] = defaultdict(Counter)
    for row in rows:
        week = date.fromisoformat(row["published_utc"][:10]).isocalendar().week
        week_all[week] += 1
        for label in row["written_for"].split("+"):
            week_label[label][week] += 1

    def share(label: str, week: int) -> float:
        return week_label[label][week] / week_all[week]

    assert share("crypto", 47) > 1.5 * share("crypto", 45)
    assert share("ai", 46) > 1.5 * share("ai", 45)
    unrelated = sum(week_label["none"].values()) / len(rows)
    assert 0.3 <= unrelated <= 0.5


def test_root_feeds_yaml_names_unique_and_urls_http() -> None:
    data = yaml.safe_load(ROOT_YAML.read_text(encoding="utf-8"))
    names = [f["name"] for f in data["feeds"]]
    assert len(names) == len(set(names))
    assert len(names) >= 40
    for feed in data["feeds"]:
        assert urlsplit(feed["url"]).scheme in ("http", "https"), feed["name"]
        assert urlsplit(feed["url"]).netloc, feed["name"]
    tags = {t for f in data["feeds"] for t in f.get("tags", [])}
    assert {"crypto", "ai", "tech", "central_bank", "regulator", "markets", "search"} <= tags
    feeds = load_feeds_config(ROOT_YAML)
    assert len(feeds) == len(names)
    # Every entry says whether its pages may be fetched (explicitly or through defaults).
    assert "fulltext" in data["defaults"] or all("fulltext" in f for f in data["feeds"])
    allowed = {f.name for f in feeds if f.fulltext}
    assert {"fed_press_all", "fed_speeches", "ecb_press", "boe_news", "boj_whatsnew", "sec_press",
            "cftc_press", "coindesk", "cointelegraph", "techcrunch_ai"} <= allowed
    # Paywalled publishers and search/aggregator feeds stay headline-only.
    assert not {"wsj_markets", "ft_home", "nyt_economy", "economist_finance", "gnews_stablecoins"} & allowed


def test_sample_titles_are_not_copied_from_the_shared_corpus(shared_data: Path) -> None:
    """The sample is original writing: no title matches a real headline in ../shared/data."""
    real: set[str] = set()
    for path in [*shared_data.glob("orx365-rss-arch/*.items.jsonl"),
                 *shared_data.glob("reuters-wl/*.items.jsonl")]:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                title = json.loads(line).get("title")
                if title:
                    real.add(title.strip().lower())
    assert real, "no shared titles loaded"
    ours = {e.title.strip().lower() for p in SAMPLE_DIR.glob("*.xml") for e in _parse(p).entries}
    assert not ours & real
