"""Exceptions the CLI turns into clear messages (cause and fix)."""


class TrackerError(Exception):
    """Base error: its message says what went wrong and how to fix it."""


class ConfigError(TrackerError):
    """A configuration file is missing or invalid."""


class LockError(TrackerError):
    """Another tracker process holds the write lock."""


class ModelError(TrackerError):
    """A model (spaCy, embeddings, trained head) is missing or unusable."""
