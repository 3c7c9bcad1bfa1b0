"""ISO weeks for reports: parse ``2026-W07``, the week of a day, the last complete week."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tracker.base.errors import TrackerError


class ReportError(TrackerError):
    """A report cannot be written (bad week, unwritable directory, PDF tool missing)."""


# --------------------------------------------------------------------------- weeks

_WEEK_RE = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
#: Years a report may cover: the comparison windows reach 13 weeks back and a week ahead,
#: which must stay inside the calendar Python can count (years 1..9999).
MIN_YEAR, MAX_YEAR = 1900, 9998


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday, UTC days) and the comparison windows around it."""

    year: int
    number: int

    @property
    def label(self) -> str:
        """The week as ``YYYY-Www``."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> date:
        """The Monday."""
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The Sunday."""
        return self.start + timedelta(days=6)

    @property
    def prev_start(self) -> date:
        """Monday of the previous week."""
        return self.start - timedelta(days=7)

    @property
    def prev_end(self) -> date:
        """Sunday of the previous week."""
        return self.start - timedelta(days=1)

    @property
    def quarter_start(self) -> date:
        """First day of the trailing quarter: the 13 weeks (91 days) before this week."""
        return self.start - timedelta(days=91)

    def days(self) -> list[date]:
        """The seven days of the week."""
        return [self.start + timedelta(days=i) for i in range(7)]


def parse_week(text: str) -> Week:
    """Parse ``YYYY-Www`` (also ``YYYYWww``) into a :class:`Week`."""
    m = _WEEK_RE.match(text)
    if m:
        year, number = int(m.group(1)), int(m.group(2))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ReportError(
                f"Invalid week {text!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}. "
                "Fix: give a week your data covers, e.g. 2026-W47 (or leave --week out for the last complete week)."
            )
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            pass
        else:
            return Week(year, number)
    raise ReportError(
        f"Invalid week {text!r}: use the ISO week format YYYY-Www, e.g. 2026-W47 "
        "(weeks run Monday to Sunday; a year has 52 or 53 of them)."
    )


def week_of(day: date) -> Week:
    """The ISO week containing ``day``."""
    iso = day.isocalendar()
    return Week(iso.year, iso.week)


def default_week(today: date | None = None) -> Week:
    """The last complete ISO week before ``today`` (UTC today by default)."""
    today = today or datetime.now(UTC).date()
    return week_of(today - timedelta(days=7))
