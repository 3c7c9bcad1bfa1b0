"""The report's lead: what moved and why, in sentences a reader can check against the store.

Only a change the index calls significant (``narrative_weekly.mover``: p-value under the
movers' threshold with enough articles) is said to rise or fall; every other narrative
is listed as steady with its interval. Each move names the stories and entities behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.report.data import EntityFigure, NarrativeReport, ReportData, fmt_num
from tracker.report.facts import StoryRef

#: Stories and entities named per move in the lead.
LEAD_STORIES = 3
LEAD_ENTITIES = 3


@dataclass(frozen=True)
class LeadItem:
    """One narrative's move (or spike) with the stories and entities behind it."""

    narrative_id: str
    sentence: str
    stories: tuple[StoryRef, ...]
    entities: str | None
    #: "move" (significant change), "spike" (spike days only) or "steady".
    kind: str = "move"

    @property
    def stories_label(self) -> str:
        """How the stories relate to the sentence: behind a move, or just the week's biggest."""
        return "Biggest stories" if self.kind == "steady" else "Stories behind it"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _interval(n: NarrativeReport, level: float) -> str:
    w = n.weekly
    if w is None or w.index_low is None or w.index_high is None:
        return ""
    return f" ({level:.0%} interval {w.index_low:,.0f}-{w.index_high:,.0f})"


def entity_phrase(entities: tuple[EntityFigure, ...]) -> str | None:
    """``Coinbase (5 member articles, 1 the week before), ...`` or None."""
    if not entities:
        return None
    return ", ".join(f"{e.name} ({_plural(e.week_articles, 'member article')}, "
                     f"{e.prev_articles} the week before)" for e in entities[:LEAD_ENTITIES])


def story_phrase(s: StoryRef) -> str:
    """A story as plain text: title (source, day; articles in outlets)."""
    spread = f"{_plural(s.articles, 'article')} in {_plural(s.sources, 'outlet')}"
    return f"{s.title} ({s.source}, {s.day}; {spread})"


def stance_phrase(n: NarrativeReport) -> str:
    """The week's net stance (mean stance of members with one) and last week's, or ''."""
    w = n.weekly
    if w is None or w.net_stance is None or not w.stance_articles:
        return ""
    prev = f", last week {w.prev_net_stance:+.2f}" if w.prev_net_stance is not None else ""
    return (f" Net stance {w.net_stance:+.2f} over {_plural(w.stance_articles, 'article')} "
            f"with a stance{prev}.")


def move_sentence(n: NarrativeReport, data: ReportData) -> str:
    """The checkable sentence of a significant weekly change."""
    w = n.weekly
    assert w is not None
    p = f"p = {w.change_p:.2g}" if w.change_p is not None else "p n/a"
    expected = f" against {fmt_num(w.expected)} expected at the base rate" if w.expected is not None else ""
    spikes = f" Spike days: {', '.join(n.spike_days)}." if n.spike_days else ""
    return (
        f"{n.label} {w.direction}: weekly index {fmt_num(w.index_value, 0)}"
        f"{_interval(n, data.interval)} against {fmt_num(w.prev_index, 0)} the week before "
        f"({p}, significant at {data.mover_p:g}); {_plural(w.articles, 'member article')} in "
        f"{_plural(w.member_sources, 'source')}{expected}.{spikes}{stance_phrase(n)}"
    )


def spike_sentence(n: NarrativeReport, data: ReportData) -> str:
    """A narrative with spike days but no significant weekly change, with the weekly figures."""
    head = f"{n.label} spiked on {', '.join(n.spike_days)} (days far above the expected count)"
    w = n.weekly
    if w is None or w.index_value is None:
        return head + "; no weekly index to test the week as a whole."
    p = f"p = {w.change_p:.2g}" if w.change_p is not None else "no test"
    prev = f" against {fmt_num(w.prev_index, 0)} the week before" if w.prev_index is not None else ""
    return (f"{head}, but the week as a whole is not a significant change: weekly index "
            f"{fmt_num(w.index_value, 0)}{_interval(n, data.interval)}{prev} ({p}, threshold "
            f"{data.mover_p:g}); {_plural(w.articles, 'member article')} in "
            f"{_plural(w.member_sources, 'source')}.{stance_phrase(n)}")


