"""Complete exports and honest counts where Datasette 0.65 would cut or stall silently.

An ASGI wrapper (registered by :mod:`tracker.serve.plugin`) answers two kinds of request
before Datasette sees them:

* a canned query's ``.csv`` (and ``.json?_shape=array``, which has no ``truncated`` flag):
  Datasette stops at ``max_returned_rows`` (3,000) without a word, and its ``_stream=1``
  works for tables only. Here the query runs with every row (and a longer time limit:
  an export is worth waiting for), written as CSV or a JSON array;
* a search of the articles table (``?_search=``): Datasette counts every match by
  joining them all to the articles (150 ms for a common word at 1M articles) before
  showing the first page. The count is skipped there (``_nocount=1``) and the page shows
  the full-text index's own count instead (:func:`search_count`, 20 ms), which is exact
  because the index holds every article.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette.utils import derive_named_parameters, escape_fts

DATABASE_NAME = "tracker"
#: Time an export may take (Datasette's default limit for a page is 1 s).
EXPORT_TIME_LIMIT_MS = 60_000
_CANNED = re.compile(rf"^/{DATABASE_NAME}/(?P<name>[A-Za-z0-9_]+)\.(?P<ext>csv|json)$")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]


async def _respond(send: Callable[[Any], Awaitable[None]], status: int, body: bytes,
                   content_type: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


async def export_canned(datasette: Any, name: str, ext: str, args: list[tuple[str, str]],
                        check: Callable[[dict[str, str]], None]) -> tuple[int, bytes, str] | None:
    """Every row of canned query ``name`` as CSV or a JSON array; None to let Datasette answer."""
    query = await datasette.get_canned_query(DATABASE_NAME, name, None)
    # Left to Datasette: unknown names, writes, and queries with an "allow" block (the
    # wrapper runs before Datasette knows who is asking, so it cannot check permissions).
    if query is None or query.get("write") or "allow" in query:
        return None
    db = datasette.get_database(DATABASE_NAME)
    values = dict(args)
    sql = query["sql"]
    params: dict[str, Any] = {}
    try:
        check(values)
    except sqlite3.Error as exc:
        return 400, f"{exc}\n".encode(), "text/plain; charset=utf-8"
    for param in await derive_named_parameters(db, sql):
        params[param] = None if param.startswith("_") else values.get(param, "")
    try:
        result = await db.execute(sql, params, truncate=False, custom_time_limit=EXPORT_TIME_LIMIT_MS)
    except Exception as exc:  # Datasette wraps SQLite's errors in its own classes
        return 400, f"The query failed: {exc}\n".encode(), "text/plain; charset=utf-8"
    columns = list(result.columns)
    if ext == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(tuple(r) for r in result.rows)
        return 200, out.getvalue().encode("utf-8"), "text/plain; charset=utf-8"
    body = json.dumps([dict(zip(columns, r, strict=True)) for r in result.rows], default=str)
    return 200, body.encode("utf-8"), "application/json; charset=utf-8"


def wrap(datasette: Any, check: Callable[[dict[str, str]], None]) -> Callable[[ASGIApp], ASGIApp]:
    """The ASGI wrapper described in the module docstring."""

    def wrapper(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Callable[[], Awaitable[Any]],
                          send: Callable[[Any], Awaitable[None]]) -> None:
            if scope.get("type") != "http" or scope.get("method") != "GET":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            keys = {k for k, _ in args}
            match = _CANNED.match(path)
            if match and (match["ext"] == "csv" or dict(args).get("_shape") == "array"):
                answer = await export_canned(datasette, match["name"], match["ext"], args, check)
                if answer is not None:
                    status, body, content_type = answer
                    extra = []
                    if dict(args).get("_dl") and status == 200:
                        extra.append((b"content-disposition",
                                      f'attachment; filename="{match["name"]}.{match["ext"]}"'.encode()))
                        content_type = "text/csv; charset=utf-8" if match["ext"] == "csv" else content_type
                    await _respond(send, status, body, content_type, extra)
                    return
            if (path.split(".")[0] == f"/{DATABASE_NAME}/articles" and plain_search(args)
                    and "_nocount" not in keys):
                scope = dict(scope)
                scope["query_string"] = urlencode([*args, ("_nocount", "1")]).encode()
            await app(scope, receive, send)

        return wrapped

    return wrapper


def plain_search(args: list[tuple[str, str]]) -> bool:
    """True for a table search with no other filter: the FTS index alone can count it."""
    keys = {k for k, _ in args}
    if "_search" not in keys or "_stream" in keys:
        return False
    filters = [k for k in keys if not k.startswith("_") or "__" in k
               or k.startswith(("_where", "_filter", "_search_"))]
    return not filters


async def search_count(datasette: Any, args: list[tuple[str, str]]) -> int | None:
    """Articles a plain table search matches (the FTS index's count); None if not plain or invalid."""
    if not plain_search(args):
        return None
    values = dict(args)
    text = values.get("_search", "")
    # The table's own search escapes the words unless ?_searchmode=raw: count the same.
    expr = text if values.get("_searchmode") == "raw" else escape_fts(text)
    db = datasette.get_database(DATABASE_NAME)
    try:
        result = await db.execute(
            "select count(*) from articles_fts where articles_fts match :q", {"q": expr})
    except Exception:  # an unbalanced quote: Datasette shows its own message
        return None
    return int(result.rows[0][0])
