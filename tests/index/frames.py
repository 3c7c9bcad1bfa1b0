"""Build the count frames compute_index takes from a plain list of articles (as the SQL would)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from tracker.index.compute import (
    DAY_SOURCE_COLUMNS,
    MEMBER_COLUMNS,
    SOURCE_COLUMNS,
    SOURCE_MEMBER_COLUMNS,
    WEEK_SOURCE_COLUMNS,
    IndexResult,
    compute_index,
    confirm_spikes,
)
from tracker.index.params import IndexParams


@dataclass
class Art:
    """One non-duplicate article: its day, source and memberships (narrative -> stance or None)."""

    day: str
    feed: int
    members: dict[str, float | None] = field(default_factory=dict)
    scored: bool = True
    score: float = 0.9
    version: str = "m1"


def monday(day: str) -> str:
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def frames(
    articles: Iterable[Art],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """sources, members, source_members, week_sources and day_sources frames for these articles."""
    src: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    cell: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    versions: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for a in articles:
        src[(a.day, a.feed)][0] += 1
        src[(a.day, a.feed)][1] += int(a.scored)
        for n, stance in a.members.items():
            c = cell[(n, a.day, a.feed)]
            c[0] += 1
            c[1] += a.score
            if stance is not None:
                c[2] += stance
                c[3] += 1
            versions[(n, a.day, a.feed)].add(a.version)
    sources = pd.DataFrame([(d, f, n, k) for (d, f), (n, k) in sorted(src.items())], columns=SOURCE_COLUMNS)
    per_day: dict[tuple[str, str], list[object]] = {}
    per_source: dict[tuple[str, int], int] = defaultdict(int)
    per_week: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (n, d, f), (c, w, s, k) in sorted(cell.items()):
        row = per_day.setdefault((n, d), [0, 0.0, 0.0, 0, 0, set()])
        row[0] += c  # type: ignore[operator]
        row[1] += w  # type: ignore[operator]
        row[2] += s  # type: ignore[operator]
        row[3] += k  # type: ignore[operator]
        row[4] += 1  # type: ignore[operator]
        row[5] |= versions[(n, d, f)]  # type: ignore[operator]
        per_source[(n, f)] += int(c)
        per_week[(n, monday(d))].add(f)
    members = pd.DataFrame(
        [(n, d, r[0], r[1], r[2], r[3], r[4], ",".join(sorted(r[5]))) for (n, d), r in per_day.items()],  # type: ignore[arg-type]
        columns=MEMBER_COLUMNS,
    )
    source_members = pd.DataFrame([(n, f, c) for (n, f), c in per_source.items()], columns=SOURCE_MEMBER_COLUMNS)
    week_sources = pd.DataFrame([(n, w, len(s)) for (n, w), s in per_week.items()], columns=WEEK_SOURCE_COLUMNS)
    day_sources = pd.DataFrame([(n, d, f, c[0]) for (n, d, f), c in sorted(cell.items())],
                               columns=DAY_SOURCE_COLUMNS)  # fmt: skip
    return sources, members, source_members, week_sources, day_sources


def build(articles: Iterable[Art], narratives: list[str], params: IndexParams | None = None) -> IndexResult:
    """compute_index and confirm_spikes on these articles, as the store runs them."""
    params = params or IndexParams()
    sources, members, source_members, week_sources, day_sources = frames(list(articles))
    result = compute_index(sources, members, source_members, narratives, params, week_sources)
    confirm_spikes(result, sources, day_sources, params)
    return result


def days(start: str, n: int) -> list[str]:
    first = date.fromisoformat(start)
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]
