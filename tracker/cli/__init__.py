"""The ``tracker`` command line: a thin click group over the library.

Each command builds settings, calls one library function and turns a
:class:`~tracker.base.errors.TrackerError` into a clear message and exit status.
``app`` holds the group and what every command shares; the command modules register
their commands on it when imported here.
"""

from tracker.cli import collect, learning, measure, publish
from tracker.cli.app import FiniteFloat, cli, handle_errors, plural

__all__ = ["FiniteFloat", "cli", "collect", "handle_errors", "learning", "measure", "plural", "publish"]
