"""feeds.yaml validation: good files load, bad ones name the file, the feed and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.base.errors import ConfigError
from tracker.ingest.feeds import load_feeds_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_feeds_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write(tmp_path, """
defaults:
  poll_minutes: 30
feeds:
  - name: wire
    url: https://example.com/rss
    tags: [markets]
  - name: local
    url: samples/local.xml
    poll_minutes: 5
    enabled: false
""")
    wire, local = load_feeds_config(path)
    assert (wire.name, wire.url, wire.tags, wire.poll_minutes, wire.enabled) == (
        "wire", "https://example.com/rss", ("markets",), 30, True)
    assert local.url == (tmp_path / "samples" / "local.xml").resolve().as_uri()
    assert (local.poll_minutes, local.enabled) == (5, False)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("feeds: []", "non-empty list"),
        ("- a\n- b", "no 'feeds:' list"),
        ("feeds:\n  - name: a\n", "url is missing"),
        ("feeds:\n  - name: Bad Name\n    url: http://x\n", "name 'Bad Name'"),
        ("feeds:\n  - {name: a, url: 'http://x'}\n  - {name: a, url: 'http://y'}\n", "duplicate name"),
        ("feeds:\n  - {name: a, url: 'ftp://x'}\n", "unsupported URL scheme"),
        ("feeds:\n  - {name: a, url: 'http://x', colour: red}\n", "unknown keys ['colour']"),
        ("feeds:\n  - {name: a, url: 'http://x', poll_minutes: -3}\n", "poll_minutes -3"),
        ("feeds:\n  - name: a\n   url: x\n", "invalid YAML"),
    ],
)
def test_bad_config_names_file_feed_and_fix(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_feeds_config(path)
    message = str(info.value)
    assert str(path) in message and needle in message
    assert "Fix:" in message


def test_missing_file_suggests_the_sample(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sample_feeds/feeds\.yaml"):
        load_feeds_config(tmp_path / "absent.yaml")
