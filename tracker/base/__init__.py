"""Floor 0, used by every stage: settings, errors, the SQLite database and its
append-only migrations, the write lock and where packaged and user data are found.

Takes nothing from the other stages and imports none of them.
"""
