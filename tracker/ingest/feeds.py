"""Load and validate ``feeds.yaml``: every problem names the file, the feed and the fix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tracker.base.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_ALLOWED_KEYS = {"name", "title", "url", "tags", "poll_minutes", "enabled", "fulltext"}


@dataclass(frozen=True)
class FeedConfig:
    """One feed to poll: a unique name (the source id), a URL and optional settings."""

    name: str
    url: str
    title: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    poll_minutes: int | None = None
    enabled: bool = True
    #: The publisher allows fetching each article page for its main text (tracker fulltext).
    fulltext: bool = False


def _fail(path: Path, where: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}. Fix: {fix}")


def _resolve_url(raw: str, base_dir: Path) -> str:
    """http(s) and file URLs pass through; a bare path is relative to the config file."""
    scheme = urlsplit(raw).scheme.lower()
    if scheme in ("http", "https", "file"):
        return raw
    return (base_dir / raw).resolve().as_uri()


def parse_feeds_config(data: Any, path: Path) -> list[FeedConfig]:
    """Validate parsed YAML and return the feed list (pure: no file access)."""
    if not isinstance(data, dict) or "feeds" not in data:
        raise _fail(path, "top level", "no 'feeds:' list found",
                    "start the file with 'feeds:' followed by '- name: ...' entries")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise _fail(path, "defaults", "must be a mapping", "write 'defaults:' then 'key: value' lines")
    unknown_defaults = set(defaults) - (_ALLOWED_KEYS - {"name", "url", "title"})
    if unknown_defaults:
        raise _fail(path, "defaults", f"unknown keys {sorted(unknown_defaults)}",
                    "use only tags, poll_minutes, enabled, fulltext")
    entries = data["feeds"]
    if not isinstance(entries, list) or not entries:
        raise _fail(path, "feeds", "must be a non-empty list", "add at least one '- name: ... url: ...' entry")
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"feed #{i}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "is not a mapping", "write each feed as '- name: ...' with 'url: ...' below it")
        merged = {**defaults, **entry}
        name = merged.get("name")
        if isinstance(name, str):
            where = f"feed #{i} ({name!r})"
        unknown = set(entry) - _ALLOWED_KEYS
        if unknown:
            raise _fail(path, where, f"unknown keys {sorted(unknown)}",
                        f"use only {sorted(_ALLOWED_KEYS)}")
        if not isinstance(name, str) or not _NAME.match(name):
            raise _fail(path, where, f"name {name!r} is missing or invalid",
                        "use lower-case letters, digits, '_' or '-', e.g. 'ft_markets'")
        if name in seen:
            raise _fail(path, where, f"duplicate name (also feed #{seen[name]})", "give every feed a unique name")
        seen[name] = i
        url = merged.get("url")
        if not isinstance(url, str) or not url.strip():
            raise _fail(path, where, "url is missing", "add 'url: https://...' (or a path relative to this file)")
        scheme = urlsplit(url.strip()).scheme.lower()
        if scheme and len(scheme) > 1 and scheme not in ("http", "https", "file"):
            raise _fail(path, where, f"unsupported URL scheme {scheme!r}", "use an http(s) URL or a local file path")
        tags = merged.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _fail(path, where, "tags must be a list of strings", "write 'tags: [crypto, markets]'")
        poll = merged.get("poll_minutes")
        if poll is not None and (not isinstance(poll, int) or isinstance(poll, bool) or poll <= 0):
            raise _fail(path, where, f"poll_minutes {poll!r} is not a positive integer",
                        "write e.g. 'poll_minutes: 60'")
        enabled = merged.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(path, where, f"enabled {enabled!r} is not true/false",
                        "write 'enabled: true' or 'enabled: false'")
        fulltext = merged.get("fulltext", False)
        if not isinstance(fulltext, bool):
            raise _fail(path, where, f"fulltext {fulltext!r} is not true/false",
                        "write 'fulltext: true' (pages may be fetched) or 'fulltext: false'")
        title = merged.get("title")
        feeds.append(
            FeedConfig(
                name=name,
                url=_resolve_url(url.strip(), path.parent),
                title=str(title) if title is not None else None,
                tags=tuple(tags),
                poll_minutes=poll,
                enabled=enabled,
                fulltext=fulltext,
            )
        )
    return feeds


def load_feeds_config(path: Path) -> list[FeedConfig]:
    """Read and validate a feeds YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: feeds file not found. Fix: pass --feeds PATH, set TRACKER_FEEDS, "
            "or use the bundled sample: --feeds tracker/sample_feeds/feeds.yaml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read feeds file ({exc}). Fix: check the file is UTF-8 text") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise ConfigError(
            f"{path}: {where}: invalid YAML ({getattr(exc, 'problem', exc)}). "
            "Fix: check indentation and quoting there"
        ) from exc
    return parse_feeds_config(data, path)
