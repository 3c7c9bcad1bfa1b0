"""End to end in Chromium: from the home chart, a click on a spike opens that day's articles.

`tracker serve` runs on a loopback port over the pages fixture (test_serve_pages.py);
Chromium (Debian's, /usr/bin/chromium) is driven over the DevTools pipe (tests/serve/cdp.py)
so the click is a real mouse click on the drawn SVG point. Screenshots of the home,
narrative, entity and day pages are saved at 1400 and 400 px wide (to the test's folder,
and to $TRACKER_SCREENSHOTS when set) and the pages must not scroll sideways at 400 px.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.cdp import Browser
from tests.serve.live import live_serve
from tests.serve.test_browser_serve import CHROMIUM
from tests.serve.test_serve_pages import SPIKE_ARTICLES, SPIKE_DAY, make_pages_db

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
]

PAGES = {
    "home": "/",
    "narrative": "/-/narrative/rates",
    "entity": "/-/entity/fed",
    "day": f"/-/day/rates/{SPIKE_DAY}",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tracker serve` on the pages fixture; yields its base URL."""
    path = tmp_path_factory.mktemp("browser-pages") / "tracker.db"
    make_pages_db(path)
    with live_serve(path) as url:
        yield url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Chromium at 1400 px with a fresh profile."""
    profile = tmp_path / "profile"
    profile.mkdir()
    b = Browser(CHROMIUM, profile, width=1400)
    try:
        yield b
    finally:
        b.close()


def _drawn(element_id: str) -> str:
    return f"!!document.querySelector('#{element_id}[data-drawn=\"1\"] svg')"


def test_a_click_on_a_spike_opens_that_days_articles_with_evidence(server: str,
                                                                    browser: Browser) -> None:
    browser.goto(server + "/")
    browser.wait_for(_drawn("tracker-index-chart"))
    # The ringed spike: the one symbol of the "spikes" layer, where the user sees it.
    box = browser.wait_for(
        "(() => { const m = document.querySelector('#tracker-index-chart .spikes_marks path');"
        " if (!m) return null; const r = m.getBoundingClientRect();"
        " return {x: r.x + r.width / 2, y: r.y + r.height / 2 + window.scrollY, w: r.width}; })()")
    assert box["w"] > 0
    browser.evaluate(f"window.scrollTo(0, {box['y']} - 300)")
    scroll = browser.evaluate("window.scrollY")
    browser.click(box["x"], box["y"] - scroll)
    browser.wait_for(f"location.pathname === '/-/day/rates/{SPIKE_DAY}' && document.readyState === 'complete'")
    html = browser.evaluate("document.body.innerHTML")
    assert "tracker-evidence" in html
    for _, _, title, sentence, _, _ in SPIKE_ARTICLES[:3]:
        assert title in html and sentence in html


@pytest.mark.parametrize("width", [1400, 400])
def test_screenshots_of_the_pages(server: str, tmp_path: Path, width: int) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    keep = Path(os.environ["TRACKER_SCREENSHOTS"]) if os.environ.get("TRACKER_SCREENSHOTS") else None
    b = Browser(CHROMIUM, profile, width=width, height=900)
    try:
        for name, path in PAGES.items():
            b.goto(server + path)
            for chart in ("tracker-index-chart", "tracker-narrative-chart", "tracker-entity-chart"):
                if b.evaluate(f"!!document.getElementById('{chart}')"):
                    b.wait_for(_drawn(chart))
            # Usable at 400 px: nothing wider than the window, so no sideways scrolling.
            overflow = b.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width + 1, f"{name} at {width} px is {overflow} px wide"
            shot = b.screenshot(tmp_path / f"{name}-{width}.png")
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, keep / shot.name)
            print(f"screenshot saved to {shot}")
    finally:
        b.close()


def test_canned_query_forms_offer_pick_lists(server: str, browser: Browser) -> None:
    browser.goto(server + "/tracker/narrative_articles")
    labels = browser.wait_for(
        "(() => { const s = document.querySelector('form select[name=narrative]');"
        " return s && Array.from(s.options).map(o => o.textContent); })()")
    assert labels == ["(all or default)", "AI capex boom", "Gold rush", "Rate cuts"]
    assert browser.evaluate("document.querySelector('form input[name=day]').type") == "date"
    # Pick "Rate cuts" and the spike day as a user would, and run the query.
    browser.evaluate("document.querySelector('form select[name=narrative]').value = 'rates';"
                     f"document.querySelector('form input[name=day]').value = '{SPIKE_DAY}';"
                     "document.querySelector('form input[type=submit]').click()")
    browser.wait_for("location.search.includes('narrative=rates') && document.readyState === 'complete'")
    html = browser.evaluate("document.body.innerHTML")
    assert SPIKE_ARTICLES[0][2] in html and "tracker-evidence" in html
    browser.goto(server + "/tracker/entity_timeline")
    options = browser.wait_for("document.querySelectorAll('#tracker-entity-list option').length")
    assert options == 3  # every entity named in the last 90 days
