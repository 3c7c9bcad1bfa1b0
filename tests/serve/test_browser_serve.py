"""End to end: `tracker serve` on a loopback port, driven by headless Chromium.

Chromium is Debian's (scripts/test.sh installs it as root); the test is skipped only
when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve.live import live_serve
from tests.serve.test_serve import make_tracker_db

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install "
                       "chromium, or run scripts/test.sh as root)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tracker serve --no-sql` on the fixture database; yields its base URL."""
    path = tmp_path_factory.mktemp("browser") / "tracker.db"
    make_tracker_db(path)
    with live_serve(path, "--no-sql") as url:
        yield url


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile and no network beyond the page asked for."""
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    profile.mkdir()
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


def dom(tmp_path: Path, url: str) -> str:
    # The virtual-time budget lets the deferred scripts draw the charts before the dump.
    result = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(tmp_path: Path, url: str, name: str, width: int = 1400) -> Path:
    shot = tmp_path / name
    result = chromium(tmp_path, "--virtual-time-budget=10000", f"--screenshot={shot}",
                      f"--window-size={width},1000", url)
    assert shot.is_file(), result.stderr[-2000:]
    return shot


def test_home_page_shows_the_index_chart(server: str, tmp_path: Path) -> None:
    page = dom(tmp_path, server + "/")
    assert "<h1>Narrative Tracker</h1>" in page
    # Drawn by the vendored Vega-Embed: one line per narrative, in SVG, no network.
    assert 'id="tracker-index-chart"' in page and 'data-drawn="1"' in page
    chart = page[page.index('id="tracker-index-chart"'):]
    assert chart.count('aria-roledescription="line mark"') == 3
    for width in (1400, 400):
        shot = screenshot(tmp_path, server + "/", f"home-{width}.png", width)
        print(f"screenshot saved to {shot}")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_canned_query_page_shows_rows_and_chart(server: str, tmp_path: Path) -> None:
    url = server + "/tracker/narrative_index_range?narrative=rates&start=&end="
    page = dom(tmp_path, url)
    assert "Narrative index over a date range" in page
    assert 'id="tracker-index-chart"' in page and 'data-drawn="1"' in page
    assert "role-mark spikes_marks" in page  # the spike, ringed
    assert page.count('<td class="col-narrative_id') == 21  # 21 fixture days
    for width in (1400, 400):
        shot = screenshot(tmp_path, url, f"narrative_index_range-{width}.png", width)
        print(f"screenshot saved to {shot}")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_served_read_only_without_sql(server: str) -> None:
    assert httpx.get(server + "/tracker.json", params={"sql": "select 1"}).status_code == 403
    assert httpx.post(server + "/tracker/top_movers", data={}).status_code >= 400
    movers = httpx.get(server + "/tracker/top_movers.json", params={"_shape": "array"}).json()
    assert movers[0]["narrative_id"] == "rates"
