"""Stage 1, ingest: feeds configuration (``feeds.yaml``) in, stored articles out.

Fetches RSS/Atom feeds (conditional GET, size and time limits, retries), or replays
archived snapshot files; parses them with feedparser (bad input becomes data: a failed or
partial fetch row), normalises dates, URLs and text, de-duplicates and stores one row per
distinct item together with its ``fetches`` row. Then, for feeds that allow it, fetches
each new article's page politely and stores its main text (``fulltext``: ``articles``
with a link in, ``content_text`` with status, length, hash and extractor version out);
``health`` reports each feed's health from the database.
"""
