"""The HTML report in headless Chromium: it renders, charts included, and nothing runs."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from tests.report.test_report import SCRIPT_TITLE, build_store
from tracker.base.db import open_db
from tracker.base.settings import load_settings
from tracker.report.write import ReportResult, write_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1400, 2000)
#: A phone: the narrow charts replace the wide ones.
PHONE = (400, 2000)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: scripts/test.sh installs it (apt-get install chromium)")
    return CHROMIUM


def _run(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=False)
    cmd = [
        str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _screenshot(chromium: Path, tmp: Path, page: Path, png: Path,
                window: tuple[int, int] = WINDOW) -> bytes:
    _run(chromium, tmp / f"profile-{png.stem}", f"--screenshot={png}",
         f"--window-size={window[0]},{window[1]}", page.resolve().as_uri())
    assert png.is_file(), f"Chromium wrote no screenshot for {page}"
    return png.read_bytes()


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture
def report(tmp_path: Path) -> ReportResult:
    db = open_db(tmp_path / "tracker.db")
    try:
        build_store(db.conn)
        return write_report(db, load_settings(env={}), week="2026-W47", out_dir=tmp_path / "out")
    finally:
        db.conn.close()


def test_html_report_renders_and_is_screenshotted(
    chromium: Path, report: ReportResult, tmp_path: Path
) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    baseline = _screenshot(chromium, tmp_path, blank, tmp_path / "blank.png")
    shot_path = tmp_path / "report-2026-W47.png"
    shot = _screenshot(chromium, tmp_path, report.html_path, shot_path)
    print(f"screenshot saved to {shot_path}")
    assert _png_size(shot) == WINDOW
    # A rendered page of text, tables and charts compresses far worse than an empty one.
    assert len(shot) > 5 * len(baseline), (len(shot), len(baseline))

    dom = _run(chromium, tmp_path / "profile-dom", "--dump-dom", report.html_path.resolve().as_uri())
    html = dom.stdout
    assert html.count("<svg ") == 6, "one inline chart per narrative, wide and narrow"
    assert html.count("role-mark spikes_marks") == 6 and "Day (UTC)" in html
    phone_path = tmp_path / "report-2026-W47-phone.png"
    phone = _screenshot(chromium, tmp_path, report.html_path, phone_path, PHONE)
    print(f"phone screenshot saved to {phone_path}")
    assert _png_size(phone) == PHONE
    assert "<script" not in html.lower()
    # The hostile title reached the DOM as text, not as markup.
    escaped = SCRIPT_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in html


def test_pdf_is_printed(chromium: Path, tmp_path: Path) -> None:
    db = open_db(tmp_path / "tracker.db")
    try:
        build_store(db.conn)
        res = write_report(db, load_settings(env={}), week="2026-W47", out_dir=tmp_path, pdf=True)
    finally:
        db.conn.close()
    assert res.pdf_path == tmp_path / "report-2026-W47.pdf"
    pdf = res.pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    # Several pages, each numbered by the @page footer (Chromium prints CSS margin boxes).
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    html = res.html_path.read_text(encoding="utf-8")
    assert '@bottom-center { content: "Narrative report 2026-W47' in html and "counter(pages)" in html
    assert "h1, h2, h3, h4 { break-after: avoid" in html
