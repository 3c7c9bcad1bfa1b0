"""Enrichment on Ray: the stages' ``process`` runs in a pool of Ray actors, one writer commits.

Same input, same output as :func:`tracker.enrich.runner.enrich_pending`, spread over
the CPUs of a Ray cluster (or a local Ray runtime). Per stage, one Ray Data pipeline:

1. **Read** (one Ray Data read task, pinned to the driver's node because only that
   node has the SQLite file; :class:`PendingReader`): the pending articles in the
   same keyset-paginated batches as the local engine, opened read-only. For a
   :class:`~tracker.enrich.runner.CachedStage` it also looks up the batch's cache
   keys (the narratives stage: embedding vectors already stored) and marks the keys
   an earlier, not yet committed batch of this run will store (``in_flight``).
2. **Process** (``map_batches`` over an actor pool, one CPU each; :class:`StageWorker`):
   each actor unpickles the driver's stage once, loads its models once (spaCy and
   the gazetteer, or the embedding model and the narratives), and runs the pure
   ``process`` (or ``process_cached``) on each batch. Actors never touch the database.
3. **Write** (the driver; :class:`BatchWriter`): results come back in batch order and
   are committed with :func:`~tracker.enrich.runner.write_batch`, the local engine's
   own writer: one transaction per batch with its ``enrichments`` rows and the
   versions the driver computed (a worker whose models give another version is
   refused). So rows, row ids and versions equal the local engine's, and killing
   the driver loses at most the batches not yet committed: a re-run finds them
   pending and completes them.

What travels: the stage definitions (gazetteer, narratives, head) once per actor,
article text and cached vectors out, result rows and new vectors back. The models
come from the packages installed on each worker (``pip install narrative-tracker[ray]``).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import sqlite3
import time
import warnings
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from tracker.base.errors import TrackerError
from tracker.enrich.runner import (
    DEFAULT_BATCH_SIZE,
    CachedStage,
    EnrichSummary,
    Stage,
    StageSummary,
    count_pending,
    iter_pending,
    progressbar,
    start_stage,
    write_batch,
)

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "The Ray engine needs Ray Data, which is not installed. Install it with "
    "`pip install 'narrative-tracker[ray]'` (in a checkout: `pip install -e '.[ray]'`), "
    "or run without --engine ray."
)
#: Object store of a local runtime: batches are small and backpressured, so a modest cap
#: keeps a shared machine's memory free (a cluster keeps its own setting).
LOCAL_OBJECT_STORE_BYTES = 512 * 1024 * 1024


def require_ray() -> Any:
    """The ``ray`` module with Ray Data, or a TrackerError saying how to install it."""
    try:
        import ray
        import ray.data  # the engine needs the Data library, not just core
    except ImportError as exc:
        raise TrackerError(f"{INSTALL_HINT} ({exc})") from exc
    return ray


@dataclass(frozen=True)
class RayOptions:
    """Where to run: an existing cluster (``address``) or a local runtime, and how many actors."""

    address: str | None = None
    #: Actors per stage (one CPU each); default: the local runtime's CPUs, or the cluster's.
    workers: int | None = None


# --- The three parts, plain Python (tested without Ray) ---


@dataclass
class BatchIn:
    """One batch on its way to a worker."""

    seq: int
    ids: list[int]
    texts: list[str]
    cached: dict[str, Any] = field(default_factory=dict)
    in_flight: frozenset[str] = frozenset()
    #: CPU seconds the reader's thread spent on this batch (query, texts, cache look-up).
    read_cpu: float = 0.0


@dataclass
class BatchOut:
    """One batch's results on their way to the writer."""

    seq: int
    ids: list[int]
    results: Sequence[Any]
    #: Cache entries this batch computed and owns (see CachedStage.process_cached).
    new_cache: dict[str, Any]
    #: The stage version as the worker computes it with the models it loaded.
    version: str
    worker: str
    read_cpu: float = 0.0
    process_cpu: float = 0.0
    process_wall: float = 0.0
    #: Seconds the worker took to start (unpickle, load models); only on its first batch.
    startup: float = 0.0
    #: Entries the worker computed at start-up (the narratives' anchors); only on its first batch.
    warm_cache: dict[str, Any] = field(default_factory=dict)
    #: Why the worker could not process the batch (a TrackerError's message), if it could not.
    error: str | None = None
    #: Size of the batch as it travelled to the worker (pickled), for the data-volume figures.
    bytes_in: int = 0


