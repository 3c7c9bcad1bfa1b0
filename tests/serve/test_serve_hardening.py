"""`tracker serve` against hostile input: foreign files, read-only storage, absent hosts,
an installed third-party plugin, sloppy canned-query parameters, the porter FTS migration.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tests.paths import REPO
from tests.serve.live import free_port, live_serve
from tests.serve.test_serve import DAYS, LAST_DAY, Client, day, make_tracker_db
from tracker.base.db import connect, migrate
from tracker.base.migrations import MIGRATIONS
from tracker.cli import cli
from tracker.serve.server import DATABASE_NAME, build_datasette, check_database


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, loop: asyncio.AbstractEventLoop) -> Client:
    path = tmp_path_factory.mktemp("hardening") / "tracker.db"
    make_tracker_db(path)
    return Client(build_datasette(path), loop)


# --- the file ------------------------------------------------------------------------------


def test_a_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = CliRunner().invoke(cli, ["--db", str(other), "serve", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "not a tracker database" in result.output and "notes" in result.output
    assert other.read_bytes() == before  # not migrated into a tracker database
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


@pytest.mark.parametrize("content,message", [
    (b"", "empty database"),
    (b"hello, this is not SQLite at all" * 40, "Cannot read"),
])
def test_empty_and_non_sqlite_files_are_refused(tmp_path: Path, content: bytes,
                                                message: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["--db", str(path), "serve", "--port", str(free_port())])
    assert result.exit_code == 2 and message in result.output, result.output
    assert path.read_bytes() == content


#: Python as root cannot be kept out of a folder by its mode bits; the child imports as root
#: (the interpreter lives under /root) and then becomes nobody before it opens the database.
DROP_ROOT = """
import os, pwd
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
"""


def test_a_database_on_read_only_storage_is_served(tmp_path: Path) -> None:
    store = tmp_path / "ro"
    store.mkdir()
    path = store / "tracker.db"
    make_tracker_db(path)
    assert sorted(p.name for p in store.iterdir()) == ["tracker.db"]  # WAL closed cleanly
    before = path.read_bytes()
    path.chmod(0o444)
    store.chmod(0o555)
    for parent in (tmp_path, *tmp_path.parents):  # let nobody reach the folder
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    script = textwrap.dedent(f"""
        import asyncio, json
        import datasette.app, datasette.views.database, datasette.views.table
        from tracker.serve.server import build_datasette, check_database
        {textwrap.indent(DROP_ROOT, "        ").strip()}
        check = check_database({str(path)!r})
        ds = build_datasette({str(path)!r}, check=check)
        async def main():
            r = await ds.client.get("/tracker/narratives_on_day.json?_shape=array&day=")
            print(json.dumps({{"immutable": check.immutable, "status": r.status_code,
                              "rows": len(r.json())}}))
        asyncio.run(main())
    """)
    try:
        result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                                text=True, timeout=120, check=False)
    finally:
        store.chmod(0o755)
        path.chmod(0o644)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"immutable": True, "status": 200, "rows": 3}
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.iterdir()) == ["tracker.db"]


def test_a_writable_database_is_opened_read_only_not_immutable(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    make_tracker_db(path)
    check = check_database(path)
    assert not check.immutable and check.pending == ()


# --- the socket ---------------------------------------------------------------------------


# --- an installed third-party plugin ---------------------------------------------------------

PLUGIN = '''
from datasette import hookimpl
from datasette.utils.asgi import Response


async def tiny(datasette):
    db = datasette.get_database("tracker")
    feeds = (await db.execute("select count(*) from feeds")).rows[0][0]
    try:
        await db.execute_write("delete from feeds")
        write = "written"
    except Exception as exc:
        write = f"{type(exc).__name__}: {exc}"
    return Response.json({"feeds": feeds, "write": write})


@hookimpl
def register_routes():
    return [(r"^/-/tiny$", tiny)]
'''


def test_an_installed_datasette_plugin_is_loaded_and_cannot_write(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "tiny_tracker_test_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = site / "tiny_tracker_test_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-tracker-test-plugin\n"
                                   "Version: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[datasette]\ntiny = tiny_tracker_test_plugin\n",
                                           encoding="utf-8")
    path = tmp_path / "tracker.db"
    make_tracker_db(path)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    with live_serve(path, env=env, ready="/-/plugins.json", timeout=60) as url:
        names = [p["name"] for p in httpx.get(url + "/-/plugins.json").json()]
        assert "tiny-tracker-test-plugin" in names and "tracker.serve.plugin" in names
        tiny = httpx.get(url + "/-/tiny")
        assert tiny.status_code == 200, tiny.text
        body = tiny.json()
        assert body["feeds"] == 5
        assert "readonly" in body["write"]  # SQLite refused the plugin's write
        # POST stays open to plugins (login forms, GraphQL ...); the tracker's pages still work.
        assert httpx.get(url + "/tracker/top_movers.json?_shape=array").status_code == 200
    assert path.read_bytes() == before


# --- canned-query parameters ---------------------------------------------------------------


def test_ids_in_any_case_and_with_stray_spaces(client: Client) -> None:
    exact = client.rows("narrative_articles", narrative="rates", day=LAST_DAY)
    assert exact
    for sloppy in ("RATES", "  rates ", "Rates\t", " rate CUTS "):
        assert client.rows("narrative_articles", narrative=sloppy, day=f" {LAST_DAY} ") == exact
    ranged = client.rows("narrative_index_range", narrative=" Rates ", start=day(3), end=day(5))
    assert len(ranged) == 3
    timeline = client.rows("entity_timeline", entity=" FED ", start="", end="")
    assert sum(r["articles"] for r in timeline) == 3
    assert client.rows("narrative_entities", narrative="AI_CAPEX", start="", end="")
    assert len(client.rows("failed_feeds", days=" 1 ", as_of=" ")) == 1


@pytest.mark.parametrize("query,params,name", [
    ("narrative_index_range", {"narrative": "", "start": "2026-13-01", "end": ""}, "start"),
    ("narrative_index_range", {"narrative": "", "start": "", "end": "yesterday"}, "end"),
    ("narratives_on_day", {"day": "2026/01/05"}, "day"),
    ("top_movers", {"week_ending": "2026-01-32"}, "week_ending"),
    ("narrative_articles", {"narrative": "rates", "day": "21 Jan"}, "day"),
    ("entity_timeline", {"entity": "fed", "start": "2026-1-5", "end": ""}, "start"),
    ("failed_feeds", {"days": "seven", "as_of": ""}, "days"),
    ("silent_feeds", {"days": "3", "as_of": "noon"}, "as_of"),
])
def test_a_bad_day_is_a_message_not_zero_rows(client: Client, query: str,
                                              params: dict[str, str], name: str) -> None:
    response = client.get(f"/{DATABASE_NAME}/{query}.json", **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(f"{name} = ") and ("YYYY-MM-DD" in error or "whole number" in error)
    page = client.get(f"/{DATABASE_NAME}/{query}", **params)
    assert (page.status_code == 400 and "YYYY-MM-DD" in page.text) or "whole number" in page.text
    assert "<form" in page.text  # the form stays, so the value can be fixed


def test_good_days_still_work_and_defaults_stay(client: Client) -> None:
    assert len(client.rows("narratives_on_day", day=day(DAYS - 7))) == 3
    assert len(client.rows("silent_feeds", days="", as_of=LAST_DAY + "T06:00:00Z")) == 2


# --- full-text search: the porter migration -------------------------------------------------


def test_fts_migration_rebuilds_with_porter_stemming(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = connect(path)
    migrate(conn, [m for m in MIGRATIONS if m[0] < "0050"])  # a database from before 0050
    conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'u', 'now')")
    titles = ["Stablecoins gain ground", "A stablecoin law passes", "Rates unchanged"]
    for i, title in enumerate(titles, 1):
        conn.execute("INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, "
                     "content_hash) VALUES (?, 1, ?, ?, '2026-01-01', 'now', ?)",
                     (i, f"k{i}", title, f"h{i}"))

    def search(word: str) -> list[int]:
        return [r[0] for r in conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", (word,))]

    assert search("stablecoin") == [2]  # before: the plural is another word
    assert migrate(conn) == [m[0] for m in MIGRATIONS if m[0] >= "0050"]
    assert search("stablecoin") == [1, 2] and search("stablecoins") == [1, 2]
    assert search("rate") == [3]
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    # The triggers keep it in step with inserts, edits and deletes.
    conn.execute("UPDATE articles SET title = 'Rate cut' WHERE id = 1")
    conn.execute("DELETE FROM articles WHERE id = 2")
    assert search("stablecoin") == [] and search("rate") == [1, 3]
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    conn.close()


def test_search_query_finds_other_forms_of_a_word(client: Client) -> None:
    # The fixture says "rates" in article 3's summary and "rate" in 1 and 2's headlines.
    assert sorted(r["article_id"] for r in client.rows("search_articles", q="RATES")) == [1, 2, 3]


