"""Stage 4, serve: the database in, a read-only Datasette site out (canned queries, charts).
"""
