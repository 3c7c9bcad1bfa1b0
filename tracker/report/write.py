"""Write a week's report files atomically (Markdown, HTML, SVG charts, optional PDF)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlite_utils

from tracker.base.settings import Settings
from tracker.report.charts import to_svg
from tracker.report.data import ReportOptions
from tracker.report.gather import gather_report
from tracker.report.lead import summary_lines
from tracker.report.render import (
    chart_slug,
    queries_name,
    render_charts,
    render_html,
    render_markdown,
    render_queries,
)
from tracker.report.weeks import ReportError, default_week, parse_week

log = logging.getLogger(__name__)



# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote, with the headline summary."""

    week: str
    has_data: bool
    markdown_path: Path
    html_path: Path
    chart_paths: tuple[Path, ...]
    pdf_path: Path | None
    summary: tuple[str, ...]
    query_paths: tuple[Path, ...] = ()

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        extra = [self.pdf_path] if self.pdf_path else []
        return [self.markdown_path, self.html_path, *self.query_paths, *self.chart_paths, *extra]


def _write_text(path: Path, text: str) -> None:
    """Write via a temporary file so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser for PDF printing, or None."""
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path, *, browser: str | None = None) -> Path:
    """Print the HTML report to PDF with headless Chromium."""
    browser = browser or find_browser()
    if browser is None:
        raise ReportError(
            f"Cannot write a PDF: no Chromium browser found on PATH (tried {', '.join(_BROWSERS)}). "
            f"Install one (Debian: apt-get install chromium) or drop --pdf; the Markdown and "
            f"HTML reports were written to {html_path.parent}."
        )
    with tempfile.TemporaryDirectory(prefix="tracker-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(
                f"Cannot write a PDF: running {browser} failed ({exc}). Check the browser "
                "works headless, or drop --pdf."
            ) from exc
    if not pdf_path.is_file() or pdf_path.read_bytes()[:5] != b"%PDF-":
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise ReportError(
            f"Cannot write a PDF: {browser} exited with status {proc.returncode} and wrote no "
            f"PDF ({tail or 'no output'}). Check the browser works headless, or drop --pdf."
        )
    return pdf_path


def write_report(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    week: str | None,
    out_dir: Path,
    pdf: bool = False,
    today: date | None = None,
    options: ReportOptions | None = None,
) -> ReportResult:
    """Write the week's report as Markdown (+ SVG charts beside it) and HTML, optionally PDF."""
    wk = parse_week(week) if week else default_week(today)
    data = gather_report(db.conn, wk, options=options, today=today, models_dir=settings.models_dir)
    charts = render_charts(data)
    stem = f"report-{wk.label}"
    chart_dir = out_dir / f"{stem}-charts"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # The chart folder belongs to this report: clear old charts of removed narratives.
        if chart_dir.is_dir():
            for old in chart_dir.glob("*.svg"):
                old.unlink()
        chart_paths: list[Path] = []
        links: dict[str, str] = {}
        if charts:
            chart_dir.mkdir(exist_ok=True)
        for nid, chart in charts.items():
            path = chart_dir / f"{chart_slug(nid)}.svg"
            _write_text(path, chart.svg + "\n")
            chart_paths.append(path)
            links[nid] = f"{chart_dir.name}/{path.name}"
        # Drawn once: written beside the report and inlined in its HTML.
        dynamics_svg = to_svg(data.dynamics_chart) if data.dynamics_chart else ""
        if dynamics_svg:
            chart_dir.mkdir(exist_ok=True)
            path = chart_dir / "dynamics-lags.svg"
            _write_text(path, dynamics_svg + "\n")
            chart_paths.append(path)
            links["dynamics"] = f"{chart_dir.name}/{path.name}"
        md_path = out_dir / f"{stem}.md"
        html_path = out_dir / f"{stem}.html"
        _write_text(md_path, render_markdown(data, links))
        _write_text(html_path, render_html(data, charts, dynamics_svg=dynamics_svg))
        query_paths = (out_dir / queries_name(data, "md"), out_dir / queries_name(data, "html"))
        _write_text(query_paths[0], render_queries(data, markdown=True))
        _write_text(query_paths[1], render_queries(data, markdown=False))
    except OSError as exc:
        raise ReportError(
            f"Cannot write the report to {out_dir}: {exc}. Choose a writable directory with --out "
            "(or TRACKER_REPORTS)."
        ) from exc
    pdf_path = print_pdf(html_path, out_dir / f"{stem}.pdf") if pdf else None
    log.info("report %s written to %s", wk.label, out_dir)
    return ReportResult(
        week=wk.label,
        has_data=data.has_data,
        markdown_path=md_path,
        html_path=html_path,
        chart_paths=tuple(chart_paths),
        pdf_path=pdf_path,
        summary=tuple(summary_lines(data)),
        query_paths=query_paths,
    )
