"""The curated gazetteer loads, and every kind of bad entry is a ConfigError that says the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import MODELS
from tracker.base.errors import ConfigError
from tracker.enrich.gazetteer import ENTITY_TYPES, alias_key, load_gazetteer, parse_gazetteer

REPO_GAZETTEER = MODELS / "gazetteer.yaml"


def entry(entity_id: str, **fields: Any) -> dict[str, Any]:
    """A minimal valid organisation entry."""
    return {"id": entity_id, "name": entity_id.title(), "type": "bank", **fields}


def test_repository_gazetteer_is_a_real_starting_set() -> None:
    gaz = load_gazetteer(REPO_GAZETTEER)
    assert len(gaz) >= 150
    types = {e.type for e in gaz.entities}
    for needed in ("asset_manager", "bank", "exchange", "crypto_exchange", "regulator",
                   "central_bank", "person", "crypto_asset", "ai_company", "index"):
        assert needed in types
    for entity_id in ("goldman_sachs", "cathie_wood", "ark_invest", "bitcoin", "sec", "cftc",
                      "nydfs", "federal_reserve", "ecb", "blackrock", "coinbase", "nvidia"):
        assert gaz.get(entity_id) is not None, entity_id
    assert "Goldman" in gaz.by_id["goldman_sachs"].aliases
    wood = gaz.by_id["cathie_wood"]
    assert [(a.org, a.role) for a in wood.affiliations] == [("ark_invest", "CEO")]


def test_every_affiliation_points_at_an_organisation_in_the_file() -> None:
    gaz = load_gazetteer(REPO_GAZETTEER)
    people = [e for e in gaz.entities if e.type == "person"]
    assert len(people) >= 30
    for person in people:
        for aff in person.affiliations:
            assert gaz.by_id[aff.org].type != "person"


def test_digest_tracks_file_content(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.yaml"
    path.write_text(yaml.safe_dump({"entities": [entry("acme")]}))
    first = load_gazetteer(path).digest
    path.write_text(yaml.safe_dump({"entities": [entry("acme", aliases=["ACME"])]}))
    second = load_gazetteer(path).digest
    assert first != second and len(first) == len(second) == 8
    assert load_gazetteer(path).digest == second


def test_entity_row_serialises_aliases_and_affiliations() -> None:
    gaz = parse_gazetteer({"entities": [
        entry("acme", aliases=["ACME"], ambiguous_aliases=["Acme"]),
        {"id": "jo", "name": "Jo Doe", "type": "person",
         "affiliations": [{"org": "acme", "role": "CEO"}]},
    ]})
    acme, jo = gaz.entities
    assert json.loads(acme.to_row()["aliases"]) == ["ACME", "Acme"]
    assert json.loads(jo.to_row()["affiliations"]) == [{"org": "acme", "role": "CEO"}]
    assert "Acme" not in acme.surface_forms and "ACME" in acme.surface_forms


def test_ambiguous_name_is_not_a_surface_form() -> None:
    gaz = parse_gazetteer({"entities": [entry("circle", name="Circle",
                                              ambiguous_aliases=["Circle"])]})
    assert gaz.entities[0].surface_forms == ()


@pytest.mark.parametrize(
    ("entities", "needles"),
    [
        ([entry("acme"), entry("acme")], ["duplicate id 'acme'", "rename"]),
        ([entry("acme", aliases=["AC"]), entry("bolt", aliases=["ac"])],
         ["'ac'", "'bolt'", "'acme'", "remove it"]),
        ([entry("acme", type="bakery")], ["'acme'", "'bakery'", "asset_manager"]),
        ([entry("Acme Corp")], ["'Acme Corp'", "lower-case"]),
        ([entry("acme", colour="red")], ["'acme'", "colour"]),
        ([entry("acme", name="")], ["'acme'", "name"]),
        ([entry("acme", aliases="ACME")], ["'acme'", "aliases", "list"]),
        ([{"id": "jo", "name": "Jo", "type": "person", "affiliations": [{"org": "nope"}]}],
         ["'jo'", "'nope'", "not in the gazetteer"]),
        ([{"id": "jo", "name": "Jo", "type": "person"},
          {"id": "al", "name": "Al", "type": "person", "affiliations": ["jo"]}],
         ["'al'", "'jo'", "a person"]),
        ([entry("acme", affiliations=[{"org": "acme"}])], ["'acme'", "only people"]),
        (["just a string"], ["entry #1", "mapping"]),
    ],
)
def test_bad_entries_name_the_entry_and_the_fix(entities: list[Any], needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_gazetteer({"entities": entities})
    for needle in needles:
        assert needle in str(info.value)


def test_not_entities_may_not_clash_with_an_alias() -> None:
    with pytest.raises(ConfigError, match="lists ipo, which is also an entity alias"):
        parse_gazetteer({"entities": [entry("acme", aliases=["IPO"])], "not_entities": ["ipo"]})
    gaz = parse_gazetteer({"entities": [entry("acme")], "not_entities": ["IPO", "E T F"]})
    assert gaz.not_entities == {"ipo", "e t f"}


@pytest.mark.parametrize("data", [None, [], {"entities": "x"}, {"entities": [], "extra": 1}])
def test_bad_top_level_is_a_config_error(data: Any) -> None:
    with pytest.raises(ConfigError):
        parse_gazetteer(data)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_MODELS"):
        load_gazetteer(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities: [ {id: x\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_gazetteer(bad)


def test_alias_key_ignores_case_and_spacing() -> None:
    assert alias_key("  Goldman   SACHS ") == alias_key("goldman sachs") == "goldman sachs"
    assert "person" in ENTITY_TYPES


def test_repository_gazetteer_covers_the_market() -> None:
    gaz = load_gazetteer(REPO_GAZETTEER)
    names = [e for e in gaz.entities if e.type not in ("place", "region")]
    assert len(names) >= 1500
    by_type: dict[str, int] = {}
    for e in gaz.entities:
        by_type[e.type] = by_type.get(e.type, 0) + 1
    assert by_type["central_bank"] >= 20 and by_type["person"] >= 300
    assert by_type["exchange"] >= 20 and by_type["index"] >= 40 and by_type["media"] >= 40
    assert by_type["crypto_asset"] >= 50 and by_type["ai_company"] >= 30
    # exchanges are distinct from their indexes; tickers and affiliations are data
    assert gaz.by_id["nasdaq_inc"].type == "exchange"
    assert gaz.by_id["nasdaq_composite"].type == "index"
    assert "AAPL" in gaz.by_id["apple"].tickers
    powell = gaz.by_id["jerome_powell"]
    assert ("federal_reserve", "chair") in [(a.org, a.role) for a in powell.affiliations]
    for person in ("xi_jinping", "narendra_modi", "keir_starmer", "friedrich_merz",
                   "luiz_inacio_lula_da_silva", "rachel_reeves", "kazuo_ueda"):
        assert gaz.get(person) is not None, person


def test_a_surface_form_may_be_one_plain_alias_and_other_entries_ambiguous_alias() -> None:
    gaz = parse_gazetteer({"entities": [
        entry("index", type="index", name="Acme Index", aliases=["Acme"]),
        entry("exchange", type="exchange", name="Acme Exchange", ambiguous_aliases=["Acme"],
              context={"before": ["listed on"]}),
    ]})
    assert gaz.by_id["exchange"].context is not None
    assert gaz.by_id["exchange"].context.matches("listed on Acme", 10, 14, 0, 14)
    assert not gaz.by_id["exchange"].context.matches("the Acme fell", 4, 8, 0, 13)


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"context": {"befor": ["x"]}}, ["'acme'", "befor"]),
        ({"context": {"before": ["(unclosed"]}}, ["'acme'", "(unclosed", "regular expression"]),
        ({"exclude": {"sentence": "fruit"}}, ["'acme'", "sentence", "list"]),
        ({"tickers": [""]}, ["'acme'", "tickers"]),
    ],
)
def test_bad_context_rules_name_the_entry_and_the_fix(fields: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_gazetteer({"entities": [entry("acme", **fields)]})
    for needle in needles:
        assert needle in str(info.value), str(info.value)
