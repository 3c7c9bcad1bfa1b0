"""Normalisation: canonical URLs, dates, HTML to text, title keys (examples and properties)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.ingest.normalize import (
    canonical_url,
    content_hash,
    html_to_text,
    normalize_date,
    title_key,
    unwrap_archive_url,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_canonical_url_strips_tracking_fragment_and_default_port() -> None:
    url = "HTTPS://WWW.Example.com:443/news//story?utm_source=rss&b=2&fbclid=x&a=1#comments"
    assert canonical_url(url) == "https://www.example.com/news/story?a=1&b=2"


def test_canonical_url_unwraps_archive_links() -> None:
    wrapped = "https://archive.is/newest/https://www.ft.com/content/583a30e1?segmentId=1"
    assert unwrap_archive_url(wrapped) == "https://www.ft.com/content/583a30e1?segmentId=1"
    assert canonical_url(wrapped) == "https://www.ft.com/content/583a30e1"
    wayback = "https://web.archive.org/web/20250101000000/https://example.com/a?utm_medium=x"
    assert canonical_url(wayback) == "https://example.com/a"


def test_canonical_url_leaves_non_web_and_empty_alone() -> None:
    assert canonical_url(None) is None
    assert canonical_url("  ") is None
    assert canonical_url("mailto:desk@example.com") == "mailto:desk@example.com"
    assert canonical_url("http://[::1") == "http://[::1"  # invalid, returned as given, no crash


@given(st.text(max_size=200))
def test_canonical_url_never_raises_and_is_idempotent(raw: str) -> None:
    once = canonical_url(raw)
    assert canonical_url(once) == once


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z]{1,10}\.(com|org|co\.uk)", fullmatch=True),
    st.lists(st.from_regex(r"[A-Za-z0-9_\-~%]{0,8}", fullmatch=True), max_size=4),
    st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(max_size=8), max_size=4),
)
def test_canonical_url_properties(scheme: str, host: str, path: list[str], query: dict[str, str]) -> None:
    from urllib.parse import urlencode

    url = f"{scheme}://{host.upper()}/{'/'.join(path)}?{urlencode(query)}#frag"
    canon = canonical_url(url)
    assert canon is not None
    assert canonical_url(canon) == canon
    assert "#" not in canon and "utm_" not in canon
    assert canon.startswith(f"{scheme}://{host}/")


def test_dates_are_utc_and_absurd_ones_are_flagged() -> None:
    assert normalize_date(None, NOW) == (None, "missing")
    assert normalize_date(datetime(1970, 1, 1, tzinfo=UTC), NOW) == (None, "absurd_past")
    assert normalize_date(NOW + timedelta(days=30), NOW) == (None, "future")
    eastern = datetime(2026, 11, 2, 5, 0, tzinfo=UTC).astimezone(UTC)
    assert normalize_date(eastern, NOW) == (eastern, None)
    naive = datetime(2026, 11, 2, 5, 0)
    assert normalize_date(naive, NOW)[0] == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_normalized_dates_are_never_absurd(value: datetime) -> None:
    trusted, flag = normalize_date(value, NOW)
    if trusted is None:
        assert flag in ("absurd_past", "future")
    else:
        assert flag is None
        assert datetime(1995, 1, 1, tzinfo=UTC) <= trusted <= NOW + timedelta(days=1)
        assert trusted.utcoffset() == timedelta(0)


def test_html_to_text_drops_markup_scripts_and_keeps_paragraphs() -> None:
    html = "<p>Rates &amp; <b>bonds</b></p><script>alert(1)</script><style>p{}</style><p>Second&nbsp;para</p>"
    assert html_to_text(html) == "Rates & bonds\n\nSecond para"
    assert html_to_text(None) == ""
    assert html_to_text("plain   text\x00 with\tcontrols") == "plain text with controls"


@given(st.text(max_size=300))
def test_html_to_text_never_raises(raw: str) -> None:
    out = html_to_text(raw)
    assert "<script" not in out.lower() or "<script" in raw.lower()


def test_title_key_ignores_case_punctuation_accents_and_outlet_suffix() -> None:
    assert title_key("Fed Cuts Rates, Again! - Reuters") == title_key("fed cuts rates again")
    assert title_key("Café owners cheer") == "cafe owners cheer"
    # Only known outlet names are stripped: a real clause after a dash stays.
    assert title_key("Markets wrap - Fed holds steady") == "markets wrap fed holds steady"
    assert title_key("") is None


@given(st.text(max_size=80), st.text(max_size=200))
def test_content_hash_is_stable_under_case_and_whitespace(title: str, body: str) -> None:
    assert content_hash(title, body) == content_hash(title.casefold(), "  ".join(body.casefold().split()))
    assert content_hash("Fed Cuts Rates", "Markets  RALLY") == content_hash("fed cuts rates", "markets rally")


@pytest.mark.parametrize(("url", "article"), [
    ("https://www.ft.com/content/3260bc45-e09e-45a7-ae30-e55effbaf29b", True),
    ("https://techcrunch.com/2026/02/09/workday-ceo-departs", True),
    ("https://www.wsj.com/economy/trade/g7-summit-canada-99dcb635", True),
    ("https://techcrunch.com/video/anthropics-pentagon-deal-is-a-cautionary-tale", True),
    ("https://news.example/story?id=7", True),
    ("https://www.coindesk.com/", False),
    ("https://agency.example/newsroom", False),
    ("https://www.sec.gov/news/pressreleases", False),
    ("https://www.economist.com/finance-and-economics", False),
    ("https://agency.example/news/index.html", False),
    (None, False),
])
def test_article_urls_are_told_from_shared_pages(url: str | None, article: bool) -> None:
    from tracker.ingest.normalize import identifies_article

    assert identifies_article(url) is article
