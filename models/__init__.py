"""Packaged model data (narratives, gazetteer, heads, event calendar); data only, no code.

Installed as ``tracker.models`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml)
and read with :func:`tracker.base.resources.model_file`.
"""
