"""The event calendar ``tracker validate`` checks the index against: schema and loader.

The shipped calendar is ``models/events.yaml`` (real dated events of 2025-26 per narrative,
each with a source; its header says how they were chosen). A user's own file has the same
shape; only ``id``, ``date`` and ``narrative`` are required. Unknown keys are errors, so a
misspelt field is never silently ignored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tracker.base.errors import ConfigError
from tracker.base.resources import model_file

#: Events of this narrative are controls: major news that belongs to no narrative.
NO_NARRATIVE = "none"


class DataRef(BaseModel):
    """An item in the shared data that reports the event."""

    model_config = ConfigDict(extra="forbid")
    file: str
    key: str


class Event(BaseModel):
    """One dated event of one narrative."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    date: dt.date
    narrative: str = Field(min_length=1)
    kind: str | None = None
    title: str | None = None
    expected_stance: Literal[-1, 0, 1] | None = None
    source: str | None = None
    source_note: str | None = None
    coverage_items: int | None = Field(default=None, ge=0)
    data_refs: list[DataRef] = Field(default_factory=list)
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        # YAML reads 2025-01-21 as a date already; a string must be exactly YYYY-MM-DD.
        if isinstance(value, str):
            return dt.date.fromisoformat(value.strip())
        return value


class Calendar(BaseModel):
    """The whole file: a version and the events (ids unique)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    events: list[Event] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Calendar:
        seen: set[str] = set()
        for event in self.events:
            if event.id in seen:
                raise ValueError(f"event id {event.id!r} appears twice; ids must be unique")
            seen.add(event.id)
        return self


def default_events_path(models_dir: Path | None = None) -> Path:
    """The user's ``models/events.yaml`` if present, else the shipped calendar."""
    return model_file(models_dir, "events.yaml")


def load_events(path: Path, narratives: list[str] | None = None, *, strict: bool = True) -> Calendar:
    """Read and check an event calendar; ConfigError names the file, the entry and the fix.

    With ``narratives`` given, an event of a narrative that is not defined (other than
    ``none``) is an error when ``strict`` (in the user's own file it could only be a typo);
    otherwise (the shipped calendar on a database with other narratives) it is dropped.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Event file {path} not found: pass --events PATH to an existing file.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the event file {path}: {exc}. Fix the YAML.") from None
    except ValueError as exc:  # PyYAML builds dates itself: 2025-13-10 fails there
        raise ConfigError(
            f"{path}: a date is not a real day ({exc}); dates are YYYY-MM-DD. Fix the YAML."
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping with `version` and `events:` (a list of events), "
            f"got {type(raw).__name__}."
        )
    try:
        calendar = Calendar.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            where = _where(raw, err["loc"])
            problems.append(f"{where}: {err['msg']}")
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise ConfigError(
            f"{path}: invalid event calendar: " + "; ".join(problems) + more
            + ". Each event needs id, date (YYYY-MM-DD) and narrative; see models/events.yaml "
            "for every allowed field."
        ) from None
    if narratives is not None:
        known = set(narratives) | {NO_NARRATIVE}
        if not strict:
            kept = [e for e in calendar.events if e.narrative in known]
            return calendar.model_copy(update={"events": kept})
        for event in calendar.events:
            if event.narrative not in known:
                raise ConfigError(
                    f"{path}: event {event.id!r} names narrative {event.narrative!r}, which is not "
                    f"defined; use one of {', '.join(sorted(known))}."
                )
    return calendar


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """``events[3] (id fomc_2025_06_18).date`` for an error location."""
    parts: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and node.get("id"):
                parts[-1] += f" (id {node['id']})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "file"
