"""The index's parameters: defaults, validation, and the values a database remembers.

A user who sets a parameter once (``tracker index --spike-p 0.0005``, or an environment
variable ``TRACKER_INDEX_SPIKE_P``) should not have it silently dropped by the next
``tracker run`` or ``tracker index --since``. So the resolved parameters of every build are
stored in the database (table ``index_settings``) and reused until the user changes them:

    packaged default  <  stored in the database  <  environment  <  command-line option

``tracker index --reset-params`` forgets the stored values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any

from tracker.base.errors import ConfigError

#: Environment variables, one per parameter: ``TRACKER_INDEX_`` + the name in capitals.
ENV_PREFIX = "TRACKER_INDEX_"


@dataclass(frozen=True)
class IndexParams:
    """The knobs of the index (README, "Narrative index", explains each); stored with every build."""

    #: A day is covered when all sources together have at least this many scored articles.
    min_articles: int = 10
    #: An index value needs this many member articles expected at the narrative's usual rate.
    min_expected: float = 5.0
    #: Base window: the index averages 100 (expected-weighted) over it; None = whole history.
    base_start: str | None = None
    base_end: str | None = None
    #: Trailing days whose rate the daily estimate is shrunk toward (the prior's mean).
    prior_days: int = 28
    #: Prior strength in pseudo member articles; None = estimated from the data (empirical Bayes).
    prior_strength: float | None = None
    #: Pseudo articles pulling a thin source's usual rate toward the pooled rate.
    source_prior: float = 50.0
    #: Central probability of the stored interval.
    interval: float = 0.9
    #: Days of the smoothed (count-weighted) index.
    smooth_days: int = 7
    #: A spike: one-sided p-value of the day's count against the trailing rate at most this ...
    spike_p: float = 0.001
    #: ... with at least this many member articles ...
    spike_min_articles: int = 5
    #: ... from at least this many sources.
    spike_min_sources: int = 2
    #: A weekly mover: two-sided p-value of this week's rate against last week's at most this,
    mover_p: float = 0.01
    #: with at least this many member articles over the two weeks.
    mover_min_articles: int = 10
    #: Net stance needs this many member articles with a known stance.
    stance_min_articles: int = 3

    def validate(self) -> None:
        """Raise :class:`ConfigError` (cause and fix) for values the formulas cannot use."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(
                    f"--{_flag(f.name)} must be a finite number (got {value}); "
                    f"the default is {getattr(DEFAULTS, f.name)}."
                )
        _at_least(self, "min_articles", 1, "a covered day needs at least one scored article")
        _at_least(self, "min_expected", 0.0, "use 0 to publish every covered day")
        _at_least(self, "prior_days", 1, "the prior needs a trailing window")
        if self.prior_strength is not None and self.prior_strength <= 0:
            raise ConfigError(
                f"--prior-strength must be above 0 (got {self.prior_strength}), or unset to "
                "estimate it from the data."
            )
        _at_least(self, "source_prior", 0.0, "use 0 for no pull toward the pooled rate")
        _at_least(self, "smooth_days", 1, "a window of 1 is no smoothing")
        for name in ("interval", "spike_p", "mover_p"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ConfigError(
                    f"--{_flag(name)} must be a probability strictly between 0 and 1 "
                    f"(got {value}); the default is {getattr(DEFAULTS, name)}."
                )
        for name in ("spike_min_articles", "spike_min_sources", "mover_min_articles",
                     "stance_min_articles"):  # fmt: skip
            _at_least(self, name, 0, "use 0 for no minimum")
        start = parse_day(self.base_start, "--base-start") if self.base_start else None
        end = parse_day(self.base_end, "--base-end") if self.base_end else None
        if start and end and start > end:
            raise ConfigError(
                f"The base window starts ({self.base_start}) after it ends ({self.base_end}); "
                "swap --base-start and --base-end."
            )

    def as_dict(self) -> dict[str, Any]:
        """Plain values (stored with every build as JSON)."""
        return asdict(self)


DEFAULTS = IndexParams()
NAMES = [f.name for f in fields(IndexParams)]


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _at_least(params: IndexParams, name: str, low: float, why: str) -> None:
    value = getattr(params, name)
    if value < low:
        raise ConfigError(f"--{_flag(name)} must be at least {low} (got {value}): {why}.")


def parse_day(value: str, what: str = "day") -> date:
    """Parse ``YYYY-MM-DD`` or raise a ConfigError that says what format is expected."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_day(value, what)
    except ValueError:
        return _bad_day(value, what)


def _bad_day(value: str, what: str) -> date:
    raise ConfigError(f"{what} must be a UTC day as YYYY-MM-DD (got {value!r}), e.g. 2025-06-01.")


def _convert(name: str, raw: object, source: str) -> Any:
    """One parameter value from text (environment, stored row) or a CLI value, checked."""
    kind = {f.name: f.type for f in fields(IndexParams)}[name]
    if raw is None or raw == "":
        if "None" in str(kind):
            return None
        raise ConfigError(f"{source}: {name} needs a value; unset it to use the default.")
    try:
        if "int" in str(kind):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(str(raw).strip()) if not isinstance(raw, float) else int(raw)
        if "float" in str(kind):
            text = str(raw).strip().lower()
            if text in ("none", "auto") and "None" in str(kind):
                return None
            return float(text)
        text = str(raw).strip()
        return None if text.lower() in ("", "none") else text
    except ValueError:
        want = "a whole number" if "int" in str(kind) else "a number"
        raise ConfigError(
            f"{source}: {name} must be {want} (got {raw!r}); the default is {getattr(DEFAULTS, name)}."
        ) from None


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Parameters set through ``TRACKER_INDEX_*`` environment variables (unknown ones refused)."""
    out: dict[str, Any] = {}
    for var, raw in env.items():
        if not var.startswith(ENV_PREFIX) or not raw.strip():
            continue  # an empty variable is an unset one, as for the other TRACKER_* variables
        name = var[len(ENV_PREFIX):].lower()
        if name not in NAMES:
            raise ConfigError(
                f"Unknown environment variable {var}: index parameters are "
                + ", ".join(ENV_PREFIX + n.upper() for n in NAMES) + ". Fix the name or unset it."
            )
        out[name] = _convert(name, raw, f"environment variable {var}")
    return out


def from_stored(rows: Mapping[str, str]) -> dict[str, Any]:
    """Parameters remembered in the database (names no longer known are ignored)."""
    return {k: _convert(k, v, "stored index setting") for k, v in rows.items() if k in NAMES}


def to_stored(params: IndexParams) -> dict[str, str]:
    """The text form of every parameter, as stored in ``index_settings``."""
    return {k: "" if v is None else repr(v) if isinstance(v, float) else str(v)
            for k, v in params.as_dict().items()}  # fmt: skip


def resolve(
    stored: Mapping[str, Any], env: Mapping[str, Any], cli: Mapping[str, Any]
) -> IndexParams:
    """Defaults, then stored, then environment, then command-line values (None = not given)."""
    values: dict[str, Any] = {}
    values.update(stored)
    values.update(env)
    values.update({k: _convert(k, v, f"--{_flag(k)}") for k, v in cli.items() if v is not None})
    params = replace(DEFAULTS, **values)
    params.validate()
    return params
