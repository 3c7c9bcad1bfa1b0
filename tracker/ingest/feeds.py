"""Load and validate ``feeds.yaml``: every problem names the file, the feed and the fix.

The shape of the file is a set of pydantic models (unknown keys are errors, at the top
level too); the rules that need the file's location (a bare path is relative to the
YAML file, local files only under its folder unless ``allow_local: true``) are applied
by :func:`parse_feeds_config`, which turns every validation error into a
:class:`~tracker.base.errors.ConfigError` with the file, the feed and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, field_validator

from tracker.base.errors import ConfigError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
#: Folders a feed may never read, whatever ``allow_local`` says (devices, kernel files, secrets).
SYSTEM_DIRS = ("/etc", "/proc", "/sys", "/dev", "/boot", "/run", "/var/run", "/root")


def _as_tags(value: Any) -> Any:
    """``tags: crypto`` is one tag; a list stays a list (element types are checked after)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


class FeedDefaults(BaseModel):
    """The ``defaults:`` block: settings applied to every feed that does not set them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: tuple[StrictStr, ...] | None = None
    poll_minutes: StrictInt | None = Field(default=None, gt=0)
    enabled: StrictBool | None = None
    fulltext: StrictBool | None = None

    _tags = field_validator("tags", mode="before")(_as_tags)


class FeedConfig(BaseModel):
    """One feed to poll: a unique name (the source id), an absolute URL and optional settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(pattern=NAME_PATTERN)
    #: http(s) URL, or a ``file://`` URL (feeds.yaml paths are resolved to one on load).
    url: StrictStr
    title: StrictStr | None = None
    tags: tuple[StrictStr, ...] = ()
    poll_minutes: StrictInt | None = Field(default=None, gt=0)
    enabled: StrictBool = True
    #: The publisher allows fetching each new article's page for its main text.
    fulltext: StrictBool = False
    #: Allow a local file outside the feeds file's folder (system folders stay refused).
    allow_local: StrictBool = False

    _tags = field_validator("tags", mode="before")(_as_tags)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        url = url.strip()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            try:
                parts.port  # noqa: B018  (raises ValueError on a bad port)
            except ValueError as exc:
                raise ValueError(f"url {url!r} has a bad port ({exc})") from None
            if not parts.hostname:
                raise ValueError(f"url {url!r} has no host")
            return url
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"url {url!r} names another host; a file URL must be file:///path")
            if not parts.path:
                raise ValueError(f"url {url!r} has no path")
            return url
        if not scheme:
            raise ValueError(f"url {url!r} is not absolute (http(s):// or file://)")
        raise ValueError(f"unsupported URL scheme {scheme!r} in {url!r}")

    @property
    def local_path(self) -> Path | None:
        """The local file a ``file://`` URL points at, else None."""
        parts = urlsplit(self.url)
        return Path(unquote(parts.path)) if parts.scheme.lower() == "file" else None


class FeedsFile(BaseModel):
    """The top level of ``feeds.yaml``: an optional ``defaults:`` block and the ``feeds:`` list."""

    model_config = ConfigDict(extra="forbid")

    defaults: FeedDefaults | None = None
    #: Validated one entry at a time by :func:`parse_feeds_config`, so a message names the feed.
    feeds: list[Any]


#: The fix printed for a problem with each key.
FIXES = {
    "name": "use lower-case letters, digits, '_' or '-', e.g. 'ft_markets'",
    "url": "write 'url: https://...' (or a path relative to this file)",
    "title": "write the display name as one line of text, e.g. 'title: FT Markets'",
    "tags": "write 'tags: [crypto, markets]'",
    "poll_minutes": "write e.g. 'poll_minutes: 60'",
    "enabled": "write 'enabled: true' or 'enabled: false'",
    "fulltext": "write 'fulltext: true' or 'fulltext: false'",
    "allow_local": "write 'allow_local: true' or 'allow_local: false'",
}
#: What a key's value must be, for type errors.
KINDS = {
    "name": "a name", "url": "text (a URL or a file path)", "title": "text", "tags": "a list of strings",
    "poll_minutes": "a positive integer", "enabled": "true/false", "fulltext": "true/false",
    "allow_local": "true/false",
}


def _fail(path: Path, where: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}. Fix: {fix}")


def _describe(error: Any, allowed: list[str]) -> tuple[str, str]:
    """(problem, fix) for one pydantic error, in the words of the file's keys."""
    loc = error["loc"]
    key = str(loc[0]) if loc else "entry"
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"{key} is missing", FIXES.get(key, f"add '{key}: ...'")
    if kind == "value_error":
        return str(error["ctx"]["error"]), FIXES.get(key, "")
    if key == "name":
        return f"name {value!r} is missing or invalid", FIXES["name"]
    if key == "tags":
        return "tags must be a list of strings", FIXES["tags"]
    return f"{key} {value!r} is not {KINDS.get(key, 'valid')}", FIXES.get(key, f"use only {allowed}")


