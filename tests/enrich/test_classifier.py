"""Narrative classification: sentences, scoring, the head, evaluation and the enrich stage."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from tests.paths import REPO as PROJECT_DIR
from tracker.analyze import analyze_text, format_analysis
from tracker.base.errors import ConfigError, ModelError
from tracker.base.settings import load_settings
from tracker.cli import cli
from tracker.enrich.classifier import (
    FEATURES,
    ArticleText,
    Classifier,
    article_sentences,
    load_classifier,
    split_sentences,
)
from tracker.enrich.embeddings import FakeEmbedder, text_hash, vector_from_bytes
from tracker.enrich.head import head_path, load_head, save_head
from tracker.enrich.narrative_stage import (
    NARRATIVES_STAGE_VERSION,
    NarrativeStage,
    split_article_text,
)
from tracker.enrich.narratives import load_narratives
from tracker.enrich.runner import enrich_pending
from tracker.learn.evaluate import PRF, read_labels, score_predictions
from tracker.learn.train import best_threshold, fit_head, fit_logistic

MODELS = PROJECT_DIR / "models"
SHIPPED = MODELS / "narratives.yaml"
IDS = ["ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation"]


@pytest.fixture
def fake_clf() -> Classifier:
    return Classifier(load_narratives(SHIPPED), FakeEmbedder(dim=64))


# --- sentences -------------------------------------------------------------------------


def test_split_sentences_keeps_abbreviations_and_figures() -> None:
    text = (
        "The U.S. economy grew 2.5% in Q3. Mr. Powell said rates stay at 4.25%. "
        '"We are patient," he said. Bitcoin rose to $110,000.\nA new paragraph starts here'
    )
    assert split_sentences(text) == [
        "The U.S. economy grew 2.5% in Q3.",
        "Mr. Powell said rates stay at 4.25%.",
        '"We are patient," he said.',
        "Bitcoin rose to $110,000.",
        "A new paragraph starts here",
    ]
    assert split_sentences("") == [] and split_sentences(" -- ") == []


def test_article_sentences_clean_feed_text() -> None:
    title = "Fed cuts rates again - Reuters"
    body = (
        '<p>WASHINGTON, March 3 (Reuters) - The Federal Reserve cut rates, opens new tab , on '
        "Wednesday.</p><p>Officials&nbsp;were split. Markets rallied. Bonds rose. Gold fell. "
        "The dollar slipped. Oil was flat.</p>"
    )
    sents = article_sentences(title, body, max_sentences=4)
    assert sents == [
        "Fed cuts rates again",
        "The Federal Reserve cut rates on Wednesday.",
        "Officials were split.",
        "Markets rallied.",
    ]
    # A summary that only repeats the title (as aggregator feeds do) adds nothing.
    assert article_sentences(title, "Fed cuts rates again  Reuters", 6) == ["Fed cuts rates again"]
    assert split_article_text("Title here\n\nBody one. Body two.") == ArticleText(
        "Title here", "Body one. Body two."
    )
    assert split_article_text("Just one paragraph. Two sentences.").title == ""


# --- scoring ---------------------------------------------------------------------------


def test_scores_are_probabilities_with_evidence_from_the_text(fake_clf: Classifier) -> None:
    result = fake_clf.classify_text(
        "Pension fund buys spot bitcoin ETF",
        "The fund disclosed a stablecoin holding. The weather was mild.",
    )
    assert [s.narrative_id for s in result.scores] == IDS
    assert result.sentences[0] == "Pension fund buys spot bitcoin ETF"
    for s in result.scores:
        assert 0.0 <= s.score <= 1.0
        assert s.evidence and all(e.sentence in result.sentences for e in s.evidence)
        assert [e.score for e in s.evidence] == sorted((e.score for e in s.evidence), reverse=True)
        assert s.is_member == (s.score >= 0.5)
        assert s.method.startswith("prototype+lexicon")
    crypto = result.get("crypto_legitimacy")
    assert crypto.evidence[0].sentence != "The weather was mild."
    assert result.embedding.shape == (64,)
    assert np.isclose(np.linalg.norm(result.embedding), 1.0)


def test_a_batch_of_articles_is_embedded_in_one_call() -> None:
    fake = FakeEmbedder(dim=32)
    clf = Classifier(load_narratives(SHIPPED), fake)
    fake.calls.clear()
    results = clf.classify([ArticleText(f"Headline {i}", "One. Two. Three.") for i in range(10)])
    assert len(results) == 10 and fake.calls == [40]
    assert clf.classify([]) == [] and fake.calls == [40]


def test_lexicon_and_require_move_the_prior() -> None:
    n = load_narratives(SHIPPED).get("ai_to_crypto_rotation")
    i = {name: k for k, name in enumerate(FEATURES)}
    base = np.zeros(len(FEATURES))
    base[i["pos_max"]] = 0.55
    base[i["require"]] = 1.0
    more_lexicon = base.copy()
    more_lexicon[i["lexicon"]] = 0.8
    counter_lexicon = more_lexicon.copy()
    counter_lexicon[i["lexicon_negative"]] = 0.8
    no_require = base.copy()
    no_require[i["require"]] = 0.0
    closer_negative = base.copy()
    closer_negative[i["neg_excess"]] = 0.1
    rows = np.vstack([base, more_lexicon, counter_lexicon, no_require, closer_negative])
    p = Classifier.prior(n, rows)
    assert p[1] > p[0] and np.isclose(p[2], p[0])
    assert p[3] < p[0] and p[4] < p[0]


def test_model_version_names_embedder_definitions_and_head(fake_clf: Classifier) -> None:
    sha = load_narratives(SHIPPED).sha256[:12]
    assert fake_clf.model_version == f"fake-hash-64+narr:{sha}+head:none"


# --- the trained head ------------------------------------------------------------------


def test_logistic_regression_separates_and_threshold_maximises_f1() -> None:
    rng = np.random.RandomState(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    mean, scale, coef, intercept = fit_logistic(x, y, lam=0.1)
    pred = 1 / (1 + np.exp(-(((x - mean) / scale) @ coef + intercept)))
    assert ((pred >= 0.5) == (y > 0)).mean() > 0.95
    assert coef[0] > 0 > coef[1] and abs(coef[2]) < abs(coef[0]) / 5
    t, f1 = best_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9]))
    assert f1 == 1.0 and 0.3 < t <= 0.6


def synthetic_training(
    clf: Classifier, n: int = 120
) -> tuple[dict[str, np.ndarray], np.ndarray, list[frozenset[str]]]:
    rng = np.random.RandomState(1)
    labels = [frozenset({"ai_productivity"}) if k % 3 == 0 else frozenset() for k in range(n)]
    feats = {}
    for nid in clf.narratives.ids:
        f = rng.uniform(0, 0.3, size=(n, len(FEATURES)))
        f[:, FEATURES.index("require")] = 1.0
        if nid == "ai_productivity":
            f[:, 0] += np.array([0.4 if lab else 0.0 for lab in labels])
        feats[nid] = f
    return feats, rng.normal(size=(n, clf.embedder.dim)), labels


def test_head_fits_only_where_there_are_enough_positives(
    fake_clf: Classifier, tmp_path: Path
) -> None:
    feats, emb, labels = synthetic_training(fake_clf)
    report = fit_head(fake_clf, feats, emb, labels, min_positives=10, with_embedding=False)
    assert set(report.head.narratives) == {"ai_productivity"}
    fit = report.fits["ai_productivity"]
    assert fit.fitted and fit.cv_f1 is not None and fit.cv_f1 > 0.9
    assert not report.fits["fed_easing_liquidity"].fitted
    assert "0 positives" in report.fits["fed_easing_liquidity"].reason

    path = save_head(report.head, tmp_path / "heads" / "narratives.json")
    data = json.loads(path.read_text())  # plain JSON: nothing executable to unpickle
    assert data["format"] == "tracker-narrative-head/2" and data["version"] == report.head.version
    loaded = load_head(path, len(FEATURES))
    assert loaded is not None and loaded.version == report.head.version
    nh = loaded.narratives["ai_productivity"]
    assert nh.coef.shape == (len(FEATURES),) and nh.threshold == fit.threshold

    clf = Classifier(fake_clf.narratives, fake_clf.embedder, loaded)
    ai = clf.narratives.get("ai_productivity")
    assert clf.method(ai) == "prototype+lexicon+head"
    assert clf.method(clf.narratives.get("fed_easing_liquidity")) == "prototype+lexicon+require"
    assert clf.model_version.endswith(f"+head:{loaded.version}")
    strong, weak = feats["ai_productivity"][0].copy(), feats["ai_productivity"][1].copy()
    scores, threshold = clf.score_features(ai, np.vstack([strong, weak]), emb[:2])
    assert scores[0] > threshold > scores[1]

    # Same numbers, same version; different numbers, different version.
    again = load_head(save_head(loaded, tmp_path / "again.json"), len(FEATURES))
    assert again is not None and again.version == loaded.version
    data["narratives"]["ai_productivity"]["coef"][0] += 1.0
    path.write_text(json.dumps(data))
    changed = load_head(path, len(FEATURES))
    assert changed is not None and changed.version != loaded.version


def test_head_with_embedding_inputs(fake_clf: Classifier) -> None:
    feats, emb, labels = synthetic_training(fake_clf)
    head = fit_head(fake_clf, feats, emb, labels, min_positives=10, with_embedding=True).head
    nh = head.narratives["ai_productivity"]
    assert nh.coef.shape == (len(FEATURES) + fake_clf.embedder.dim,)
    clf = Classifier(fake_clf.narratives, fake_clf.embedder, head)
    result = clf.classify_text("AI capex soars")
    assert result.get("ai_productivity").method.endswith("+head")


def test_head_is_ignored_when_its_narrative_changed(
    fake_clf: Classifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feats, emb, labels = synthetic_training(fake_clf)
    head = fit_head(fake_clf, feats, emb, labels, min_positives=10).head
    data = yaml.safe_load(SHIPPED.read_text())
    data["narratives"][0]["seeds"].append("AI agents replace call centres")
    changed = tmp_path / "narratives.yaml"
    changed.write_text(yaml.safe_dump(data))
    with caplog.at_level(logging.WARNING):
        clf = Classifier(load_narratives(changed), fake_clf.embedder, head)
    assert clf.head_for(clf.narratives.get("ai_productivity")) is None
    assert "ai_productivity changed" in caplog.text
    assert not clf.classify_text("AI capex").get("ai_productivity").method.endswith("+head")
    # A head fitted on another embedder is not used at all.
    other = Classifier(fake_clf.narratives, FakeEmbedder(dim=16), head)
    assert other.head is None


def test_bad_head_files_raise_model_errors(tmp_path: Path) -> None:
    path = tmp_path / "narratives.json"
    assert load_head(path, len(FEATURES)) is None
    path.write_text("{not json")
    with pytest.raises(ModelError, match="cannot read") as info:
        load_head(path, len(FEATURES))
    assert "tracker train --labels" in str(info.value)
    path.write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(ModelError, match="not a narrative head"):
        load_head(path, len(FEATURES))
    bad = {"format": "tracker-narrative-head/1", "embedder": "e", "dim": 4, "narratives": {
        "x": {"definition_hash": "h", "mean": [0.0], "scale": [1.0], "coef": [1.0],
              "intercept": 0.0, "threshold": 0.5}}}
    path.write_text(json.dumps(bad))
    with pytest.raises(ModelError, match="malformed"):
        load_head(path, len(FEATURES))


# --- evaluation ------------------------------------------------------------------------


def test_read_labels_jsonl_and_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(
        json.dumps({"id": "a", "text": "Title\n\nBody text.", "labels": ["ai_productivity"]})
        + "\n\n"
        + json.dumps({"title": "Only a title", "narratives": []}) + "\n"
    )
    items = read_labels(jsonl)
    assert [(i.id, i.title, i.body, set(i.labels)) for i in items] == [
        ("a", "Title", "Body text.", {"ai_productivity"}),
        ("line 3", "Only a title", "", set()),
    ]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(
        'text,labels\n"Fed cuts, again",fed_easing_liquidity;ai_productivity\nRain,\n'
    )
    items = read_labels(csv_path)
    assert [set(i.labels) for i in items] == [{"fed_easing_liquidity", "ai_productivity"}, set()]
    assert items[0].body == "Fed cuts, again"


def test_bad_label_files_say_where_and_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "labels": []}\n{oops\n')
    with pytest.raises(ConfigError, match="line 2 is not JSON"):
        read_labels(path)
    path.write_text('{"labels": ["ai_productivity"]}\n')
    with pytest.raises(ConfigError, match=r"narratives_eval\.py"):
        read_labels(path)
    path.write_text('{"text": "x", "labels": "ai_productivity"}\n{"text": "y", "labels": 3}\n')
    with pytest.raises(ConfigError, match="line 2: labels 3"):
        read_labels(path)
    with pytest.raises(ConfigError, match="not found"):
        read_labels(tmp_path / "missing.jsonl")


def test_items_without_labels_are_refused_not_read_as_negatives(tmp_path: Path) -> None:
    """A missing or misspelt `labels` key (JSONL key or CSV column) is an error, never "no narrative"."""
    path = tmp_path / "typo.jsonl"
    path.write_text('{"text": "Fed cuts", "labels": ["fed_easing_liquidity"]}\n'
                    '{"text": "Fed holds", "lables": ["fed_easing_liquidity"]}\n')
    with pytest.raises(ConfigError, match=r"line 2: no `labels` \(its keys: lables, text\)"):
        read_labels(path)
    csv_path = tmp_path / "nolabels.csv"
    csv_path.write_text("text,narrative\nFed cuts,fed_easing_liquidity\n")
    with pytest.raises(ConfigError, match="no `labels`"):
        read_labels(csv_path)
    path.write_text('{"text": "Fed holds", "labels": []}\n')
    assert read_labels(path)[0].labels == frozenset()


def test_precision_recall_f1_counts() -> None:
    gold = [frozenset({"a"}), frozenset({"a", "b"}), frozenset(), frozenset({"b"})]
    pred = [frozenset({"a"}), frozenset({"b"}), frozenset({"a"}), frozenset()]
    scores = score_predictions(gold, pred, ["a", "b", "c"])
    a, b, c = scores["a"], scores["b"], scores["c"]
    assert (a.tp, a.fp, a.fn, a.tn) == (1, 1, 1, 1)
    assert (a.precision, a.recall, a.f1) == (0.5, 0.5, 0.5)
    assert (b.tp, b.fp, b.fn) == (1, 0, 1) and b.precision == 1.0 and b.recall == 0.5
    assert np.isclose(b.f1, 2 / 3)
    assert c.f1 == 0.0 and c.support == 0
    assert PRF(tp=3, fp=1, fn=0).to_dict()["precision"] == 0.75


# --- the enrich stage ------------------------------------------------------------------


def add_articles(conn: sqlite3.Connection, texts: list[tuple[str, str]]) -> list[int]:
    conn.execute(
        "INSERT OR IGNORE INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'http://x', 'now')"
    )
    ids = []
    for k, (title, summary) in enumerate(texts):
        cur = conn.execute(
            "INSERT INTO articles (feed_id, item_key, title, summary, day, fetched_at,"
            " content_hash) VALUES (1, ?, ?, ?, '2026-01-05', 'now', ?)",
            (f"k{k}-{title}", title, summary, f"h{k}-{title}"),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


ARTICLES = [
    ("Pension fund buys spot bitcoin ETF", "The state fund disclosed a $300mn holding."),
    ("Fed signals rate cuts", "Officials expect to lower borrowing costs. Markets rallied."),
    ("Storm hits the coast", "Heavy rain caused flooding."),
]


def test_stage_writes_scores_evidence_and_vectors(db: sqlite_utils.Database) -> None:
    conn = db.conn
    ids = add_articles(conn, ARTICLES)
    fake = FakeEmbedder(dim=16)
    stage = NarrativeStage(load_narratives(SHIPPED), None, fake)
    assert stage.version.startswith(f"narratives:{NARRATIVES_STAGE_VERSION}+fake-hash-16+narr:")
    assert stage.version.endswith("+head:none")
    summary = enrich_pending(db, load_settings(env={}), stages=[stage])
    assert summary.stages["narratives"].articles == 3
    assert summary.stages["narratives"].rows["article_narratives"] == 12
    assert {r[0] for r in conn.execute("SELECT id FROM narratives")} == set(IDS)

    rows = conn.execute(
        "SELECT article_id, narrative_id, score, is_member, method, model_version, evidence"
        " FROM article_narratives ORDER BY article_id, narrative_id"
    ).fetchall()
    assert len(rows) == 12
    for aid, nid, score, member, method, version, evidence in rows:
        assert aid in ids and nid in IDS and 0 <= score <= 1 and member in (0, 1)
        assert method.startswith("prototype+lexicon") and version.startswith("fake-hash-16+narr:")
        items = json.loads(evidence)
        assert items and set(items[0]) == {"sentence", "score"}

    vecs = conn.execute("SELECT article_id, model, dim, vector FROM article_embeddings").fetchall()
    assert sorted(v[0] for v in vecs) == ids
    for _, model, dim, blob in vecs:
        assert model == "fake-hash-16" and dim == 16
        assert np.isclose(np.linalg.norm(vector_from_bytes(blob, 16)), 1.0)
    cached = {r[0] for r in conn.execute("SELECT text_hash FROM embedding_cache")}
    assert text_hash("Pension fund buys spot bitcoin ETF") in cached

    # Nothing pending at the same version.
    again = enrich_pending(db, load_settings(env={}), stages=[stage])
    assert again.stages["narratives"].articles == 0


def test_editing_the_yaml_rescores_without_re_embedding_articles(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    conn = db.conn
    add_articles(conn, ARTICLES)
    first = NarrativeStage(load_narratives(SHIPPED), None, FakeEmbedder(dim=16))
    enrich_pending(db, load_settings(env={}), stages=[first])

    data = yaml.safe_load(SHIPPED.read_text())
    data["narratives"][1]["seeds"].append("pension funds buy bitcoin")
    edited = tmp_path / "narratives.yaml"
    edited.write_text(yaml.safe_dump(data))
    inner = FakeEmbedder(dim=16)
    second = NarrativeStage(load_narratives(edited), None, inner)
    assert second.version != first.version
    summary = enrich_pending(db, load_settings(env={}), stages=[second])
    assert summary.stages["narratives"].articles == 3
    # Only the one new seed phrase was embedded: article sentences came from the cache.
    assert inner.calls == [1]
    assert conn.execute("SELECT COUNT(*) FROM article_narratives").fetchone()[0] == 12
    versions = {r[0] for r in conn.execute("SELECT DISTINCT model_version FROM article_narratives")}
    assert versions == {second.classifier.model_version}


def test_stage_from_settings_and_analyze(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(SHIPPED, models / "narratives.yaml")
    stage = NarrativeStage.from_settings(load_settings(env={}, models_dir=models))
    # Layered lookup: the user's narratives.yaml, and the packaged head (no user copy of it).
    assert stage.narratives.path == models / "narratives.yaml"
    assert stage.head is not None and not stage.version.endswith("+head:none")
    fake_stage = NarrativeStage(stage.narratives, None, FakeEmbedder(dim=16))
    result = analyze_text("Fed signals rate cuts\n\nOfficials expect cuts.", load_settings(env={}),
                          stages=[fake_stage])
    assert [n["id"] for n in result["narratives"]] == IDS
    assert set(result["narratives"][0]) == {
        "id", "score", "is_member", "evidence", "stance", "stance_evidence"
    }
    assert "Narratives (" in format_analysis(result)
    (models / "narratives.yaml").write_text("narratives: [", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"narratives\.yaml"):
        NarrativeStage.from_settings(load_settings(env={}, models_dir=models))


def test_eval_cli_reports_bad_label_ids(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"text": "x", "labels": ["no_such_narrative"]}) + "\n")
    result = CliRunner().invoke(cli, ["eval", "--labels", str(labels)])
    assert result.exit_code == 2
    assert "unknown narrative ids ['no_such_narrative']" in result.output


# --- the real model --------------------------------------------------------------------


@pytest.fixture(scope="session")
def shipped() -> Classifier:
    """The shipped configuration: narratives.yaml, the trained head and MiniLM."""
    return load_classifier(MODELS)


ACCEPTANCE = {
    "ai_productivity": [
        "Tech giants lift AI spending again\n\nThe four largest cloud groups said they would spend "
        "$400bn on data centres next year, and analysts asked when the investment would pay off.",
        "Economists find little sign of an AI productivity boom\n\nOutput per hour has barely "
        "moved even as companies roll out chatbots, a central bank study found.",
        "Chip stocks slump on AI bubble fears\n\nInvestors sold semiconductor shares after a "
        "report questioned whether demand for AI servers can last.",
    ],
    "crypto_legitimacy": [
        "Pension fund buys spot bitcoin ETF\n\nThe state retirement system disclosed a $300mn "
        "holding in a spot bitcoin exchange-traded fund, its first crypto investment.",
        "Stablecoin issuer wins EU licence\n\nThe company received an e-money licence under MiCA, "
        "allowing banks to settle payments in its euro token.",
        "Crypto exchange prices IPO above range\n\nThe exchange raised $1.2bn in its New York "
        "listing after regulators approved its compliance programme.",
    ],
    "fed_easing_liquidity": [
        "Fed cuts rates for a second time\n\nThe Federal Reserve lowered its benchmark rate by a "
        "quarter point and signalled more easing as the labour market cools.",
        "Traders ramp up bets on Fed easing\n\nFutures now price three Federal Reserve rate cuts "
        "next year after weak jobs data.",
        "Fed to end balance sheet runoff\n\nThe central bank will stop quantitative tightening and "
        "buy Treasury bills to add liquidity to money markets.",
    ],
    "ai_to_crypto_rotation": [
        "Bitcoin miners become AI landlords\n\nListed bitcoin miners are converting their sites "
        "into data centres to rent computing power to AI developers.",
    ],
}
UNRELATED = [
    "United beat City 2-1 in the derby\n\nA late goal from the captain settled the match in front "
    "of a sell-out crowd.",
    "Storm brings heavy rain and strong winds\n\nForecasters warned of flooding across the north "
    "as the storm moves east over the weekend.",
    "Heatwave to bring record temperatures\n\nThe weather service expects 40C in the south.",
    "Incumbent concedes in close election\n\nThe opposition candidate won the presidential run-off "
    "with 52 per cent of the vote, official results showed.",
    "Voters head to the polls in regional elections\n\nTurnout was high as polling stations opened "
    "across the country.",
]
ROTATION = (
    "AI stock windfall spills into bitcoin\n\nInvestors who made fortunes as Nvidia and other AI "
    "stocks soared are moving their gains into bitcoin, and crypto funds recorded their biggest "
    "weekly inflows this year."
)


@pytest.mark.models
@pytest.mark.parametrize(("expected", "text"), [(k, t) for k, ts in ACCEPTANCE.items() for t in ts])
def test_written_texts_land_in_their_narrative(
    shipped: Classifier, expected: str, text: str
) -> None:
    result = shipped.classify([split_article_text(text)])[0]
    members = {s.narrative_id for s in result.scores if s.is_member}
    assert expected in members
    # A story about one narrative is not claimed by the unrelated ones.
    assert not members & ({"crypto_legitimacy", "fed_easing_liquidity"} - {expected}), members


@pytest.mark.models
@pytest.mark.parametrize("text", UNRELATED)
def test_unrelated_news_belongs_to_no_narrative(shipped: Classifier, text: str) -> None:
    result = shipped.classify([split_article_text(text)])[0]
    assert [s.narrative_id for s in result.scores if s.is_member] == []
    assert max(s.score for s in result.scores) < 0.3


@pytest.mark.models
def test_ai_gains_flowing_into_crypto_score_high_on_both(shipped: Classifier) -> None:
    result = shipped.classify([split_article_text(ROTATION)])[0]
    ai, rot = result.get("ai_productivity"), result.get("ai_to_crypto_rotation")
    assert ai.is_member and rot.is_member and ai.score > 0.8 and rot.score > 0.8
    assert "bitcoin" in rot.evidence[0].sentence
    # Without the crypto half the rotation narrative does not fire.
    plain = shipped.classify([ArticleText("AI stocks soar", "Nvidia led a rally in AI shares.")])[0]
    assert not plain.get("ai_to_crypto_rotation").is_member
    assert plain.get("ai_productivity").is_member


@pytest.mark.models
def test_train_and_eval_commands(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(SHIPPED, models / "narratives.yaml")
    rows = [{"text": t, "labels": [k]} for k, ts in ACCEPTANCE.items() for t in ts]
    rows += [{"text": t, "labels": []} for t in UNRELATED]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runner = CliRunner(env={"TRACKER_MODELS": str(models)})
    args = ["train", "--labels", str(labels), "--min-positives", "3", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["path"] == str(head_path(models))
    assert out["narratives"]["ai_productivity"]["fitted"] is True
    assert out["narratives"]["ai_to_crypto_rotation"]["fitted"] is False
    head = load_head(head_path(models), len(FEATURES))
    assert head is not None and head.version == out["version"]
    assert head.metadata["labels_sha256"]

    result = runner.invoke(cli, ["eval", "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert f"head:{head.version}" in result.output
    assert "prototype+lexicon+head" in result.output
    result = runner.invoke(cli, ["eval", "--labels", str(labels), "--json", "--no-head"])
    report = json.loads(result.output)
    assert report["items"] == len(rows) and report["model_version"].endswith("+head:none")
    assert report["narratives"]["fed_easing_liquidity"]["support"] == 3

    # Too few positives for every narrative: refused, and the head on disk is left as it was.
    before = head_path(models).read_bytes()
    result = runner.invoke(cli, ["train", "--labels", str(labels), "--min-positives", "50"])
    assert result.exit_code == 2 and "nothing was fitted" in result.output and "Fix" in result.output
    assert "Traceback" not in result.output and head_path(models).read_bytes() == before
