"""Narrative definitions: the shipped file, lexicon rules, validation errors that say the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml

from tests.paths import REPO as PROJECT_DIR
from tracker.base.errors import ConfigError
from tracker.enrich.narratives import Lexicon, Term, load_narratives, save_narratives

SHIPPED = PROJECT_DIR / "models" / "narratives.yaml"
REQUIRED = {"ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation"}

MINIMAL = {
    "narratives": [
        {
            "id": "gold_rush",
            "label": "Gold rush",
            "description": "Investors pile into gold.",
            "seeds": ["gold prices hit a record"],
            "lexicon": {"gold": 1.0},
        }
    ]
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "narratives.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def lexicon(**terms: float) -> Lexicon:
    return Lexicon(tuple(Term.compile(t.replace("_", " "), w) for t, w in terms.items()))


def test_shipped_definitions_are_complete() -> None:
    narratives = load_narratives(SHIPPED)
    assert set(narratives.ids) >= REQUIRED
    for n in narratives:
        assert n.label and len(n.description) > 80
        assert len(n.positive_examples) >= 5 and len(n.negative_examples) >= 3
        assert len(n.lexicon.terms) >= 10
        assert 0 < n.scoring["threshold"] < 1
    assert narratives.get("ai_to_crypto_rotation").require  # links two topics
    assert len(narratives.sha256) == 64


def test_term_case_rule_wildcard_and_boundaries() -> None:
    fed = Term.compile("Fed", 1.0)
    assert fed.pattern.search("the Fed cut rates") and not fed.pattern.search("fed up with it")
    assert not fed.pattern.search("Federal")  # word boundary
    coin = Term.compile("stablecoin*", 1.0)
    assert coin.pattern.search("new Stablecoins rules") and not coin.pattern.search("astablecoin")
    ai = Term.compile("A.I.", 1.0)
    assert ai.pattern.search("the A.I. boom") and not ai.pattern.search("BA.I.X")
    lower = Term.compile("rate cut", 1.0)
    assert lower.pattern.search("Rate   Cut ahead")


def test_lexicon_folds_hyphens_and_curly_quotes_and_splits_signs() -> None:
    lex = lexicon(rate_cut=1.5, rate_hike=-1.5, **{"China's_central_bank": -1.0})
    assert lex.matches("a rate-cut is coming") == {"rate cut": 1.5}
    assert lex.split_score("China\u2019s central bank weighs a rate\u2011hike") == (0.0, 2.5)
    assert lex.score("rate cut or rate hike?") == 0.0
    assert lex.matches("nothing here") == {}


def test_require_groups_must_all_match(tmp_path: Path) -> None:
    rot = load_narratives(SHIPPED).get("ai_to_crypto_rotation")
    assert rot.require_met("Bitcoin rallies as AI stocks soar")
    assert not rot.require_met("Bitcoin rallies on ETF demand")
    assert not rot.require_met("AI stocks soar")


def test_definition_hash_tracks_each_narrative(tmp_path: Path) -> None:
    data = json.loads(json.dumps(MINIMAL))
    data["narratives"].append({**data["narratives"][0], "id": "silver_rush"})
    before = load_narratives(write(tmp_path, data))
    data["narratives"][1]["seeds"] = ["silver squeeze"]
    after = load_narratives(write(tmp_path, data))
    assert before.get("gold_rush").definition_hash == after.get("gold_rush").definition_hash
    assert before.get("silver_rush").definition_hash != after.get("silver_rush").definition_hash
    assert before.sha256 != after.sha256


def test_scoring_defaults_and_overrides(tmp_path: Path) -> None:
    data = json.loads(json.dumps(MINIMAL))
    data["scoring"] = {"threshold": 0.6}
    data["narratives"][0]["scoring"] = {"evidence": 2}
    n = load_narratives(write(tmp_path, data)).get("gold_rush")
    assert n.scoring["threshold"] == 0.6 and n.scoring["evidence"] == 2
    assert n.anchors[0] == "Investors pile into gold."


GOLD = "narrative 'gold_rush'"


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (lambda d: d["narratives"][0].update(id="Gold Rush"), "narrative #1", "snake_case"),
        (lambda d: d["narratives"].append(dict(d["narratives"][0])), GOLD, "used twice"),
        (lambda d: d["narratives"][0].update(colour="gold"), GOLD, "unknown keys ['colour']"),
        (lambda d: d["narratives"][0].pop("description"), GOLD, "missing `description`"),
        (lambda d: d["narratives"][0].pop("seeds"), GOLD, "no seeds and no positive_examples"),
        (lambda d: d["narratives"][0].update(lexicon={"gold": "high"}), GOLD, "has weight 'high'"),
        (lambda d: d["narratives"][0].update(scoring={"treshold": 0.5}), GOLD, "unknown scoring"),
        (lambda d: d["narratives"][0].update(scoring={"threshold": 1.5}), GOLD, "outside (0, 1)"),
        (lambda d: d["narratives"][0].update(require=["gold"]), GOLD, "list of term lists"),
        (lambda d: d["narratives"][0].update(positive_examples=[""]), GOLD, "non-empty strings"),
        (lambda d: d.update(narratives=[]), "narratives", "the list is empty"),
        (lambda d: d.update(extra=1), "top level", "unknown keys ['extra']"),
    ],
)
def test_invalid_definitions_name_file_narrative_and_fix(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], where: str, message: str
) -> None:
    data = json.loads(json.dumps(MINIMAL))
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_narratives(path)
    assert str(info.value).startswith(f"{path}: {where}: ")
    assert message in str(info.value) and "Fix:" in str(info.value)


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_MODELS"):
        load_narratives(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("narratives: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_narratives(bad)
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no `narratives:` list"):
        load_narratives(bad)


def test_save_narratives_upserts(db: sqlite_utils.Database, tmp_path: Path) -> None:
    data = json.loads(json.dumps(MINIMAL))
    save_narratives(db.conn, load_narratives(write(tmp_path, data)))
    data["narratives"][0]["label"] = "Gold fever"
    save_narratives(db.conn, load_narratives(write(tmp_path, data)))
    rows = db.conn.execute("SELECT id, label, description FROM narratives").fetchall()
    assert rows == [("gold_rush", "Gold fever", "Investors pile into gold.")]


def test_labelled_set_resolves_against_shared_data(shared_data: Path) -> None:
    """The shipped labels are ids only and each resolves to exactly one real item."""
    import importlib.util

    script = PROJECT_DIR / "eval" / "narratives_eval.py"
    spec = importlib.util.spec_from_file_location("narratives_eval", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    labels = PROJECT_DIR / "eval" / "labels" / "narratives.jsonl"
    raw = [json.loads(line) for line in labels.read_text().splitlines()]
    fields = {"source", "key", "labels", "stance", "sampled_by", "round", "reviewed", "double", "split"}
    assert all(fields <= set(r) <= fields | {"first_pass"} for r in raw)
    assert all(set(r["stance"]) == set(r["labels"]) for r in raw)
    rows = module.resolve(labels, shared_data)
    assert len(rows) == len(raw) >= 2000
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["title"] for r in rows)
    assert {r["split"] for r in rows} == {"train", "test"}
    ids = set(load_narratives(SHIPPED).ids)
    counts = {nid: sum(nid in r["labels"] for r in rows) for nid in ids}
    assert all(set(r["labels"]) <= ids for r in rows)
    assert min(counts[n] for n in ids - {"ai_to_crypto_rotation"}) >= 250
    assert sum(not r["labels"] for r in rows) >= 1000  # realistic negatives
