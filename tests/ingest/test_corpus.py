"""Every file of the real edge-case corpora either ingests or is a recorded failure: none crashes a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.ingest.replay import replay_dir, snapshot_files


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["feedparser-tests/tests", "gesab001-headlines"])
def test_whole_corpus_ingests_or_fails_cleanly(tmp_path: Path, shared_data: Path, corpus: str) -> None:
    root = shared_data / corpus
    files = list(snapshot_files(root))
    assert len(files) > 100
    db = open_db(tmp_path / "corpus.db")
    summary = replay_dir(db, Settings(), root, files=files)
    # One recorded fetch per file, whatever the file held.
    assert len(summary.outcomes) == len(files) == db["fetches"].count
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM fetches GROUP BY status").fetchall())
    assert set(statuses) <= {"ok", "partial", "failed"}
    failed = db.execute("SELECT snapshot_path, error_kind, error FROM fetches WHERE status = 'failed'").fetchall()
    assert all(kind and error for _, kind, error in failed), failed[:5]
    assert summary.fetches_failed == len(failed)
    # Nothing stored is unreadable: every article has a key, a day and a hash.
    assert db.execute("SELECT COUNT(*) FROM articles WHERE item_key IS NULL OR day IS NULL "
                      "OR content_hash IS NULL").fetchone()[0] == 0
    if corpus == "gesab001-headlines":
        # Placeholder dates (1970 epochs) are flagged, never stored as publication times.
        assert db.execute("SELECT COUNT(*) FROM articles WHERE published_at < '1995'").fetchone()[0] == 0
