"""``/-/alerts.atom``: the alerts feed served live from the database (same as the written file)."""

from __future__ import annotations

import sqlite3
from typing import Any

from datasette.utils.asgi import Response

from tracker.report.alerts import RECENT_SQL, atom_feed

#: Entries in the served feed.
FEED_ENTRIES = 50


async def alerts_atom(datasette: Any, request: Any) -> Response:
    """The newest alerts as Atom; an empty feed for a database without alerts yet."""
    db = datasette.get_database("tracker")
    try:
        result = await db.execute(RECENT_SQL, [FEED_ENTRIES])
        rows = [tuple(r) for r in result.rows]
    except sqlite3.OperationalError:  # a database from before migration 0100 has no alerts table
        rows = []
    body = atom_feed(rows, self_url=datasette.absolute_url(request, "/-/alerts.atom"))
    return Response(body, content_type="application/atom+xml; charset=utf-8")
