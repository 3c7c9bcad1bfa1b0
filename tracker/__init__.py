"""Narrative Tracker: turn financial news feeds into a measured record of market narratives."""

__version__ = "0.1.0"
