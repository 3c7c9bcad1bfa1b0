"""An exclusive per-database write lock, so two ingests or nightly runs never write at once.

filelock takes an ``flock`` on ``<database>.lock``; the kernel releases it when the
process dies, so a killed run never leaves a stale lock behind. The holder writes its
pid into the file so a refused writer can say who holds it.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from tracker.base.errors import LockError

#: Seconds between attempts while ``--wait`` queues behind another writer.
POLL_SECONDS = 0.2


def lock_path_for(db_path: Path) -> Path:
    """The lock file that guards ``db_path``: beside the real file, symlinks resolved, so two
    paths to one database (a symlink, a relative and an absolute path) share one lock."""
    real = Path(os.path.realpath(db_path))
    return real.with_name(real.name + ".lock")


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)


def _holder(path: Path) -> str:
    with suppress(OSError):
        return path.read_text(encoding="ascii", errors="replace").strip() or "unknown"
    return "unknown"


def _unusable(path: Path, exc: OSError) -> LockError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = (f"make {path.parent} writable for this user (or point --db / TRACKER_DB at a database "
               "on writable storage); to only read a database, use `tracker serve`")
    else:
        fix = "check the folder exists and is on a local file system, or point --db at another path"
    return LockError(f"cannot create or open the lock file {path} ({reason}). Fix: {fix}")


@contextmanager
def write_lock(db_path: Path, *, wait: float = 0.0) -> Iterator[Path]:
    """Hold the database's write lock; wait up to ``wait`` seconds, then raise LockError."""
    if math.isnan(wait) or wait < 0:
        raise LockError(f"--wait must be a number of seconds >= 0, not {wait}. Fix: e.g. --wait 600")
    path = lock_path_for(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(path, exc) from exc
    # preserve_lock_file: the file stays between runs, so every writer locks the same inode.
    lock = FileLock(path, timeout=wait, thread_local=False, preserve_lock_file=True, on_acquired=_write_pid)
    try:
        lock.acquire(timeout=wait, poll_interval=POLL_SECONDS)
    except Timeout:
        raise LockError(
            f"another tracker process (pid {_holder(path)}) is writing to {db_path}. "
            "Wait for it to finish, or pass --wait SECONDS to queue behind it."
        ) from None
    except OSError as exc:
        raise _unusable(path, exc) from exc
    try:
        yield path
    finally:
        lock.release()
