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
    #: Where a site owner can find out who crawls them and how to reach you; part of the User-Agent.
    contact_url: str = "https://github.com/narrative-tracker"
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
    #: Index parameters given on the command line (tracker/index/params.py has the defaults
    #: and meanings). None = not given: the value stored in the database, set through a
    #: TRACKER_INDEX_* environment variable, or the default applies.
    index_min_articles: int | None = None
    index_min_expected: float | None = None
    index_base_start: str | None = None
    index_base_end: str | None = None
    index_prior_days: int | None = None
    index_prior_strength: float | str | None = None
    index_source_prior: float | None = None
    index_interval: float | None = None
    index_smooth_days: int | None = None
    index_spike_p: float | None = None
    index_spike_min_articles: int | None = None
    index_spike_min_sources: int | None = None
    index_mover_p: float | None = None
    index_mover_min_articles: int | None = None
    index_stance_min_articles: int | None = None
    #: Full text (tracker/ingest/fulltext.py): seconds between two requests to one host (at
    #: least; a larger robots.txt Crawl-delay wins), one request at a time per host.
    fulltext_min_delay: float = 3.0
    #: Hosts fetched side by side (each still one request at a time).
    fulltext_parallel_hosts: int = 4
    fulltext_max_bytes: int = 5 * 1024 * 1024
    #: Wall-clock budget for one page (slow-drip servers).
    fulltext_timeout: float = 30.0
    #: A Retry-After up to this many seconds is waited out; a longer one defers the host to a later run.
    fulltext_max_wait: float = 120.0
    #: Transient failures (timeouts, 5xx, 429) are retried on later runs up to this many attempts.
    fulltext_max_attempts: int = 3
    #: The nightly run fetches pages for articles stored within this many days.
    fulltext_new_days: int = 2
    robots_ttl_hours: float = 24.0
    #: Enrichment reads the headline then the first N sentences of the full text (cost stays bounded).
    fulltext_sentences: int = 12
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def http_user_agent(self) -> str:
        """The User-Agent for every request: product, version and the contact URL."""
        if self.user_agent != Settings.user_agent or not self.contact_url:
            return self.user_agent
        return f"NarrativeTracker/{__version__} (+{self.contact_url})"

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
    "TRACKER_CONTACT_URL": ("contact_url", str),
    "TRACKER_FULLTEXT_DELAY": ("fulltext_min_delay", float),
    "TRACKER_FULLTEXT_SENTENCES": ("fulltext_sentences", int),
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
