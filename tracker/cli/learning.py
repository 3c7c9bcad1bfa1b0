"""Commands over single texts and labels: analyze, train, eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tracker.cli.app import (
    cli,
    get_settings,
    handle_errors,
)


@cli.command("analyze")
@click.argument("source", type=click.File("rb"), default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help="Print entities and claims as JSON.")
@click.pass_context
@handle_errors
def analyze_command(ctx: click.Context, source: Any, as_json: bool) -> None:
    """Analyse one text (a file, or stdin with - or no argument); no database needed."""
    from tracker.analyze import MAX_READ_BYTES, analyze_text, decode_input, format_analysis, limit_text

    name = str(getattr(source, "name", "-"))
    name = "stdin" if name in ("<stdin>", "-") else name
    if name == "stdin" and source.isatty():
        raise click.UsageError("Give a FILE to analyse, or pipe text in: echo '...' | tracker analyze -")
    raw = source.read(MAX_READ_BYTES + 1)
    total = None
    if len(raw) > MAX_READ_BYTES:  # only the head is analysed: count the rest, never hold it
        raw, total = raw[:MAX_READ_BYTES], len(raw)
        while chunk := source.read(1 << 20):
            total += len(chunk)
    text, warning = limit_text(decode_input(raw, name, cut=total is not None), total,
                               "bytes" if total is not None else "characters")
    if warning:
        click.secho(f"Warning: {warning}.", fg="yellow", err=True)
    result = analyze_text(text, get_settings(ctx))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(format_analysis(result))


@cli.command("train")
@click.option("--labels", "labels_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL or CSV: `text` (or `title`/`body`) and `labels` (narrative ids).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the head (default: models/heads/narratives.json).")
@click.option("--min-positives", type=click.IntRange(min=2), default=15, show_default=True,
              help="Narratives with fewer positive examples keep prototype+lexicon scoring.")
@click.option("--with-embedding/--no-embedding", default=True, show_default=True,
              help="Give the head the article's mean sentence embedding beside the features.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit summary as JSON.")
@click.pass_context
@handle_errors
def train_command(ctx: click.Context, labels_path: Path, out: Path | None, min_positives: int,
                  with_embedding: bool, as_json: bool) -> None:
    """Fit the narrative head on labelled texts (thresholds calibrated by cross-validation).

    After training, `tracker enrich` re-scores every article (the head's hash is
    part of the narratives stage version).
    """
    from tracker.learn.train import format_train_report, train_from_settings

    report = train_from_settings(labels_path, get_settings(ctx), out=out,
                                 min_positives=min_positives, with_embedding=with_embedding,
                                 progress=not as_json)
    if as_json:
        click.echo(json.dumps({"path": str(report.path), "version": report.head.version,
                               "narratives": {k: v.to_dict() for k, v in report.fits.items()}},
                              indent=2))
    else:
        click.echo(format_train_report(report))


@cli.command("eval")
@click.option("--labels", "labels_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL or CSV: `text` (or `title`/`body`) and `labels` (narrative ids).")
@click.option("--no-head", is_flag=True, help="Ignore the trained head: prototype+lexicon only.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report (with the first misclassified items) as JSON.")
@click.pass_context
@handle_errors
def eval_command(ctx: click.Context, labels_path: Path, no_head: bool, as_json: bool) -> None:
    """Precision, recall and F1 per narrative on a labelled file."""
    from tracker.learn.evaluate import evaluate_labels, format_report

    report = evaluate_labels(labels_path, get_settings(ctx), use_head=not no_head,
                             progress=not as_json)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))
