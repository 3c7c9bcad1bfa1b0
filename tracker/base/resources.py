"""Where packaged data and user data are found.

Packaged data (narratives, gazetteer, heads, event calendar, Datasette configuration,
report templates, sample feeds) ships inside the package and is found with
:mod:`importlib.resources`, so a wheel install works the same as a checkout. User data
(the database, reports, ``feeds.yaml``) is relative to the working directory or set by
the documented environment variables. A user may override any packaged model file by
putting a file of the same name under the models directory (``./models`` or
``TRACKER_MODELS``); files not found there come from the package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _as_path(traversable: object) -> Path:
    # Installed from a wheel or a checkout the package is a folder on disk; a zipped
    # install (not supported) would need importlib.resources.as_file.
    return Path(str(traversable))


def packaged_models_dir() -> Path:
    """The models folder shipped with the package (``models/`` in a checkout)."""
    return _as_path(files("tracker.models"))


def packaged(*parts: str) -> Path:
    """A file or folder shipped inside the ``tracker`` package, e.g. ``packaged("sample_feeds")``."""
    return _as_path(files("tracker").joinpath(*parts))


def model_file(models_dir: Path | None, relative: str | Path) -> Path:
    """The user's copy of a model file under ``models_dir`` if present, else the packaged one."""
    if models_dir is not None:
        candidate = Path(models_dir) / relative
        if candidate.exists():
            return candidate
    return packaged_models_dir() / relative


def sample_feeds() -> Path:
    """The bundled offline sample ``feeds.yaml`` (the demo's input)."""
    return packaged("sample_feeds", "feeds.yaml")
