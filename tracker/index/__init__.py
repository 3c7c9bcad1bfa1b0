"""Stage 3, index: per-article narrative scores in, the daily narrative-intensity index out.

Pure functions compute the series from counts (:mod:`tracker.index.store` reads the
counts from the database and writes every intermediate figure back).
"""