def _problems(errors: list[Any], allowed: list[str]) -> tuple[str, str]:
    """Every problem of one validated block, unknown keys first, as one (problems, fixes) pair."""
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    problems: list[str] = []
    fixes: list[str] = []
    if unknown:
        problems.append(f"unknown keys {unknown}")
        fixes.append(f"use only {allowed}")
    for error in errors:
        if error["type"] == "extra_forbidden":
            continue
        problem, fix = _describe(error, allowed)
        if problem not in problems:
            problems.append(problem)
            if fix and fix not in fixes:
                fixes.append(fix)
    return "; ".join(problems), "; ".join(fixes)


def _resolve_url(raw: Any, base_dir: Path) -> Any:
    """A bare path (no scheme) is relative to the config file; URLs and non-strings pass through."""
    if not isinstance(raw, str) or not raw.strip():
        return raw
    raw = raw.strip()
    scheme = urlsplit(raw).scheme
    if scheme and not (len(scheme) == 1 and raw[1:3] in (":\\", ":/")):  # C:\feeds is a path
        return raw
    return (base_dir / raw).resolve().as_uri()


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_local_path(feed: FeedConfig, base_dir: Path) -> tuple[str, str] | None:
    """(problem, fix) when a local feed may not be read, else None.

    A local file must lie under the feeds file's folder unless the feed says
    ``allow_local: true``; system folders (devices, /proc, /etc) are refused either way.
    Symlinks are followed, so a link in the folder to /dev/zero counts as /dev/zero.
    """
    local = feed.local_path
    if local is None:
        return None
    resolved = local.resolve()
    for system in SYSTEM_DIRS:
        if _is_under(resolved, Path(system)):
            return (f"local path {resolved} is in the system folder {system}, which feeds may never read",
                    "point url at a feed file you saved elsewhere")
    if not feed.allow_local and not _is_under(resolved, base_dir.resolve()):
        return (f"local path {resolved} is outside the folder of this feeds file ({base_dir.resolve()})",
                "move the file into that folder, or add 'allow_local: true' to this feed if you trust it")
    return None


def parse_feeds_config(data: Any, path: Path) -> list[FeedConfig]:
    """Validate parsed YAML and return the feed list (pure apart from resolving local paths)."""
    if not isinstance(data, dict) or "feeds" not in data:
        raise _fail(path, "top level", "no 'feeds:' list found",
                    "start the file with 'feeds:' followed by '- name: ...' entries")
    try:
        top = FeedsFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["loc"] == ("defaults",) for e in errors):
            raise _fail(path, "defaults", "must be a mapping", "write 'defaults:' then 'key: value' lines") from None
        inner = [{**e, "loc": e["loc"][1:]} for e in errors if e["loc"][:1] == ("defaults",)]
        if inner:
            problem, fix = _problems(inner, sorted(FeedDefaults.model_fields))
            raise _fail(path, "defaults", problem, fix) from None
        if any(e["loc"][:1] == ("feeds",) for e in errors):
            raise _fail(path, "feeds", "must be a non-empty list",
                        "add at least one '- name: ... url: ...' entry") from None
        problem, fix = _problems(errors, sorted(FeedsFile.model_fields))
        raise _fail(path, "top level", problem, fix) from None
    defaults = top.defaults.model_dump(exclude_none=True) if top.defaults else {}
    if not top.feeds:
        raise _fail(path, "feeds", "must be a non-empty list", "add at least one '- name: ... url: ...' entry")
    allowed = sorted(FeedConfig.model_fields)
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(top.feeds, start=1):
        where = f"feed #{i}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "is not a mapping", "write each feed as '- name: ...' with 'url: ...' below it")
        if isinstance(entry.get("name"), str):
            where = f"feed #{i} ({entry['name']!r})"
        merged = {**defaults, **entry}
        if "url" in merged:
            merged["url"] = _resolve_url(merged["url"], path.parent)
        try:
            feed = FeedConfig.model_validate(merged)
        except ValidationError as exc:
            problem, fix = _problems(exc.errors(), allowed)
            raise _fail(path, where, problem, fix) from None
        if feed.name in seen:
            raise _fail(path, where, f"duplicate name (also feed #{seen[feed.name]})", "give every feed a unique name")
        seen[feed.name] = i
        refused = check_local_path(feed, path.parent)
        if refused:
            raise _fail(path, where, *refused)
        feeds.append(feed)
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
