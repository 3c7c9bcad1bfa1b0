"""Fixtures shared by the serve tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop per test module: Datasette's locks bind to the loop that first uses them."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()