def steady_sentence(n: NarrativeReport, data: ReportData) -> str:
    """A narrative whose weekly change the index does not call significant, with its figures."""
    w = n.weekly
    assert w is not None
    p = f"p = {w.change_p:.2g}" if w.change_p is not None else "no test"
    prev = f" against {fmt_num(w.prev_index, 0)} the week before" if w.prev_index is not None else ""
    return (f"{n.label}: no significant change, weekly index {fmt_num(w.index_value, 0)}"
            f"{_interval(n, data.interval)}{prev} ({p}); {_plural(w.articles, 'member article')} in "
            f"{_plural(w.member_sources, 'source')}.{stance_phrase(n)}")


def lead_items(data: ReportData) -> list[LeadItem]:
    """Significant moves (smallest p first), narratives that only spiked, then the steady ones."""
    movers = sorted((n for n in data.narratives if n.weekly is not None and n.weekly.mover),
                    key=lambda n: (n.weekly.change_p if n.weekly and n.weekly.change_p is not None
                                   else 1.0, n.id))
    items = [LeadItem(n.id, move_sentence(n, data), n.stories[:LEAD_STORIES],
                      entity_phrase(n.risers if n.weekly and n.weekly.direction == "rose"
                                    else n.top_entities)) for n in movers]
    moved = {n.id for n in movers}
    spiked = [n for n in data.narratives if n.spike_days and n.id not in moved]
    items += [LeadItem(n.id, spike_sentence(n, data), n.stories[:LEAD_STORIES], entity_phrase(n.top_entities),
                       "spike") for n in spiked]
    done = moved | {n.id for n in spiked}
    # Steady narratives still say what their week was about: the biggest stories, no "why".
    items += [LeadItem(n.id, steady_sentence(n, data), n.stories[:2], None, "steady")
              for n in data.narratives
              if n.id not in done and n.weekly is not None and n.weekly.index_value is not None]
    return items


def steady_line(data: ReportData) -> str | None:
    """Narratives with too few member articles for a weekly index."""
    thin = [n for n in data.narratives if n.weekly is not None and n.weekly.index_value is None]
    if not thin:
        return None
    return ("Too few member articles for a weekly index: "
            + "; ".join(f"{n.label} ({_plural(n.weekly.articles if n.weekly else 0, 'article')})"
                        for n in thin) + ".")


def summary_lines(data: ReportData) -> list[str]:
    """The lead as plain sentences (the CLI prints them; renderers add the links)."""
    wk = data.week
    span = f"{wk.start:%d %b} to {wk.end:%d %b %Y}"
    progress = [data.progress_note] if data.progress_note else []
    if not data.has_data:
        return [
            f"No data for week {wk.label} ({span}): no articles are dated in that week "
            f"(data covers {data.coverage}).",
            *progress,
        ]
    lines = [
        *progress,
        f"Week {wk.label} ({span}): {data.week_articles} distinct articles from "
        f"{data.week_feeds} feeds (data covers {data.coverage}).",
    ]
    if not data.has_index:
        lines.append("The narrative index has no values for this week yet: run tracker index "
                     "(or tracker run) and write the report again.")
        return lines
    items = lead_items(data)
    for item in items:
        lines.append(item.sentence)
        if item.stories:
            lines.append(f"{item.stories_label}: " + "; ".join(story_phrase(s) for s in item.stories) + ".")
        if item.entities:
            lines.append(f"Entities: {item.entities}.")
    if not any(n.weekly is not None and n.weekly.mover for n in data.narratives):
        lines.append("No narrative moved significantly this week.")
    steady = steady_line(data)
    if steady:
        lines.append(steady)
    missing = [n.label for n in data.narratives if n.weekly is None]
    if missing:
        lines.append("No weekly figures stored for " + ", ".join(missing)
                     + " (run tracker index to compute them); no change is claimed.")
    low_days = [d.day for d in data.daily_volume if d.low]
    if data.failed_feeds or data.silent_feeds or low_days:
        notes = []
        if data.failed_feeds:
            notes.append(f"{len(data.failed_feeds)} feed(s) with failed fetches")
        if data.silent_feeds:
            notes.append(f"{len(data.silent_feeds)} silent feed(s)")
        if low_days:
            notes.append(f"{len(low_days)} low-volume day(s)")
        lines.append("Data quality: " + ", ".join(notes) + " (see Coverage and feed health).")
    return lines