def read_only(db_path: str) -> sqlite3.Connection:
    """A read-only connection: the reader never writes, whatever a stage does."""
    return sqlite3.connect(f"file:{quote(db_path)}?mode=ro", uri=True, timeout=30.0)


class PendingReader:
    """Yields the pending batches of one stage, as the local engine selects them.

    Runs where the database is. Keys an earlier batch of this run will store are
    tracked in a window that drops batches once committed (commits come in order),
    so it holds only the batches in flight.
    """

    def __init__(self, db_path: str, stage_blob: bytes, *, version: str,
                 batch_size: int = DEFAULT_BATCH_SIZE, limit: int | None = None,
                 max_ahead: int | None = None, poll: float = 0.02,
                 max_sentences: int | None = None) -> None:
        """Read for the pickled stage at ``version`` from the database at ``db_path``.

        With ``max_ahead``, batch k is read only once batch k - max_ahead is committed:
        memory in flight stays bounded and fewer keys are in flight.
        """
        self.db_path = db_path
        self.stage_blob = stage_blob
        self.version = version
        self.batch_size = batch_size
        self.limit = limit
        self.max_sentences = max_sentences
        self.max_ahead = max_ahead
        self.poll = poll

    def __iter__(self) -> Iterator[BatchIn]:
        """Batches in article id order, each with its cache look-up."""
        from ray import cloudpickle

        stage: Stage = cloudpickle.loads(self.stage_blob)
        cached_stage = stage if isinstance(stage, CachedStage) else None
        conn = read_only(self.db_path)
        window: deque[tuple[int, list[str]]] = deque()  # (first article id, keys it owns)
        owners: Counter[str] = Counter()
        ahead: deque[int] = deque()  # first article id of each batch read and not seen committed
        try:
            # Thread CPU (sleeps excluded): this loop is one serial thread, the reader's limit.
            clock = time.thread_time()
            for seq, batch in enumerate(iter_pending(conn, stage.name, self.version,
                                                     batch_size=self.batch_size, limit=self.limit,
                                                     max_sentences=self.max_sentences)):
                item = BatchIn(seq, [aid for aid, _ in batch], [text for _, text in batch])
                if self.max_ahead is not None:
                    while len(ahead) >= self.max_ahead:
                        if self._committed(conn, stage.name, ahead[0]):
                            ahead.popleft()
                        else:
                            time.sleep(self.poll)
                    ahead.append(item.ids[0])
                if cached_stage is not None:
                    # Drop committed batches first, then look up: a key committed in
                    # between is found, one still pending stays in flight.
                    while window and self._committed(conn, stage.name, window[0][0]):
                        for key in window.popleft()[1]:
                            owners[key] -= 1
                            if owners[key] <= 0:
                                del owners[key]  # the window holds only batches in flight
                    keys = list(dict.fromkeys(cached_stage.cache_keys(item.texts)))
                    item.cached = cached_stage.cache_get(conn, keys)
                    missing = [k for k in keys if k not in item.cached]
                    item.in_flight = frozenset(k for k in missing if owners[k] > 0)
                    owned = [k for k in missing if owners[k] <= 0]
                    if owned:
                        window.append((item.ids[0], owned))
                        owners.update(owned)
                item.read_cpu = time.thread_time() - clock
                yield item
                clock = time.thread_time()
        finally:
            conn.close()

    def _committed(self, conn: sqlite3.Connection, stage: str, article_id: int) -> bool:
        row = conn.execute(
            "SELECT 1 FROM enrichments WHERE article_id = ? AND stage = ? AND version = ?",
            (article_id, stage, self.version),
        ).fetchone()
        return row is not None


class StageWorker:
    """A worker's copy of one stage: models loaded once, ``process`` on each batch.

    A :class:`TrackerError` (a model missing on this node, an unreadable input) is
    returned as the batch's ``error`` rather than raised, so the writer stops at that
    batch with the message, after committing every batch before it, as the local engine does.
    """

    def __init__(self, stage_blob: bytes, warm: dict[str, Any] | None) -> None:
        """Unpickle the stage and load its models (for a CachedStage, seeded with ``warm``)."""
        from ray import cloudpickle

        start = time.perf_counter()
        self.name = f"{os.uname().nodename}:{os.getpid()}"
        self.warm_new: dict[str, Any] = {}
        self.version = ""
        self.error: str | None = None
        try:
            self.stage: Stage = cloudpickle.loads(stage_blob)
            if isinstance(self.stage, CachedStage):
                _, self.warm_new = self.stage.process_cached([], warm or {}, frozenset())
            else:
                self.stage.process([])  # loads the models now rather than on the first batch
            self.version = self.stage.version
        except (TrackerError, ImportError) as exc:
            self.error = _install_hint(exc) if isinstance(exc, ImportError) else str(exc)
        self.startup = time.perf_counter() - start

    def run(self, batch: BatchIn) -> BatchOut:
        """Results for one batch (and, on the first, what the start-up computed)."""
        wall, cpu = time.perf_counter(), time.process_time()
        results: Sequence[Any] = []
        new: dict[str, Any] = {}
        error = self.error
        if error is None:
            try:
                if isinstance(self.stage, CachedStage):
                    results, new = self.stage.process_cached(batch.texts, batch.cached,
                                                             batch.in_flight)
                else:
                    results = self.stage.process(batch.texts)
            except TrackerError as exc:
                error = str(exc)
        out = BatchOut(batch.seq, batch.ids, results, new, self.version, self.name,
                       read_cpu=batch.read_cpu, process_cpu=time.process_time() - cpu,
                       process_wall=time.perf_counter() - wall, startup=self.startup,
                       warm_cache=self.warm_new, error=error)
        self.startup, self.warm_new = 0.0, {}
        return out


def _install_hint(exc: BaseException | str) -> str:
    return (
        f"cannot import what the tracker needs ({exc}): install the same narrative-tracker "
        "version with its models on every node (`pip install 'narrative-tracker[ray]'`)."
    )


class BatchWriter:
    """The single writer: checks each batch and commits it as the local engine does."""

    def __init__(self, conn: sqlite3.Connection, stage: Stage, summary: StageSummary) -> None:
        """Write ``stage``'s batches into ``conn``, counting into ``summary``."""
        self.conn = conn
        self.stage = stage
        self.summary = summary
        self.next_seq = 0
        self.done: set[int] = set()
        self.workers: set[str] = set()
        self._warm_written = False

    def write(self, out: BatchOut) -> None:
        """Commit one batch (batches must come in order)."""
        if out.seq != self.next_seq:
            raise RuntimeError(f"batch {out.seq} arrived before batch {self.next_seq}")
        if out.error is not None:
            raise TrackerError(f"On a Ray worker ({out.worker}): {out.error}")
        if out.version != self.summary.version:
            raise TrackerError(
                f"Worker {out.worker} runs stage {self.stage.name} at version {out.version}, "
                f"this machine at {self.summary.version}: install the same narrative-tracker, "
                "spaCy model and embedding model versions on every Ray node."
            )
        wall, cpu = time.perf_counter(), time.thread_time()
        new = out.new_cache
        if out.warm_cache and not self._warm_written:
            # Every actor computes the same start-up entries from the same inputs, as the
            # local engine does once; the first copy is written with this batch.
            new = {**out.warm_cache, **new}
            self._warm_written = True
        self.summary.add_rows(write_batch(self.conn, self.stage, self.summary.version,
                                          out.ids, out.results, new))
        self.summary.add_seconds("write", time.perf_counter() - wall)
        self.summary.add_seconds("write_cpu", time.thread_time() - cpu)
        self.summary.add_seconds("read_cpu", out.read_cpu)
        self.summary.add_seconds("process_cpu", out.process_cpu)
        self.summary.add_seconds("process_wall", out.process_wall)
        if out.startup:
            self.summary.seconds["worker_startup_max"] = max(
                self.summary.seconds.get("worker_startup_max", 0.0), out.startup)
        self.summary.articles += len(out.ids)
        self.done.update(out.ids)
        self.workers.add(out.worker)
        self.next_seq += 1


# --- Ray Data wiring ---


def _datasource(reader: PendingReader) -> Any:
    """A Ray Data source of one read task that streams ``reader``'s batches, one block each."""
    import pyarrow as pa
    from ray import cloudpickle
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class PendingArticles(Datasource):
        """Pending articles of one stage, read where the database is."""

        @property
        def supports_distributed_reads(self) -> bool:
            # Ray Data then schedules the read on the driver's node, the one with the file.
            return False

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                           data_context: Any = None) -> list[Any]:
            def read() -> Iterator[Any]:
                for item in reader:
                    yield pa.table({"seq": [item.seq], "payload": [cloudpickle.dumps(item)]})

            meta = BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None)
            return [ReadTask(read, meta)]

    return PendingArticles()


class _RayWorker:
    """The ``map_batches`` callable: a :class:`StageWorker` over Ray Data blocks."""

    def __init__(self, stage_blob: bytes, warm: dict[str, Any] | None) -> None:
        self.worker = StageWorker(stage_blob, warm)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np
        from ray import cloudpickle

        outs = []
        for payload in batch["payload"]:
            out = self.worker.run(cloudpickle.loads(payload))
            out.bytes_in = len(payload)
            outs.append(cloudpickle.dumps(out))
        return {"seq": batch["seq"], "payload": np.array(outs, dtype=object)}


@contextmanager
def ray_runtime(options: RayOptions) -> Iterator[int]:
    """Connect to the cluster (or start a local runtime); yield the number of actors to use.

    A runtime already initialised in this process (tests, notebooks) is used as is and
    left running; one started here is shut down at the end.
    """
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        # Ray's C++ core logs harmless error-level lines at start-up (e.g. about actor
        # constructor arguments, ray-project/ray#53727); failures still raise in Python.
        # Set RAY_BACKEND_LOG_LEVEL=warning to see them.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if options.address:
                ray.init(address=options.address, **quiet)
            else:
                # "local": never join another session's cluster found on this machine.
                ray.init(address="local", num_cpus=options.workers or os.cpu_count() or 1,
                         include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                         **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {options.address}" if options.address else "a local Ray runtime"
            raise TrackerError(
                f"Cannot start or reach {where}: {exc}. Check `ray status` on the head node and "
                "the address (host:6379, or `auto` on a node of the cluster), or leave --address "
                "out to run a local runtime."
            ) from exc
        started = True
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = options.workers or max(cpus, 1)
        if workers > cpus:
            raise TrackerError(
                f"--workers {workers} asks for more actors than the Ray cluster has CPUs ({cpus}); "
                f"use --workers {max(cpus, 1)} or fewer, or add nodes (`ray start --address ...`)."
            )
        yield workers
    finally:
        if started:
            ray.shutdown()


@contextmanager
def _data_context() -> Iterator[None]:
    """Ordered, quiet Ray Data execution for the duration (restored afterwards)."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.target_max_block_size)
    data_log = logging.getLogger("ray.data")
    saved_level = data_log.level
    # In order, so the writer commits batch after batch like the local engine (same row ids).
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False  # the writer shows its own progress bar
    # A block is one batch of articles: emit each as soon as it is read. With the default
    # (128 MiB) Ray Data coalesces the reader's small blocks until the read ends, which
    # serialises the pipeline and, with the reader's bound on batches ahead, deadlocks it.
    ctx.target_max_block_size = 1
    data_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Ray Data plans with one input block (one read task) and warns that the pool
            # cannot be busy; the read task streams one block per batch, so it is.
            warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")
            yield
    finally:
        (ctx.execution_options.preserve_order, ctx.enable_progress_bars,
         ctx.target_max_block_size) = saved
        data_log.setLevel(saved_level)


def _worker_error(exc: BaseException) -> TrackerError | None:
    """A clear error for a failure Ray raised from a worker, if it is a known kind.

    Errors cross the process boundary as text (a remote exception's own causes are not
    kept), so a worker that cannot import the tracker is recognised by its message.
    """
    text = str(exc)
    if isinstance(exc, ImportError) or "No module named" in text:
        match = re.search(r"No module named '[^']+'", text)
        return TrackerError(f"On a Ray worker: {_install_hint(match.group(0) if match else exc)}")
    return None


def database_path(db: sqlite_utils.Database) -> str:
    """The file behind ``db``; the Ray engine's reader opens it again, so it must be a file."""
    for _, name, path in db.conn.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            return str(Path(path))
    raise TrackerError(
        "The Ray engine reads the database from a second process, so it needs a database "
        "file, not an in-memory database: pass --db PATH."
    )


def run_stage_ray(
    db: sqlite_utils.Database,
    stage: Stage,
    stage_blob: bytes,
    workers: int,
    *,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    max_sentences: int | None = None,
) -> tuple[StageSummary, set[int]]:
    """One stage through the Ray Data pipeline; the driver writes. Returns summary and ids."""
    import ray.data

    conn = db.conn
    wall, cpu = time.perf_counter(), time.process_time()
    summary, total = start_stage(conn, stage, limit=limit)
    if total == 0:
        return summary, set()
    # Enough batches ahead that every actor has one running and one queued.
    reader = PendingReader(database_path(db), stage_blob, version=summary.version,
                           batch_size=batch_size, limit=limit, max_ahead=2 * workers + 2,
                           max_sentences=max_sentences)
    warm = None
    if isinstance(stage, CachedStage):
        warm = stage.cache_get(conn, stage.cache_keys([]))
    writer = BatchWriter(conn, stage, summary)
    with _data_context():
        # One read task (the database is one file on one node), its output not split.
        ds = ray.data.read_datasource(_datasource(reader), num_cpus=0, override_num_blocks=1)
        ds = ds.map_batches(_RayWorker, fn_constructor_args=(stage_blob, warm),
                            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
                            batch_size=None, zero_copy_batch=True)
        with progressbar(total, f"enrich {stage.name} (ray x{workers})", progress) as bar:
            batches = iter(ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1))
            try:
                while True:
                    try:
                        block = next(batches)
                    except StopIteration:
                        break
                    except Exception as exc:
                        error = _worker_error(exc)
                        if error is None:
                            raise
                        raise error from exc
                    collect = time.thread_time()  # the writer's thread: unpickle, check, commit
                    for payload in block["payload"]:
                        out: BatchOut = pickle.loads(payload)
                        summary.stats["bytes_back"] = summary.stats.get("bytes_back", 0) + len(payload)
                        summary.stats["bytes_out"] = summary.stats.get("bytes_out", 0) + out.bytes_in
                        writer.write(out)
                        if bar is not None:
                            bar.update(len(out.ids))
                    summary.add_seconds("writer_thread_cpu", time.thread_time() - collect)
                    if "first_result" not in summary.seconds:
                        # Start-up (actors, models) ends with the first batch written; the
                        # steady state (bench/bench_ray.py's model) counts from here.
                        summary.seconds["first_result"] = time.perf_counter() - wall
                        summary.seconds["driver_cpu_to_first"] = time.process_time() - cpu
                        summary.stats["first_batch_articles"] = float(summary.articles)
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()  # stops the pipeline (and its actors) when the writer stops early
    summary.seconds["wall"] = time.perf_counter() - wall
    summary.seconds["driver_cpu"] = time.process_time() - cpu
    summary.stats["workers"] = float(len(writer.workers))
    return summary, writer.done


def enrich_pending_ray(
    db: sqlite_utils.Database,
    *,
    stages: Sequence[Stage],
    options: RayOptions = RayOptions(),
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    max_sentences: int | None = None,
) -> EnrichSummary:
    """Like :func:`tracker.enrich.runner.enrich_pending`, with ``process`` on Ray actors.

    ``max_sentences`` cuts full text as the local engine does (``Settings.fulltext_sentences``).
    """
    require_ray()
    from ray import cloudpickle

    path = database_path(db)
    # Pickled now, before prepare() gives a stage a connection: workers get the
    # definitions as loaded here, without models (they load lazily on the worker).
    blobs = []
    for stage in stages:
        try:
            blobs.append(cloudpickle.dumps(stage))
        except Exception as exc:
            raise TrackerError(
                f"Stage {stage.name} cannot be sent to Ray workers ({exc}); a stage must pickle "
                "before prepare() and load its models lazily."
            ) from exc
    log.info("ray engine: database %s, %d stages", path, len(stages))
    summary = EnrichSummary()
    if not any(count_pending(db.conn, s.name, s.version) for s in stages):
        # Nothing to do (a quiet night): no runtime to start, no actors to load models.
        summary.stages = {s.name: StageSummary(version=s.version) for s in stages}
        return summary
    with ray_runtime(options) as workers:
        for stage, blob in zip(stages, blobs, strict=True):
            stage_summary, ids = run_stage_ray(db, stage, blob, workers, limit=limit,
                                               batch_size=batch_size, progress=progress,
                                               max_sentences=max_sentences)
            summary.stages[stage.name] = stage_summary
            summary.article_ids |= ids
    summary.articles = len(summary.article_ids)
    return summary
