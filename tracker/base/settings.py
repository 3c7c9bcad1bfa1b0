"""Run settings: packaged defaults, overridden by environment variables, then by CLI options."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracker import __version__
from tracker.base.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; build with :func:`load_settings`."""

    # User data is relative to the working directory (or set by the env variables below).
    db_path: Path = Path("db") / "tracker.db"
    feeds_path: Path = Path("feeds.yaml")
    #: Model files found here override the packaged ones (tracker.base.resources.model_file).
    models_dir: Path = Path("models")
    report_dir: Path = Path("reports")
    user_agent: str = f"NarrativeTracker/{__version__} (+https://github.com/narrative-tracker)"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    #: Wall-clock budget for one whole fetch, so a slow-drip server cannot stall a run.
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    #: Attempts per fetch for 429/503 answers and connection resets (1 = no retries), all
    #: within ``total_timeout``; the pause is the server's Retry-After, else exponential
    #: backoff from ``retry_wait`` seconds (plus up to as much jitter) to ``retry_wait_max``.
    retry_attempts: int = 3
    retry_wait: float = 1.0
    retry_wait_max: float = 10.0
    concurrency: int = 8
    #: Window for the per-source normalised-title duplicate check.
    title_dedupe_days: int = 3
    #: Window for the same-title-and-text duplicate check (weekly columns repeat their stock text).
    content_dedupe_days: int = 7
    #: Index (tracker/index.py): a source-day with fewer articles is missing, not zero.
    index_min_articles: int = 2
    #: Base window for per-source scaling and the rescale to 100 (None = whole history).
    index_base_start: str | None = None
    index_base_end: str | None = None
    index_smooth_days: int = 7
    #: Trailing window (days before t) for the z-score, and the days it needs with data.
    index_z_window: int = 30
    index_z_min_periods: int = 7
    index_spike_z: float = 2.5
    #: A spike also needs this many member articles that day (one story is not a wave).
    index_spike_min_articles: int = 3
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with every non-None override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_ENV_MAP: dict[str, tuple[str, type]] = {
    "TRACKER_DB": ("db_path", Path),
    "TRACKER_FEEDS": ("feeds_path", Path),
    "TRACKER_MODELS": ("models_dir", Path),
    "TRACKER_REPORTS": ("report_dir", Path),
    "TRACKER_CONCURRENCY": ("concurrency", int),
    "TRACKER_TIMEOUT": ("read_timeout", float),
}


#: What a numeric environment variable must be, said in the error message.
_ENV_RULES: dict[type, tuple[Callable[[Any], bool], str, str]] = {
    int: (lambda v: v >= 1, "a whole number >= 1", "8"),
    float: (lambda v: math.isfinite(v) and v > 0, "a number of seconds > 0", "20"),
}


def _env_value(var: str, raw: str, kind: type) -> Any:
    """Convert one environment variable, or raise ConfigError naming it and the fix."""
    if kind is Path or kind is str:
        return kind(raw)
    check, wanted, example = _ENV_RULES[kind]
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or not check(value):
        raise ConfigError(f"environment variable {var}={raw!r} is not {wanted}. "
                          f"Fix: set it to e.g. {var}={example}, or unset it for the default")
    return value


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Layer environment variables and explicit overrides over the packaged defaults."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    for var, (name, kind) in _ENV_MAP.items():
        if env.get(var):
            values[name] = _env_value(var, env[var], kind)
    return Settings().with_overrides(**values).with_overrides(**overrides)
