"""Benchmark `tracker dynamics` on two years of daily series against bare statsmodels.

Synthetic inputs of the stored tables' shape: ``--narratives`` narratives over ``--days``
days from ``--feeds`` feeds (sparse member counts per source-day, scored articles per
source-day, usual rates), the daily index (observed/expected ratio) and its weekly table;
one narrative leads another by three days.

Timed, in the same run (all with one BLAS thread, as the tracker runs them):

* baseline: bare statsmodels doing the main analysis by hand: for each of the 2 series x 2
  frequencies, ADF and KPSS per narrative (log levels), then per ordered pair
  ``VAR.select_order`` + ``fit`` + ``test_causality``;
* tracker main: the same tests through :mod:`tracker.index.dynamics` (stationary
  transforms with re-tests after differencing, cross-correlations, correction, verdicts);
* tracker full: :func:`compute_dynamics` (main, drop-each-source, halves and placebo
  variants, virality): what `tracker dynamics` computes.

Run:

    .venv/bin/python bench/bench_dynamics.py [--days 730] [--narratives 4] [--feeds 10] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from tracker.index.dynamics import FREQUENCIES, SERIES, DynamicsParams, analyse_pairs, prepare_panel
from tracker.index.dynamics_series import DynamicsInputs, compute_dynamics, main_panels


def make_inputs(days: int, narratives: int, feeds: int, seed: int = 1) -> DynamicsInputs:
    """Stored-table frames of the given shape (see the module docstring)."""
    rng = np.random.default_rng(seed)
    day_index = pd.date_range("2024-01-01", periods=days)
    latent = np.zeros((days, narratives))
    for t in range(1, days):
        latent[t] = 0.6 * latent[t - 1] + rng.normal(scale=0.4, size=narratives)
        if t >= 3:
            latent[t, 1] += 0.5 * latent[t - 3, 0]
    volume = rng.integers(20, 200, size=feeds)
    rates = rng.uniform(0.02, 0.2, size=(narratives, feeds))
    names = [f"n{i}" for i in range(narratives)]
    sources, members = [], []
    for d, day in enumerate(day_index):
        for f in range(feeds):
            scored = int(rng.poisson(volume[f]))
            sources.append((day, f + 1, scored))
            counts = rng.poisson(scored * rates[:, f] * np.exp(latent[d]))
            for n, count in enumerate(counts):
                if count:
                    members.append((names[n], day, f + 1, int(count), float(count) * rng.uniform(-0.5, 0.5),
                                    int(count)))
    src = pd.DataFrame(sources, columns=["day", "feed_id", "scored_articles"])
    mem = pd.DataFrame(members, columns=["narrative_id", "day", "feed_id", "articles", "stance_sum",
                                         "stance_articles"])
    rate = pd.DataFrame([(names[n], f + 1, rates[n, f]) for n in range(narratives) for f in range(feeds)],
                        columns=["narrative_id", "feed_id", "rate"])
    exp = src.merge(rate, on="feed_id").assign(expected=lambda x: x["scored_articles"] * x["rate"])
    per_day = mem.groupby(["narrative_id", "day"])[["articles", "stance_sum", "stance_articles"]].sum()
    expected = exp.groupby(["narrative_id", "day"])["expected"].sum()
    both = pd.concat([per_day, expected], axis=1).fillna(0).reset_index()
    index = both.assign(index_value=100 * (both["articles"] + 0.5) / (both["expected"] + 0.5),
                        expected_articles=both["expected"],
                        net_stance=both["stance_sum"] / both["stance_articles"].where(both["stance_articles"] > 0),
                        covered=1, spike=0)
    index["week_end"] = index["day"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
    weekly = index.groupby(["narrative_id", "week_end"])[["articles", "expected", "stance_sum",
                                                          "stance_articles"]].sum().reset_index()
    weekly = weekly.assign(expected_articles=weekly["expected"],
                           net_stance=weekly["stance_sum"] / weekly["stance_articles"])
    return DynamicsInputs(index=index[["day", "narrative_id", "covered", "index_value", "articles", "expected_articles",
                                       "net_stance", "spike"]],
                          weekly=weekly[["week_end", "narrative_id", "articles", "expected_articles", "net_stance"]],
                          members=mem, sources=src, rates=rate,
                          feeds={str(f + 1): f"feed{f + 1}" for f in range(feeds)})


def baseline(panels: dict[tuple[str, str], pd.DataFrame], params: DynamicsParams) -> int:
    """Bare statsmodels: ADF + KPSS per series, select_order + fit + test_causality per pair."""
    from statsmodels.tsa.api import VAR
    from statsmodels.tsa.stattools import adfuller, kpss

    tests = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (series, frequency), panel in panels.items():
            lag = params.lag_limit(frequency)
            data = np.log(panel.clip(lower=1e-9)) if series == "intensity" else panel
            data = data.interpolate(limit_area="inside").dropna()
            for name in data.columns:
                adfuller(data[name].to_numpy(), maxlag=lag, autolag="AIC")
                kpss(data[name].to_numpy(), regression="c", nlags="auto")
            for a in data.columns:
                for b in data.columns:
                    if a == b:
                        continue
                    model = VAR(data[[b, a]].to_numpy())
                    p = max(1, model.select_order(lag, trend="c").selected_orders["aic"])
                    model.fit(p, trend="c").test_causality(caused=0, causing=1, kind="f")
                    tests += 1
    return tests


def main_only(panels: dict[tuple[str, str], pd.DataFrame], params: DynamicsParams) -> int:
    """The tracker's main analysis (no robustness variants, no virality)."""
    tests = 0
    for series in SERIES:
        for frequency in FREQUENCIES:
            prepared = prepare_panel(panels[(series, frequency)], series, frequency, params)
            tests += len(analyse_pairs(prepared, series, frequency, params))
    return tests


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median wall s, median CPU s, last result) over ``repeat`` runs."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    """Run the benchmark and print the timings and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--narratives", type=int, default=4)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    inputs = make_inputs(args.days, args.narratives, args.feeds)
    names = sorted(inputs.index["narrative_id"].unique())
    params = DynamicsParams()
    panels = main_panels(inputs, names)
    with threadpool_limits(limits=1, user_api="blas"):
        base_wall, base_cpu, base_tests = timed(lambda: baseline(panels, params), args.repeat)
        main_wall, main_cpu, main_tests = timed(lambda: main_only(panels, params), args.repeat)
    full_wall, full_cpu, rows = timed(lambda: compute_dynamics(inputs, names, params), args.repeat)
    lead = rows[(rows["variant"] == "all") & (rows["leader"] == "n0") & (rows["follower"] == "n1")
                & (rows["series"] == "intensity") & (rows["frequency"] == "daily")].iloc[0]
    result = {
        "days": args.days, "narratives": args.narratives, "feeds": args.feeds, "pair_tests": main_tests,
        "baseline_tests": base_tests, "rows": len(rows),
        "baseline_wall_s": round(base_wall, 3), "baseline_cpu_s": round(base_cpu, 3),
        "main_wall_s": round(main_wall, 3), "main_cpu_s": round(main_cpu, 3),
        "full_wall_s": round(full_wall, 3), "full_cpu_s": round(full_cpu, 3),
        "main_vs_baseline_cpu": round(main_cpu / base_cpu, 2), "full_vs_baseline_cpu": round(full_cpu / base_cpu, 2),
        "planted_lead_verdict": lead["verdict"],
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{args.narratives} narratives x {args.days} days x {args.feeds} feeds: {main_tests} pair tests")
    print(f"baseline (bare statsmodels, main tests): {base_wall:.2f} s wall, {base_cpu:.2f} CPU-s")
    print(f"tracker main analysis: {main_wall:.2f} s wall, {main_cpu:.2f} CPU-s "
          f"({result['main_vs_baseline_cpu']}x baseline CPU)")
    print(f"tracker full run (robustness + virality, {len(rows)} rows): {full_wall:.2f} s wall, "
          f"{full_cpu:.2f} CPU-s ({result['full_vs_baseline_cpu']}x baseline CPU)")
    print(f"planted lead n0 -> n1: {lead['verdict']}")


if __name__ == "__main__":
    main()
