"""A real `tracker serve` process on a loopback port, for the tests that need one."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.paths import REPO
from tracker.serve.server import DATABASE_NAME, build_datasette


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_serve(db: Path, *args: str, env: Mapping[str, str] | None = None, ready: str = "/",
               timeout: float = 30) -> Iterator[str]:
    """Start `tracker --db DB serve --port P ARGS`, wait until ``ready`` answers 200, yield
    the base URL, and stop the server afterwards (terminate, then kill)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(db), "serve", "--port", str(port), *args],
        cwd=REPO, env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(url + ready, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"tracker serve did not come up on {url}: {output}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Client:
    """Synchronous calls into Datasette's in-process client."""

    def __init__(self, datasette: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.ds, self.loop = datasette, loop

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.loop.run_until_complete(self.ds.client.get(path, params=params))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.ds.client.post(path, **kwargs))

    def rows(self, query: str, **params: str) -> list[dict[str, Any]]:
        """Rows of a canned query as dicts; fails the test on any error."""
        response = self.get(f"/{DATABASE_NAME}/{query}.json", _shape="array", **params)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows


@contextmanager
def canned_rows(db: Path) -> Iterator[Callable[..., list[dict[str, Any]]]]:
    """In-process Datasette over ``db``: yields :meth:`Client.rows` (a canned query's rows)."""
    loop = asyncio.new_event_loop()
    try:
        yield Client(build_datasette(db), loop).rows
    finally:
        loop.close()
