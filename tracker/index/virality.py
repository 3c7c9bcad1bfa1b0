"""Virality per narrative: how fast coverage spreads across sources, and how fast a spike fades.

An *episode* starts on a first story: a day with member articles after ``quiet_days`` days
without any, or the first day of a spike (a confirmed index spike with no spike in the
``quiet_days`` before). Spread within k days is the share of the sources publishing in the
week from that day (sources with scored articles) that carried a member article on one of
the first k days; figures are means over episodes. The half-life after a spike is the
number of days from the peak (the highest index within 3 days of the spike's first day)
until the index is back within half of the peak's excess over the baseline (the median of
the ``baseline_days`` before the spike); the median over spikes that came back within
``max_days``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Columns of the virality rows.
VIRALITY_COLUMNS = ["analysis", "series", "frequency", "variant", "leader", "episodes",
                    "spread_1d", "spread_3d", "spread_7d", "half_life_days", "n_obs", "verdict"]  # fmt: skip


@dataclass(frozen=True)
class ViralityParams:
    """Settings of the virality figures."""

    quiet_days: int = 7
    baseline_days: int = 28
    peak_days: int = 3
    max_days: int = 60
    windows: tuple[int, ...] = (1, 3, 7)


def _onsets(days: pd.DatetimeIndex, quiet: int) -> list[pd.Timestamp]:
    """Days of ``days`` (sorted) with none of ``days`` in the ``quiet`` days before."""
    out = []
    previous: pd.Timestamp | None = None
    for day in days:
        if previous is None or (day - previous).days > quiet:
            out.append(day)
        previous = day
    return out


def episodes(member_days: pd.DatetimeIndex, spike_days: pd.DatetimeIndex, quiet: int) -> list[pd.Timestamp]:
    """First-story days: restarts after a quiet spell and first days of spikes (deduplicated)."""
    starts = sorted(set(_onsets(member_days.sort_values(), quiet)[1:]) | set(_onsets(spike_days.sort_values(), quiet)))
    # A spike right after a restart belongs to the same episode.
    return _onsets(pd.DatetimeIndex(starts), quiet) if starts else []


def spread(members: pd.DataFrame, active: pd.DataFrame, starts: Sequence[pd.Timestamp],
           windows: Sequence[int]) -> dict[int, float]:
    """Mean share of active sources carrying the narrative within each window of days.

    ``members``: day, feed_id rows with member articles; ``active``: day, feed_id rows with
    scored articles.
    """
    shares: dict[int, list[float]] = {w: [] for w in windows}
    horizon = pd.Timedelta(days=max(windows) - 1)
    for start in starts:
        live = active[(active["day"] >= start) & (active["day"] <= start + horizon)]["feed_id"].nunique()
        if not live:
            continue
        for w in windows:
            window = members[(members["day"] >= start) & (members["day"] <= start + pd.Timedelta(days=w - 1))]
            shares[w].append(window["feed_id"].nunique() / live)
    return {w: float(np.mean(v)) if v else math.nan for w, v in shares.items()}


def half_life(index: pd.Series, spike_starts: Sequence[pd.Timestamp], params: ViralityParams) -> float:
    """Median days from a spike's peak until half its excess over the baseline is gone."""
    lives = []
    for start in spike_starts:
        before = index[(index.index < start) & (index.index >= start - pd.Timedelta(days=params.baseline_days))]
        window = index[(index.index >= start) & (index.index <= start + pd.Timedelta(days=params.peak_days))]
        if before.dropna().empty or window.dropna().empty:
            continue
        base, peak_day = float(before.median()), window.idxmax()
        excess = float(index[peak_day]) - base
        if excess <= 0:
            continue
        after = index[(index.index > peak_day) & (index.index <= peak_day + pd.Timedelta(days=params.max_days))]
        back = after[after - base <= excess / 2].dropna()
        if not back.empty:
            lives.append((back.index[0] - peak_day).days)
    return float(np.median(lives)) if lives else math.nan


def virality(index: pd.DataFrame, members: pd.DataFrame, sources: pd.DataFrame, narratives: Sequence[str],
             labels: dict[str, str] | None = None, params: ViralityParams | None = None) -> pd.DataFrame:
    """One virality row per narrative.

    ``index``: day (Timestamp), narrative_id, index_value, spike; ``members``: narrative_id,
    day, feed_id, articles; ``sources``: day, feed_id, scored_articles.
    """
    params = params or ViralityParams()
    labels = labels or {}
    active = sources[sources["scored_articles"] > 0][["day", "feed_id"]]
    rows = []
    for name in narratives:
        mine = members[(members["narrative_id"] == name) & (members["articles"] > 0)]
        own = index[index["narrative_id"] == name].set_index("day").sort_index()
        spikes = pd.DatetimeIndex(own.index[own["spike"].astype(bool)])
        starts = episodes(pd.DatetimeIndex(mine["day"].unique()), spikes, params.quiet_days)
        shares = spread(mine, active, starts, params.windows)
        life = half_life(own["index_value"].astype(float), _onsets(spikes.sort_values(), params.quiet_days),
                         params)  # fmt: skip
        label = labels.get(name, name)
        text = (f"{label}: {len(starts)} episode{'s' * (len(starts) != 1)}; " + ", ".join(
            f"{shares[w]:.0%} of sources within {w} day{'s' * (w != 1)}" for w in params.windows
            if shares[w] == shares[w]) if starts else f"{label}: no episode (no first story after "
            f"{params.quiet_days} quiet days, no spike)")  # fmt: skip
        if life == life:
            text += f"; half-life after a spike {life:g} day{'s' * (life != 1)}"
        rows.append({"analysis": "virality", "series": "intensity", "frequency": "daily", "variant": "all",
                     "leader": name, "episodes": len(starts),
                     **{f"spread_{w}d": shares.get(w, math.nan) for w in (1, 3, 7)},
                     "half_life_days": life, "n_obs": len(own), "verdict": text})  # fmt: skip
    return pd.DataFrame(rows, columns=VIRALITY_COLUMNS)
