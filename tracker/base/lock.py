"""An exclusive per-database write lock, so two ingests or nightly runs never write at once."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tracker.base.errors import LockError


def lock_path_for(db_path: Path) -> Path:
    """The lock file that guards ``db_path``."""
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def write_lock(db_path: Path, *, wait: float = 0.0) -> Iterator[Path]:
    """Hold the database's write lock; wait up to ``wait`` seconds, then raise LockError.

    flock() is released by the kernel when the process dies, so a killed run never
    leaves a stale lock behind.
    """
    path = lock_path_for(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    raise LockError(
                        f"another tracker process (pid {holder}) is writing to {db_path}. "
                        "Wait for it to finish, or pass --wait SECONDS to queue behind it."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock
