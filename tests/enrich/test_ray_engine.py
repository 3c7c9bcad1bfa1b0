"""The Ray engine: same rows as the local engine, a single writer, clear errors, resumable.

The first tests run the engine's three parts (reader, worker, writer) in this process,
without a Ray runtime; the ``ray`` ones start one local runtime with 2 CPUs for the module.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from tests.enrich.rows import differences, max_float_difference, output_rows
from tests.paths import REPO
from tracker.base.db import open_db, transaction
from tracker.base.errors import TrackerError
from tracker.base.settings import Settings
from tracker.cli import cli
from tracker.enrich.embeddings import MINILM_NAME, FakeEmbedder
from tracker.enrich.entity_stage import EntityStage
from tracker.enrich.gazetteer import load_gazetteer
from tracker.enrich.head import head_path, load_head
from tracker.enrich.narrative_stage import NarrativeStage
from tracker.enrich.narratives import load_narratives, narratives_path
from tracker.enrich.runner import (
    CachedStage,
    EnrichSummary,
    Stage,
    count_pending,
    enrich_pending,
    start_stage,
)

ray = pytest.importorskip("ray")

from ray import cloudpickle  # noqa: E402 - only with Ray installed

from tracker.enrich.ray_engine import (  # noqa: E402
    BatchOut,
    BatchWriter,
    PendingReader,
    RayOptions,
    StageWorker,
    enrich_pending_ray,
)

MODELS = REPO / "models"
# Workers import this module by value, so the fakes below need not be installed there.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


# --- Fixtures written for these tests: wording repeats across batches on purpose ---

SENTENCES = [
    "BlackRock filed for a spot bitcoin ETF with the SEC.",
    "The Fed signalled two rate cuts this year as inflation cooled.",
    "Nvidia said AI data-centre spending would keep rising.",
    "Coinbase won a licence to serve institutional clients in Europe.",
    "Oil prices slipped as OPEC raised output.",
    "Treasury yields fell after weak payrolls data.",
    "Microsoft's capex on AI topped $20 billion in the quarter.",
    "Stablecoin issuers welcomed the new federal rules.",
]


def article_rows(n: int) -> list[tuple[str, str]]:
    """``n`` (title, summary) pairs; summaries reuse sentences so batches share keys."""
    rows = []
    for i in range(n):
        title = f"Markets note {i}: {SENTENCES[i % len(SENTENCES)]}"
        summary = " ".join(SENTENCES[(i * 3 + k) % len(SENTENCES)] for k in range(2))
        rows.append((title, summary))
    return rows


def make_db(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    """A database file holding these articles (one duplicate, never enriched)."""
    db = open_db(path)
    with transaction(db.conn):
        db.conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'u', 'now')")
        db.conn.executemany(
            "INSERT INTO articles (feed_id, item_key, title, summary, day, fetched_at, content_hash)"
            " VALUES (1, ?, ?, ?, '2026-01-05', 'now', ?)",
            [(f"k{i}", t, s, f"h{i}") for i, (t, s) in enumerate(rows)],
        )
        db.conn.execute(
            "INSERT INTO articles (feed_id, item_key, title, day, fetched_at, content_hash,"
            " duplicate_of) VALUES (1, 'dup', 'dup', '2026-01-05', 'now', 'hd', 1)"
        )
    db.conn.close()
    return path


class PaddedFakeEmbedder(FakeEmbedder):
    """A fake whose vectors depend slightly on their batch mates, as padding does in MiniLM.

    The longest text of an ``encode`` call shifts every vector by about 1e-7, so only
    an engine that embeds the same texts together as the local engine gets the same bits.
    """

    def encode(self, texts: list[str]) -> np.ndarray:
        out = super().encode(texts)
        if texts:
            out = out.astype(np.float64)
            out[:, 0] += 1e-7 * max(len(t) for t in texts) / 100
            out = (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
        return out


def narrative_stage(embedder: FakeEmbedder | None = None) -> NarrativeStage:
    """The shipped narratives, scored with a fake embedder (no model download, fast)."""
    return NarrativeStage(load_narratives(narratives_path(MODELS)),
                          embedder=embedder or FakeEmbedder(dim=64))


class LengthStage:
    """A pure stage without a cache: result = text length, stored as a claim."""

    name = "length"

    def __init__(self, version: str = "length:1", fail_on: str | None = None,
                 worker_version: str | None = None) -> None:
        self._version = version
        self.fail_on = fail_on
        self.worker_version = worker_version
        self.processed = 0

    @property
    def version(self) -> str:
        # Like a model label: known once the "model" ran, and it may differ on a worker.
        return self.worker_version if self.processed and self.worker_version else self._version

    def prepare(self, conn: sqlite3.Connection) -> None:
        pass

    def process(self, texts: Sequence[str]) -> list[int]:
        self.processed += 1
        for text in texts:
            if self.fail_on and self.fail_on in text:
                raise TrackerError(f"cannot read {self.fail_on!r}: fix the fixture")
        return [len(t) for t in texts]

    def save(self, conn: sqlite3.Connection, article_ids: Sequence[int],
             results: Sequence[Any]) -> dict[str, int]:
        conn.executemany("DELETE FROM claims WHERE article_id = ?", [(a,) for a in article_ids])
        conn.executemany(
            "INSERT INTO claims (article_id, kind, value, text, pipeline_version)"
            " VALUES (?, 'len', ?, 't', ?)",
            [(a, float(r), self._version) for a, r in zip(article_ids, results, strict=True)],
        )
        return {"claims": len(article_ids)}

    def describe(self, result: Any) -> dict[str, Any]:
        return {"length": result}


def enrich_local(path: Path, stages: Sequence[Stage], **kwargs: Any) -> EnrichSummary:
    db = open_db(path)
    try:
        return enrich_pending(db, Settings(), stages=stages, **kwargs)
    finally:
        db.conn.close()


def enrich_in_process(path: Path, stages: Sequence[Stage], *, batch_size: int,
                      workers: int = 2) -> tuple[EnrichSummary, list[int]]:
    """The Ray engine's reader, workers and writer, run here in the worst order.

    Every batch is read before any is written (so every key a later batch repeats is
    in flight), batches go round-robin to ``workers`` workers, and the writer commits
    in order. Returns the summary and the number of in-flight keys per batch.
    """
    blobs = [cloudpickle.dumps(s) for s in stages]
    db = open_db(path)
    summary = EnrichSummary()
    in_flight: list[int] = []
    try:
        for stage, blob in zip(stages, blobs, strict=True):
            stage_summary, total = start_stage(db.conn, stage)
            if not total:
                continue
            warm = stage.cache_get(db.conn, stage.cache_keys([])) if isinstance(stage, CachedStage) else None
            pool = [StageWorker(blob, warm) for _ in range(workers)]
            batches = list(PendingReader(str(path), blob, version=stage_summary.version,
                                         batch_size=batch_size))
            in_flight += [len(b.in_flight) for b in batches]
            outs = [pool[i % workers].run(b) for i, b in enumerate(batches)]
            writer = BatchWriter(db.conn, stage, stage_summary)
            for out in outs:
                writer.write(out)
            summary.stages[stage.name] = stage_summary
            summary.article_ids |= writer.done
    finally:
        db.conn.close()
    summary.articles = len(summary.article_ids)
    return summary, in_flight


# --- Without a Ray runtime ---


def test_the_narratives_stage_implements_the_cache_split() -> None:
    stage = narrative_stage()
    assert isinstance(stage, Stage) and isinstance(stage, CachedStage)
    assert not isinstance(LengthStage(), CachedStage)


def test_model_version_is_known_without_loading_the_model() -> None:
    narratives = load_narratives(narratives_path(MODELS))
    head = load_head(head_path(MODELS), 9)

    class NamedFake(FakeEmbedder):
        """A fake under the real model's name, so the shipped head applies."""

        def __init__(self) -> None:
            super().__init__(dim=384)
            self.name = MINILM_NAME

    for embedder in (FakeEmbedder(dim=64), NamedFake()):
        for h in (None, head):
            stage = NarrativeStage(narratives, head=h, embedder=embedder)
            before = stage.model_version
            assert stage._classifier is None  # nothing was built to answer
            assert before == stage.classifier.model_version
    assert head is not None and f"head:{head.version}" in NarrativeStage(
        narratives, head=head, embedder=NamedFake()).model_version


def test_split_path_writes_what_the_local_engine_writes(tmp_path: Path) -> None:
    rows = article_rows(30)
    a = make_db(tmp_path / "a.db", rows)
    b = make_db(tmp_path / "b.db", rows)
    local = enrich_local(a, [LengthStage(), narrative_stage(PaddedFakeEmbedder(dim=64))], batch_size=4)
    split, in_flight = enrich_in_process(b, [LengthStage(), narrative_stage(PaddedFakeEmbedder(dim=64))],
                                         batch_size=4)
    assert sum(in_flight) > 0  # the worst case really happened
    assert split.counts() == local.counts()  # no vector written twice, anchors once
    assert local.stages["narratives"].rows["embedding_cache"] > 0
    ra, rb = output_rows(a), output_rows(b)
    # Each sentence is embedded with the same batch mates as locally: the cache is bit-identical.
    assert ra["embedding_cache"] == rb["embedding_cache"]
    assert ra["claims"] == rb["claims"] and ra["enrichments"] == rb["enrichments"]
    # In-flight sentences were embedded apart: their articles may differ in the last float bits.
    assert differences(ra, rb, tol=1e-6) == {}


def test_one_worker_reuses_its_own_recent_vectors_bit_for_bit(tmp_path: Path) -> None:
    """In flight but computed by this worker: the stored bits, not a second embedding."""
    rows = article_rows(30)
    a = make_db(tmp_path / "a.db", rows)
    b = make_db(tmp_path / "b.db", rows)
    enrich_local(a, [narrative_stage(PaddedFakeEmbedder(dim=64))], batch_size=4)
    _, in_flight = enrich_in_process(b, [narrative_stage(PaddedFakeEmbedder(dim=64))], batch_size=4,
                                     workers=1)
    assert sum(in_flight) > 0
    assert output_rows(a) == output_rows(b)


def test_split_path_is_bit_identical_with_a_batch_independent_model(tmp_path: Path) -> None:
    rows = article_rows(21)
    a = make_db(tmp_path / "a.db", rows)
    b = make_db(tmp_path / "b.db", rows)
    enrich_local(a, [narrative_stage()], batch_size=5)
    enrich_in_process(b, [narrative_stage()], batch_size=5, workers=3)
    assert output_rows(a) == output_rows(b)
    # Re-running after an edit of the cache state: nothing pending, nothing written.
    again, _ = enrich_in_process(b, [narrative_stage()], batch_size=5)
    assert again.articles == 0


def test_a_worker_with_other_models_is_refused_before_writing(tmp_path: Path) -> None:
    path = make_db(tmp_path / "a.db", article_rows(4))
    db = open_db(path)
    stage = LengthStage()
    summary, _ = start_stage(db.conn, stage)
    writer = BatchWriter(db.conn, stage, summary)
    out = BatchOut(0, [1, 2], [3, 4], {}, "length:2", "node:1")
    with pytest.raises(TrackerError, match=r"version length:2.*install the same"):
        writer.write(out)
    assert db.conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    db.conn.close()


def test_nothing_pending_starts_no_ray_runtime(tmp_path: Path, monkeypatch: Any) -> None:
    from tracker.enrich import ray_engine

    path = make_db(tmp_path / "a.db", article_rows(3))
    enrich_local(path, [LengthStage()])

    def refuse(options: RayOptions) -> None:
        raise AssertionError("a runtime was started for nothing")

    monkeypatch.setattr(ray_engine, "ray_runtime", refuse)
    db = open_db(path)
    summary = enrich_pending_ray(db, stages=[LengthStage()], options=RayOptions(workers=1))
    db.conn.close()
    assert summary.articles == 0 and summary.stages["length"].version == "length:1"


def test_without_ray_the_cli_says_how_to_install_it(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    db = tmp_path / "t.db"
    for args in (["enrich", "--engine", "ray"], ["run", "--engine", "ray", "--feeds", str(tmp_path / "f.yaml")]):
        result = CliRunner().invoke(cli, ["--db", str(db), *args])
        assert result.exit_code == 2, result.output
        assert "pip install 'narrative-tracker[ray]'" in result.output
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)
    assert not db.exists()  # refused before opening (or ingesting into) anything


def test_ray_options_need_the_ray_engine(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "t.db"), "enrich", "--workers", "2"])
    assert result.exit_code == 2 and "need --engine ray" in result.output


# --- On a local Ray runtime with 2 CPUs ---


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """One local Ray runtime for the module (starting one takes seconds)."""
    import logging

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 object_store_memory=200 * 1024 * 1024, logging_level=logging.ERROR,
                 log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_ray_engine_writes_what_the_local_engine_writes(tmp_path: Path, ray_local: None) -> None:
    rows = article_rows(36)
    a = make_db(tmp_path / "a.db", rows)
    b = make_db(tmp_path / "b.db", rows)
    local = enrich_local(a, [LengthStage(), narrative_stage()], batch_size=4)
    stages = [LengthStage(), narrative_stage()]
    db = open_db(b)
    summary = enrich_pending_ray(db, stages=stages, options=RayOptions(workers=2), batch_size=4)
    db.conn.close()
    assert summary.counts() == local.counts() and summary.article_ids == local.article_ids
    assert output_rows(a) == output_rows(b)
    # The driver never ran a model: the workers did.
    assert stages[1]._classifier is None and stages[0].processed == 0
    figures = summary.stages["narratives"]
    assert figures.stats["workers"] >= 1 and figures.stats["bytes_out"] > 0 < figures.stats["bytes_back"]
    assert figures.seconds["process_cpu"] > 0 and figures.seconds["write"] > 0


@pytest.mark.ray
@pytest.mark.models
def test_ray_engine_tags_entities_as_the_local_engine_does(tmp_path: Path, ray_local: None) -> None:
    """The real entities stage (spaCy + gazetteer loaded once per actor)."""
    rows = article_rows(24)
    a = make_db(tmp_path / "a.db", rows)
    b = make_db(tmp_path / "b.db", rows)
    gazetteer = load_gazetteer(MODELS / "gazetteer.yaml")
    enrich_local(a, [EntityStage(gazetteer)], batch_size=5)
    stage = EntityStage(gazetteer)
    db = open_db(b)
    summary = enrich_pending_ray(db, stages=[stage], options=RayOptions(workers=2), batch_size=5)
    db.conn.close()
    ra, rb = output_rows(a), output_rows(b)
    assert ra == rb and len(ra["mentions"]) > 24
    assert summary.stages["entities"].version == stage.version and stage._tagger is None


@pytest.mark.ray
def test_a_failing_worker_stops_the_run_with_the_cause_and_keeps_committed_batches(
    tmp_path: Path, ray_local: None
) -> None:
    rows = article_rows(12)
    rows[9] = ("Unreadable item", "poison")
    path = make_db(tmp_path / "a.db", rows)
    db = open_db(path)
    with pytest.raises(TrackerError, match=r"On a Ray worker \(.*\): cannot read .poison."):
        enrich_pending_ray(db, stages=[LengthStage(fail_on="poison")], options=RayOptions(workers=1),
                           batch_size=3)
    done = [r[0] for r in db.conn.execute("SELECT article_id FROM enrichments ORDER BY 1")]
    assert done == list(range(1, 10))  # batches 1-3 committed, the poisoned 4th not at all
    assert [r[0] for r in db.conn.execute("SELECT article_id FROM claims ORDER BY 1")] == done
    db.conn.close()


@pytest.mark.ray
def test_workers_with_other_model_versions_are_refused(tmp_path: Path, ray_local: None) -> None:
    db = open_db(make_db(tmp_path / "a.db", article_rows(6)))
    with pytest.raises(TrackerError, match="install the same"):
        enrich_pending_ray(db, stages=[LengthStage(worker_version="length:1+other-model")],
                           options=RayOptions(workers=1),
                           batch_size=3)
    assert count_pending(db.conn, "length", "length:1") == 6
    db.conn.close()


@pytest.mark.ray
def test_too_many_workers_and_memory_databases_are_refused(tmp_path: Path, ray_local: None) -> None:
    db = open_db(make_db(tmp_path / "a.db", article_rows(2)))
    with pytest.raises(TrackerError, match=r"--workers 3 asks for more actors .* \(2\)"):
        enrich_pending_ray(db, stages=[LengthStage()], options=RayOptions(workers=3))
    db.conn.close()
    memory = open_db(":memory:")
    with pytest.raises(TrackerError, match="needs a database file"):
        enrich_pending_ray(memory, stages=[LengthStage()], options=RayOptions(workers=1))


@pytest.mark.ray
@pytest.mark.models
@pytest.mark.slow
def test_cli_enrich_and_run_on_ray_equal_local_with_the_real_models(tmp_path: Path, ray_local: None) -> None:
    """spaCy, the gazetteer and MiniLM on 40 articles of the bundled sample feeds."""
    from tracker.base.resources import sample_feeds

    feeds = str(sample_feeds())
    local, on_ray = tmp_path / "local.db", tmp_path / "ray.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(local), "ingest", "--feeds", feeds, "--json"])
    assert result.exit_code == 0, result.output
    shutil.copy(local, on_ray)
    result = runner.invoke(cli, ["--db", str(local), "enrich", "--limit", "40", "--batch-size", "8", "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--db", str(on_ray), "enrich", "--engine", "ray", "--workers", "2",
                                 "--limit", "40", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "Enriched 40 articles." in result.output
    a, b = output_rows(local), output_rows(on_ray)
    assert differences(a, b, tol=1e-6) == {}, max_float_difference(a, b)
    assert a["mentions"] == b["mentions"] and a["claims"] == b["claims"]
    assert a["embedding_cache"] == b["embedding_cache"]
    # The nightly job on Ray enriches the rest and indexes, like the local one.
    shutil.copy(on_ray, tmp_path / "ray2.db")
    result = runner.invoke(cli, ["--db", str(on_ray), "run", "--engine", "ray", "--feeds", feeds])
    assert result.exit_code == 0, result.output
    assert "Days indexed:" in result.output
    done = sqlite3.connect(on_ray)
    assert done.execute("SELECT COUNT(*) FROM narrative_index").fetchone()[0] > 0
    pending = done.execute(
        "SELECT COUNT(*) FROM articles a WHERE duplicate_of IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM enrichments e WHERE e.article_id = a.id AND e.stage = 'narratives')"
    ).fetchone()[0]
    assert pending == 0


@pytest.mark.ray
@pytest.mark.models
@pytest.mark.slow
def test_killing_the_driver_loses_nothing_and_a_rerun_completes(tmp_path: Path) -> None:
    """``kill -9`` of ``tracker enrich --engine ray`` mid-run, then a re-run: the local engine's rows."""
    import contextlib
    import os
    import signal
    import subprocess
    import time

    rows = article_rows(48)
    local, on_ray = make_db(tmp_path / "local.db", rows), make_db(tmp_path / "ray.db", rows)
    tracker = str(Path(sys.executable).with_name("tracker"))
    env = {**os.environ, "TRACKER_MODELS": str(MODELS)}
    command = [tracker, "--db", str(on_ray), "enrich", "--engine", "ray", "--workers", "2",
               "--batch-size", "2", "--json"]
    # Its own session, so the Ray processes it starts can be ended with it, by group.
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with sqlite3.connect(on_ray) as conn:
                done = conn.execute(
                    "SELECT COUNT(*) FROM enrichments WHERE stage = 'narratives'").fetchone()[0]
            if done:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        time.sleep(1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # Ray's helpers outlive a killed driver
    conn = sqlite3.connect(on_ray)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    enriched = [r[0] for r in conn.execute(
        "SELECT article_id FROM enrichments WHERE stage = 'narratives' ORDER BY 1")]
    assert 0 < len(enriched) < 48 and len(enriched) % 2 == 0  # whole batches only
    assert enriched == list(range(1, len(enriched) + 1))
    scored = [r[0] for r in conn.execute("SELECT DISTINCT article_id FROM article_narratives ORDER BY 1")]
    assert scored == enriched  # no article scored without its ledger row, or the reverse
    conn.close()

    rerun = subprocess.run(command, env=env, capture_output=True, start_new_session=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert '"articles": ' in rerun.stdout.decode()
    result = subprocess.run([tracker, "--db", str(local), "enrich", "--batch-size", "2", "--json"],
                            env=env, capture_output=True, timeout=900)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    a, b = output_rows(local), output_rows(on_ray)
    assert differences(a, b, tol=1e-6) == {}, max_float_difference(a, b)
    assert a["mentions"] == b["mentions"] and a["embedding_cache"] == b["embedding_cache"]
