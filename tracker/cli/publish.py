"""Commands that publish: report, serve, alerts, export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli.app import (
    FiniteFloat,
    cli,
    get_settings,
    handle_errors,
)
from tracker.pipeline import (
    run_report,
)


@cli.command("report")
@click.option("--week", help="ISO week YYYY-Www (default: the last complete week).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the report files (default reports/, env TRACKER_REPORTS).")
@click.option("--pdf", is_flag=True, help="Also print the HTML to PDF with headless Chromium.")
@click.pass_context
@handle_errors
def report_command(ctx: click.Context, week: str | None, out_dir: Path | None, pdf: bool) -> None:
    """Write the week's narrative report as Markdown and self-contained HTML (optionally PDF)."""
    result = run_report(get_settings(ctx, report_dir=out_dir), week=week, pdf=pdf)
    for line in result.summary:
        click.echo(line)
    for path in result.paths:
        if path.suffix != ".svg":
            click.echo(f"wrote {path}")
    if result.chart_paths:
        click.echo(f"wrote {len(result.chart_paths)} charts to {result.chart_paths[0].parent}")


@cli.command("alerts")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Alerts YAML (feed_path, base_url, webhook_url, smtp_host, email_to, ...; "
                   "env TRACKER_ALERTS_CONFIG). TRACKER_ALERTS_* variables override it.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def alerts_command(ctx: click.Context, config_path: Path | None, wait: float, as_json: bool) -> None:
    """Turn new significant spikes into alerts: Atom file, optional webhook and email.

    Each spike is alerted once (recorded in the database); failed deliveries are recorded
    and retried on later runs, and never make the command fail.
    """
    from tracker.pipeline import run_alerts
    from tracker.report.deliver import load_alert_config

    summary = run_alerts(get_settings(ctx), load_alert_config(config_path), wait=wait)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    click.echo(f"New alerts: {len(summary.new)}.")
    for title in summary.new:
        click.echo(f"  {title}")
    if summary.feed_path:
        click.echo(f"wrote {summary.feed_path}")
    for channel in sorted(set(summary.sent) | set(summary.failed)):
        click.echo(f"{channel}: {summary.sent.get(channel, 0)} sent, "
                   f"{summary.failed.get(channel, 0)} failed")
    for err in summary.errors:
        click.echo(f"not delivered: {err}", err=True)


@cli.command("export")
@click.option("--what", type=click.Choice(["index", "articles", "entities"]), required=True,
              help="What to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="File format.")
@click.option("--wide", is_flag=True, help="Index only: one row per day, one column per narrative.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file, '-' for standard output (CSV only); default "
                   "reports/export-<what>[-wide].<format>.")
@click.option("--since", metavar="YYYY-MM-DD", help="First day to include.")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day to include.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, what: str, fmt: str, wide: bool, out: Path | None,
                   since: str | None, until: str | None) -> None:
    """Export the index, articles or entities as CSV or Parquet: every row, or an error."""
    from tracker.pipeline import run_export
    from tracker.report.export import check_options, default_path

    check_options(what, fmt, wide)
    settings = get_settings(ctx)
    to_stdout = out is not None and str(out) == "-"
    path = None if to_stdout else (out or default_path(settings.report_dir, what, fmt, wide))
    result = run_export(settings, what=what, fmt=fmt, out=path, wide=wide, since=since, until=until)
    if not to_stdout:
        click.echo(f"wrote {result.rows:,} rows x {result.columns} columns to {result.path}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 exposes the database to your network.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True,
              help="Port to listen on.")
@click.option("--no-sql", is_flag=True,
              help="Switch off arbitrary SQL; canned queries, tables and search still work.")
@click.option("--open", "open_browser", is_flag=True, help="Open the home page in a browser.")
@click.pass_context
@handle_errors
def serve_command(ctx: click.Context, host: str, port: int, no_sql: bool,
                  open_browser: bool) -> None:
    """Explore the database in Datasette (read-only): canned queries, search, index charts."""
    from tracker.serve.server import serve

    serve(get_settings(ctx), host=host, port=port, allow_sql=not no_sql,
          open_browser=open_browser, announce=lambda line: click.echo(line, err=True))
