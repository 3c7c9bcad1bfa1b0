"""The issue-13 head: calibration, the rotation gate, stance, reliability, reproducible training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.paths import REPO
from tracker.enrich.classifier import FEATURES, STANCE_FEATURES, Classifier
from tracker.enrich.embeddings import FakeEmbedder
from tracker.enrich.head import STANCE_CLASSES, load_head
from tracker.enrich.narratives import load_narratives
from tracker.learn.evaluate import evaluate, read_labels, reliability_table, stance_class
from tracker.learn.train import (
    best_threshold,
    fit_platt,
    fit_stance,
    stream_weights,
    train_head,
)

SHIPPED = REPO / "models" / "narratives.yaml"

# Made-up headlines: the AI ones read "payoff" or "doubt", the others have nothing to do with it.
AI_UP = [f"AI investment pays off as firm {k} reports productivity gains" for k in range(12)]
AI_DOWN = [f"Investors doubt AI spending {k} as bubble fears grow" for k in range(12)]
AI_FLAT = [f"Company {k} reviews its AI data centre plans" for k in range(8)]
OTHER = [f"Local football team {k} wins the weekend match" for k in range(40)]


@pytest.fixture
def clf() -> Classifier:
    return Classifier(load_narratives(SHIPPED), FakeEmbedder(dim=32))


def labelled_file(tmp_path: Path) -> Path:
    rows = (
        [{"text": t, "labels": ["ai_productivity"], "stance": {"ai_productivity": 1}} for t in AI_UP]
        + [{"text": t, "labels": ["ai_productivity"], "stance": {"ai_productivity": -1}}
           for t in AI_DOWN]
        + [{"text": t, "labels": ["ai_productivity"], "stance": {"ai_productivity": 0}}
           for t in AI_FLAT]
        + [{"text": t, "labels": []} for t in OTHER]
    )
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_training_twice_gives_the_same_bytes_and_a_stance_model(
    clf: Classifier, tmp_path: Path
) -> None:
    labels = labelled_file(tmp_path)
    first = train_head(labels, clf, tmp_path / "a.json", min_positives=10)
    second = train_head(labels, clf, tmp_path / "b.json", min_positives=10)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert first.head.version == second.head.version
    head = load_head(tmp_path / "a.json", len(FEATURES))
    assert head is not None and head.version == first.head.version
    nh = head.narratives["ai_productivity"]
    assert nh.stance is not None
    assert nh.stance.coef.shape == (3, len(STANCE_FEATURES) + 2 * clf.embedder.dim)
    trained = Classifier(clf.narratives, clf.embedder, head)
    up = trained.classify_text(AI_UP[0]).get("ai_productivity")
    down = trained.classify_text(AI_DOWN[0]).get("ai_productivity")
    assert up.is_member and down.is_member
    assert up.stance is not None and down.stance is not None and up.stance > 0 > down.stance
    assert up.stance_evidence == AI_UP[0]
    assert not trained.classify_text(OTHER[0]).get("ai_productivity").is_member
    # Narratives without a head have no stance.
    assert trained.classify_text(AI_UP[0]).get("fed_easing_liquidity").stance is None


def test_eval_reports_stance_accuracy_and_reliability(clf: Classifier, tmp_path: Path) -> None:
    labels = labelled_file(tmp_path)
    head = train_head(labels, clf, tmp_path / "h.json", min_positives=10).head
    report = evaluate(Classifier(clf.narratives, clf.embedder, head), read_labels(labels))
    correct, judged = report.stance["ai_productivity"]
    assert judged == len(AI_UP) + len(AI_DOWN) + len(AI_FLAT) and correct / judged > 0.6
    rows = report.reliability["ai_productivity"]
    assert sum(r[2] for r in rows) == report.items
    out = report.to_dict()["narratives"]["ai_productivity"]
    assert out["stance_judged"] == judged and out["reliability"]


def test_reliability_table_bins_scores() -> None:
    rows = reliability_table([0.05, 0.05, 0.95, 0.95, 0.6], [False, True, True, True, False])
    assert rows[0][:3] == (0.0, 0.1, 2) and rows[0][4] == 0.5
    assert rows[-1][2] == 2 and rows[-1][4] == 1.0 and rows[-1][1] == 1.0
    assert stance_class(None) is None and stance_class(0.1) == 0
    assert stance_class(0.8) == 1 and stance_class(-0.5) == -1


def test_platt_scaling_and_precision_floor() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    z = 3.0 * (y - 0.5) + rng.normal(0, 1, 400)
    a, b = fit_platt(z, y)
    assert a > 0 and abs(b) < 1
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.55, 0.3])
    gold = np.array([1, 1, 0, 1, 0, 0])
    free, _ = best_threshold(gold, scores)
    strict, _ = best_threshold(gold, scores, min_precision=0.99)
    assert strict > free or strict >= 0.75


def test_stance_needs_all_three_classes() -> None:
    x = np.random.default_rng(1).normal(size=(30, 4))
    assert fit_stance(x, np.array([1] * 30)) is None
    st = fit_stance(x, np.array(list(STANCE_CLASSES) * 10))
    assert st is not None and st.probabilities(x[:2]).shape == (2, 3)
    assert np.all(np.abs(st.stance(x)) <= 1.0)


def test_rotation_is_gated_on_both_sides(clf: Classifier) -> None:
    from tracker.learn.train import GATED

    assert "ai_to_crypto_rotation" in GATED
    rot = clf.narratives.get("ai_to_crypto_rotation")
    assert rot.require_met("Nvidia shares fell and bitcoin followed")
    assert not rot.require_met("Nvidia shares fell sharply")


@pytest.mark.models
@pytest.mark.slow
def test_tracker_train_reproduces_the_shipped_head(shared_data: Path, tmp_path: Path) -> None:
    """`tracker train` on the resolved train split writes the shipped head byte for byte."""
    import importlib.util

    from tracker.enrich.classifier import load_classifier
    from tracker.enrich.head import head_path

    spec = importlib.util.spec_from_file_location("narratives_eval", REPO / "eval" / "narratives_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.resolve(REPO / "eval" / "labels" / "narratives.jsonl", shared_data)
    train = tmp_path / "train.jsonl"
    module.write_jsonl(train, [r for r in rows if r["split"] == "train"])
    classifier = load_classifier(REPO / "models", use_head=False)
    train_head(train, classifier, tmp_path / "head.json")
    assert (tmp_path / "head.json").read_bytes() == head_path(REPO / "models").read_bytes()


def test_stage_stores_stance_for_members_only(clf: Classifier, tmp_path: Path, db: object) -> None:
    import sqlite_utils

    from tests.enrich.test_classifier import add_articles
    from tracker.enrich.narrative_stage import NarrativeStage

    assert isinstance(db, sqlite_utils.Database)
    head = train_head(labelled_file(tmp_path), clf, tmp_path / "h.json", min_positives=10).head
    stage = NarrativeStage(clf.narratives, head, clf.embedder)
    ids = add_articles(db.conn, [(AI_DOWN[1], ""), (OTHER[1], "")])
    stage.prepare(db.conn)
    stage.save(db.conn, ids, stage.process([AI_DOWN[1], OTHER[1]]))
    rows = dict(
        ((aid, member), (stance, evidence))
        for aid, member, stance, evidence in db.conn.execute(
            "SELECT article_id, is_member, stance, stance_evidence FROM article_narratives"
            " WHERE narrative_id = 'ai_productivity'"
        )
    )
    member_stance, member_evidence = rows[(ids[0], 1)]
    assert member_stance < 0 and member_evidence == AI_DOWN[1]
    assert rows[(ids[1], 0)] == (None, None)
    described = stage.describe(stage.process([OTHER[1]])[0])["narratives"][0]
    assert described["stance"] is None and described["stance_evidence"] is None


def test_stream_weights_give_the_random_strata_base_rate() -> None:
    y = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0])
    strata = ["keyword"] * 4 + ["random"] * 6
    w, prevalence = stream_weights(y, strata)
    assert w is not None and prevalence == pytest.approx(1 / 6)
    assert float(np.sum(w * y) / np.sum(w)) == pytest.approx(prevalence)
    assert stream_weights(y, ["keyword"] * 10)[0] is None and stream_weights(y, None)[0] is None
    # Rarer members in the stream: the F1-best cut moves up past a cheap false positive.
    scores = np.array([0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1, 0.1])
    gold = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    rare = np.where(gold > 0, 0.1, 1.0)
    assert best_threshold(gold, scores)[0] < 0.45 < best_threshold(gold, scores, weights=rare)[0]


def test_stance_lexicon_reads_direction_and_negation() -> None:
    fed = load_narratives(SHIPPED).get("fed_easing_liquidity").stance_lexicon
    up, down = fed.counts("Fed signals more rate cuts")
    assert up > 0 and down == 0
    up, down = fed.counts("Fed holds, three dissent for a hike")
    assert down > 0 and up == 0
    up, down = fed.counts("Powell says there will be no rate cut in December")
    assert down > 0 and up == 0


def test_head_caches_anchor_vectors(clf: Classifier, tmp_path: Path) -> None:
    class Counting(FakeEmbedder):
        calls = 0

        def encode(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
            Counting.calls += 1
            return super().encode(texts)

    report = train_head(labelled_file(tmp_path), clf, tmp_path / "h.json", min_positives=10)
    head = load_head(tmp_path / "h.json", len(FEATURES))
    assert head is not None and head.anchors is not None and report.head.anchors is not None
    emb = Counting(dim=32)
    cached = Classifier(clf.narratives, emb, head)
    assert Counting.calls == 0
    for n in clf.narratives:
        assert np.array_equal(cached._pos[n.id], clf._pos[n.id])
        assert np.array_equal(cached._neg[n.id], clf._neg[n.id])
    # Another narratives file (hash) or embedder: the anchors are embedded again.
    other = load_narratives(SHIPPED)
    other = type(other)(other.narratives, other.path, "0" * 64, other.scoring)
    Classifier(other, emb, head)
    assert Counting.calls == 1
