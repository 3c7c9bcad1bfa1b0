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


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # A typo at the top level used to be ignored: the feeds under it silently did nothing.
        ("feed:\n  - {name: a, url: 'http://x'}\nfeeds:\n  - {name: b, url: 'http://y'}\n",
         "top level: unknown keys ['feed']"),
        ("defaults:\n  colour: red\nfeeds:\n  - {name: a, url: 'http://x'}\n", "defaults: unknown keys ['colour']"),
        ("defaults: 3\nfeeds:\n  - {name: a, url: 'http://x'}\n", "defaults: must be a mapping"),
        ("feeds: 3\n", "must be a non-empty list"),
        # Used to say "url is missing".
        ("feeds:\n  - {name: a, url: 12345}\n", "url 12345 is not text"),
        # Used to be accepted until fetch time.
        ("feeds:\n  - {name: a, url: 'http://'}\n", "url 'http://' has no host"),
        ("feeds:\n  - {name: a, url: 'https://:443/rss'}\n", "has no host"),
        ("feeds:\n  - {name: a, url: 'http://x:99999/'}\n", "bad port"),
        ("feeds:\n  - {name: a, url: 'file://otherhost/feed.xml'}\n", "names another host"),
        # Used to be stored as "['a', 'b']".
        ("feeds:\n  - {name: a, url: 'http://x', title: [a, b]}\n", "title ['a', 'b'] is not text"),
        ("feeds:\n  - {name: a, url: 'http://x', enabled: maybe}\n", "enabled 'maybe' is not true/false"),
        ("feeds:\n  - {name: a, url: 'http://x', tags: [1, 2]}\n", "tags must be a list of strings"),
        ("feeds:\n  - {name: a, url: 'http://x', fulltext: sometimes}\n", "fulltext 'sometimes' is not true/false"),
        ("feeds:\n  - {name: a, url: 'http://x', allow_local: 1}\n", "allow_local 1 is not true/false"),
    ],
)
def test_shape_errors_are_caught_at_load_time(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_feeds_config(path)
    message = str(info.value)
    assert str(path) in message and needle in message and "Fix:" in message


def test_several_problems_of_one_feed_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - {name: a, url: 'http://x', poll_minutes: 1.5, enabled: maybe}\n")
    with pytest.raises(ConfigError) as info:
        load_feeds_config(path)
    assert "poll_minutes 1.5" in str(info.value) and "enabled 'maybe'" in str(info.value)


def test_fulltext_and_allow_local_are_optional_per_feed_fields(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "feed.xml"
    outside.parent.mkdir()
    outside.write_text("<rss/>")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    path = write(config_dir, f"""
defaults:
  fulltext: true
feeds:
  - {{name: wire, url: 'https://example.com/rss'}}
  - {{name: quiet, url: 'https://example.com/q', fulltext: false}}
  - {{name: far, url: '{outside}', allow_local: true}}
""")
    wire, quiet, far = load_feeds_config(path)
    assert (wire.fulltext, quiet.fulltext, far.fulltext) == (True, False, True)
    assert (wire.allow_local, far.allow_local) == (False, True)
    assert far.url == outside.resolve().as_uri() and far.local_path == outside.resolve()


def test_local_paths_only_under_the_feeds_folder_or_with_allow_local(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    (config_dir / "sub").mkdir(parents=True)
    (tmp_path / "outside.xml").write_text("<rss/>")
    (config_dir / "sub" / "inside.xml").write_text("<rss/>")
    # Inside the folder: a relative path, a file URL, a path through '..' that stays inside.
    path = write(config_dir, "feeds:\n  - {name: a, url: sub/inside.xml}\n"
                             f"  - {{name: b, url: '{(config_dir / 'sub' / 'inside.xml').as_uri()}'}}\n"
                             "  - {name: c, url: sub/../sub/inside.xml}\n")
    assert len(load_feeds_config(path)) == 3
    for url in ("../outside.xml", str(tmp_path / "outside.xml"), (tmp_path / "outside.xml").as_uri()):
        path = write(config_dir, f"feeds:\n  - {{name: a, url: '{url}'}}\n")
        with pytest.raises(ConfigError, match=r"outside the folder of this feeds file.*allow_local: true"):
            load_feeds_config(path)
    # A symlink inside the folder is judged by where it points.
    (config_dir / "link.xml").symlink_to(tmp_path / "outside.xml")
    path = write(config_dir, "feeds:\n  - {name: a, url: link.xml}\n")
    with pytest.raises(ConfigError, match="outside the folder"):
        load_feeds_config(path)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "/dev/zero", "file:///proc/self/environ",
                                 "link-to-dev-zero"])
def test_system_files_are_never_feeds_even_with_allow_local(tmp_path: Path, url: str) -> None:
    (tmp_path / "link-to-dev-zero").symlink_to("/dev/zero")
    for allow in ("false", "true"):
        path = write(tmp_path, f"feeds:\n  - {{name: a, url: '{url}', allow_local: {allow}}}\n")
        with pytest.raises(ConfigError, match="system folder") as info:
            load_feeds_config(path)
        assert "Fix:" in str(info.value)
