"""Commands that measure: index, validate, dynamics, discover, stories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tracker.base.db import database_kind
from tracker.cli.app import (
    FiniteFloat,
    _note_new_database,
    cli,
    get_settings,
    handle_errors,
    plural,
)
from tracker.pipeline import (
    run_index,
)


@cli.command("index")
@click.option("--since", metavar="YYYY-MM-DD",
              help="Recount articles only from this UTC day on (late articles); default: all.")
@click.option("--min-articles", type=click.IntRange(min=1),
              help="Scored articles a day needs (all sources) to be covered (default 10).")
@click.option("--min-expected", type=FiniteFloat(min=0),
              help="Expected member articles an index value needs (default 5).")
@click.option("--base-start", metavar="YYYY-MM-DD",
              help="First day of the base window (the index averages 100 over it); default: first day.")
@click.option("--base-end", metavar="YYYY-MM-DD", help="Last day of the base window; default: last day.")
@click.option("--prior-days", type=click.IntRange(min=1),
              help="Trailing days the daily estimate is shrunk toward (default 28).")
@click.option("--prior-strength", metavar="N|auto",
              help="Prior strength in pseudo member articles (default auto: estimated from the data).")
@click.option("--source-prior", type=FiniteFloat(min=0),
              help="Pseudo articles pulling a thin source's rate toward the pooled rate (default 50).")
@click.option("--interval", type=FiniteFloat(min=0, max=1),
              help="Central probability of the stored interval (default 0.9).")
@click.option("--smooth-days", type=click.IntRange(min=1), help="Days of the smoothed index (default 7).")
@click.option("--spike-p", type=FiniteFloat(min=0, max=1),
              help="One-sided p-value of the day's count a spike needs at most (default 0.001).")
@click.option("--spike-min-articles", type=click.IntRange(min=1), help="Member articles a spike needs (default 5).")
@click.option("--spike-min-sources", type=click.IntRange(min=1),
              help="Sources a spike's members come from (default 2).")
@click.option("--mover-p", type=FiniteFloat(min=0, max=1), help="Two-sided p-value of a weekly mover (default 0.01).")
@click.option("--mover-min-articles", type=click.IntRange(min=1),
              help="Member articles over the two weeks a mover needs (default 10).")
@click.option("--stance-min-articles", type=click.IntRange(min=1),
              help="Members with a known stance a net stance needs (default 3).")
@click.option("--reset-params", is_flag=True,
              help="Forget the parameters stored in the database (back to defaults, env and options).")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def index_command(ctx: click.Context, since: str | None, reset_params: bool, wait: float,
                  as_json: bool, **options: Any) -> None:
    """Recompute the daily narrative index (count model with source fixed effects; see README).

    Parameters given here (or via TRACKER_INDEX_* variables) are stored in the database
    and reused by later builds, including `tracker run`, until changed.
    """
    from dataclasses import asdict

    settings = get_settings(ctx, **{f"index_{k}": v for k, v in options.items()})
    kind = database_kind(settings.db_path)
    summary = run_index(settings, since=since, wait=wait, reset_params=reset_params)
    if as_json:
        figures = asdict(summary)
        _note_new_database(settings, kind, figures)
        click.echo(json.dumps(figures, indent=2))
        return
    _note_new_database(settings, kind)
    if not summary.rows:
        click.echo(f"No index rows: no day has {summary.params['min_articles']} or more scored "
                   "articles. Ingest and enrich more, or lower --min-articles.")
        return
    click.echo(f"Indexed {summary.narratives} narratives over {summary.days} days "
               f"({summary.first_day}..{summary.last_day}): {summary.rows} rows, "
               f"{plural(summary.missing_days, 'uncovered day')}, {plural(summary.spikes, 'spike')}"
               + ("" if summary.full else f", recounted from {summary.since}") + ".")
    unscored = summary.articles - summary.scored_articles
    if unscored:
        click.echo(f"Note: {unscored} of {summary.articles} articles have no narrative scores yet "
                   "and are left out; run `tracker enrich` to include them.")


@cli.command("validate")
@click.option("--events", "events_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Event calendar YAML (default: models/events.yaml, the shipped calendar).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the Markdown summary (default reports/, env TRACKER_REPORTS).")
@click.option("--null-days", type=click.IntRange(min=20), default=500, show_default=True,
              help="Random days in each narrative's null distribution.")
@click.option("--seed", type=int, default=20250101, show_default=True, help="Seed of the null draws.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@click.pass_context
@handle_errors
def validate_command(ctx: click.Context, events_path: Path | None, out_dir: Path | None,
                     null_days: int, seed: int, as_json: bool) -> None:
    """Check the index against dated real events (event study with placebos) and list every spike.

    Writes validation-<last day>.md; see README, "Validating the index".
    """
    from tracker.index.validate import summary_lines
    from tracker.pipeline import run_validate

    result, path = run_validate(get_settings(ctx, report_dir=out_dir), events_path=events_path,
                                null_days=null_days, seed=seed)
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "summary_path": str(path)}, indent=1,
                              default=str))
        return
    for line in summary_lines(result.study.rates):
        click.echo(line)
    click.echo(plural(len(result.spikes), "spike")
               + f" listed with their headlines. Wrote {path}")


@cli.command("dynamics")
@click.option("--narratives", help="Comma-separated narrative ids or labels (default: every indexed one).")
@click.option("--since", help="First day of the series (YYYY-MM-DD; default: the whole index).")
@click.option("--max-lag", type=click.IntRange(min=1, max=60), default=14, show_default=True,
              help="Largest daily lag tried (weekly: --max-lag-weeks).")
@click.option("--max-lag-weeks", type=click.IntRange(min=1, max=12), default=4, show_default=True,
              help="Largest weekly lag tried.")
@click.option("--ic", type=click.Choice(["aic", "bic", "hqic"]), default="aic", show_default=True,
              help="Information criterion choosing the lag order.")
@click.option("--alpha", type=FiniteFloat(min=0.0001, max=0.5), default=0.05, show_default=True,
              help="Level of the corrected p-value a lead needs.")
@click.option("--correction", type=click.Choice(["holm", "fdr_bh"]), default="holm", show_default=True,
              help="Correction over the ordered pairs (Holm, or Benjamini-Hochberg).")
@click.option("--seed", type=int, default=20250101, show_default=True, help="Seed of the placebo shuffle.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts and virality as JSON.")
@click.pass_context
@handle_errors
def dynamics_command(ctx: click.Context, narratives: str | None, since: str | None, max_lag: int,
                     max_lag_weeks: int, ic: str, alpha: float, correction: str, seed: int, wait: float,
                     as_json: bool) -> None:
    """Does one story lead another? Granger tests, cross-correlations, robustness and virality.

    Stores every row in the narrative_dynamics table; see README, "Narrative dynamics".
    """
    from dataclasses import asdict

    from tracker.index.dynamics import DynamicsParams
    from tracker.pipeline import run_dynamics

    params = DynamicsParams(max_lag=max_lag, max_lag_weekly=max_lag_weeks, ic=ic, alpha=alpha,
                            correction=correction, seed=seed)
    wanted = [n for n in (narratives or "").split(",") if n.strip()] or None
    summary = run_dynamics(get_settings(ctx), params, narratives=wanted, since=since, wait=wait)
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=1, default=str))
        return
    click.echo(f"Dynamics of {len(summary.narratives)} narratives over {summary.first_day}..{summary.last_day}: "
               f"{summary.rows} rows stored in narrative_dynamics.")
    for row in summary.verdicts:
        if row["significant"]:
            click.echo(f"  [{row['series']}, {row['frequency']}] {row['verdict']}")
    leads = sum(1 for r in summary.verdicts if r["significant"])
    click.echo(f"{plural(leads, 'lead')} found among {len(summary.verdicts)} pair tests "
               f"({params.correction}-corrected, alpha {params.alpha:g}).")
    for row in summary.virality:
        click.echo(f"  virality: {row['verdict']}")


@cli.command("discover")
@click.option("--since", metavar="YYYY-MM-DD", help="First day of the window (default: --weeks back).")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day of the window (default: the latest article).")
@click.option("--weeks", type=click.IntRange(min=1), default=4, show_default=True,
              help="Window length in weeks when --since is not given.")
@click.option("--scope", type=click.Choice(["both", "unclaimed", "all"]), default="both", show_default=True,
              help="Cluster the articles no narrative claims, all articles, or both (two runs).")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Random seed of UMAP: the same data and seed give the same topics.")
@click.option("--min-cluster-size", type=click.IntRange(min=0), default=0, show_default=True,
              help="Smallest topic (HDBSCAN); 0 = automatic from the number of articles.")
@click.option("--reducer", type=click.Choice(["umap", "pca"]), default="umap", show_default=True,
              help="Dimension reduction before HDBSCAN (pca: faster start, coarser topics).")
@click.option("--propose", "propose_id", type=int, metavar="ID",
              help="Print a narratives.yaml entry from discovered topic ID instead of running.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def discover_command(ctx: click.Context, since: str | None, until: str | None, weeks: int, scope: str,
                     seed: int, min_cluster_size: int, reducer: str, propose_id: int | None, wait: float,
                     as_json: bool) -> None:
    """Find the stories no narrative covers yet: topics in the stored article vectors.

    Clusters the window's articles (those no narrative claims, and all of them) with
    BERTopic (UMAP + HDBSCAN, class-based TF-IDF terms), labels each topic with terms,
    entities and three headlines, measures its size per day and its growth (new, rising,
    fading, steady) and links it to the previous run's topic it continues. Results go to
    discover_runs, discovered_topics, topic_articles and topic_daily.
    """
    from tracker.pipeline import propose_narrative, run_discover

    settings = get_settings(ctx)
    if propose_id is not None:
        click.echo(propose_narrative(settings, propose_id), nl=False)
        return
    from tracker.learn.discover import DiscoverParams

    params = DiscoverParams(seed=seed, min_cluster_size=min_cluster_size, reducer=reducer)
    scopes = ("unclaimed", "all") if scope == "both" else (scope,)
    say = None if as_json else (lambda msg: click.echo(msg, err=True))
    runs = run_discover(settings, since=since, until=until, weeks=weeks, scopes=scopes, params=params,
                        wait=wait, progress=say)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in runs], indent=2, ensure_ascii=False))
        return
    for r in runs:
        growth = ", ".join(f"{n} {label}" for label, n in sorted(r.growth.items()))
        click.echo(f"Run {r.run_id} ({r.scope}, {r.start_day}..{r.end_day}): {r.articles:,} articles, "
                   f"{r.topics} topics ({growth or 'none'}), {r.outliers:,} outliers, "
                   f"{r.linked} continue run {r.previous_run_id or '-'}; {r.seconds:.0f}s.")
        for t in r.top[:10]:
            click.echo(f"  {t['id']:>6}  {t['articles']:>5}  {t['growth']:<7} {t['label']}")
    click.echo("Propose a narrative from a topic: tracker discover --propose ID")


@cli.command("stories")
@click.option("--full", is_flag=True, help="Rebuild every cluster instead of adding new articles.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0),
              help="Cosine to a cluster's centroid from which an article joins it (default 0.75).")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def stories_command(ctx: click.Context, full: bool, threshold: float | None, wait: float,
                    as_json: bool) -> None:
    """Group near-duplicate and same-event articles across outlets into story clusters."""
    from dataclasses import asdict

    from tracker.pipeline import run_stories

    summary = run_stories(get_settings(ctx), full=full, threshold=threshold, wait=wait)
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
        return
    click.echo(f"Story clusters ({summary.version}): {summary.articles_added:,} articles and "
               f"{summary.copies_added:,} copies added, {summary.clusters_new:,} new clusters, "
               f"{summary.clusters_total:,} in all" + (" (full rebuild)" if summary.full else "")
               + f"; {summary.seconds:.1f}s.")
