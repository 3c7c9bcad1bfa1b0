"""Money/percent parsing and attachment: pure functions, no model needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.enrich.claims import ParsedFigure, attach, extract_claims, find_figures, parse_figure
from tracker.enrich.entities import Figure, Mention, TaggedText
from tracker.enrich.gazetteer import parse_gazetteer


@pytest.mark.parametrize(
    ("text", "kind", "value", "low", "high", "unit"),
    [
        ("$1.2 trillion", "money", 1.2e12, 1.2e12, 1.2e12, "USD"),
        ("$20 billion", "money", 2e10, 2e10, 2e10, "USD"),
        ("US$5bn", "money", 5e9, 5e9, 5e9, "USD"),
        ("USD 3 million", "money", 3e6, 3e6, 3e6, "USD"),
        ("€3.5bn", "money", 3.5e9, 3.5e9, 3.5e9, "EUR"),
        ("£200m", "money", 2e8, 2e8, 2e8, "GBP"),
        ("HK$10bn", "money", 1e10, 1e10, 1e10, "HKD"),
        ("Rs 279 cr", "money", 2.79e9, 2.79e9, 2.79e9, "INR"),
        ("Rs 6.4 crore", "money", 6.4e7, 6.4e7, 6.4e7, "INR"),
        ("5 billion yuan", "money", 5e9, 5e9, 5e9, "CNY"),
        ("$1,250,000", "money", 1.25e6, 1.25e6, 1.25e6, "USD"),
        ("50 cents", "money", 0.5, 0.5, 0.5, "USD"),
        ("10,000 bitcoin", "money", 1e4, 1e4, 1e4, "BTC"),
        ("a billion dollars", "money", 1e9, 1e9, 1e9, "USD"),
        ("$10-$15 billion", "money", None, 1e10, 1.5e10, "USD"),
        ("$10-15 billion", "money", None, 1e10, 1.5e10, "USD"),
        ("$10 billion to $15 billion", "money", None, 1e10, 1.5e10, "USD"),
        ("$500 million to $1 billion", "money", None, 5e8, 1e9, "USD"),
        ("between $2 and $3 trillion", "money", None, 2e12, 3e12, "USD"),
        ("more than $5 billion", "money", 5e9, 5e9, None, "USD"),
        ("up to €2bn", "money", 2e9, None, 2e9, "EUR"),
        ("between 0.5% and 0.6%", "percent", None, 0.5, 0.6, "%"),
        ("10-15%", "percent", None, 10, 15, "%"),
        ("10% to 15%", "percent", None, 10, 15, "%"),
        ("10 to 15 per cent", "percent", None, 10, 15, "%"),
        ("3.5 percent", "percent", 3.5, 3.5, 3.5, "%"),
        ("-5%", "percent", -5, -5, -5, "%"),
        ("nearly 7%", "percent", 7, 7, 7, "%"),
        ("up to 10%", "percent", 10, None, 10, "%"),
        ("25 basis points", "percent", 25, 25, 25, "bp"),
        ("50bps", "percent", 50, 50, 50, "bp"),
        ("2.5 percentage points", "percent", 2.5, 2.5, 2.5, "pp"),
    ],
)
def test_parse_figure(text: str, kind: str, value: float | None, low: float | None,
                      high: float | None, unit: str) -> None:
    figure = parse_figure(text)
    assert figure is not None
    assert (figure.kind, figure.unit) == (kind, unit)
    for got, want in ((figure.value, value), (figure.low, low), (figure.high, high)):
        assert got == (None if want is None else pytest.approx(want))


@pytest.mark.parametrize(
    "text",
    ["S&P 500 hits record", "in 2025", "COVID-19 cases", "the 10-year yield", "Q3 results",
     "FTSE 100", "rated 5 stars", "G7 leaders", "$ amounts"],
)
def test_no_figure_without_a_currency_or_percent_sign(text: str) -> None:
    assert find_figures(text) == []


def test_figures_carry_exact_offsets() -> None:
    text = "Stocks fell 10-15%, the fund raised $10-$15 billion; Kraken's $20 billion IPO."
    figures = find_figures(text)
    assert [f.text for f in figures] == ["10-15%", "$10-$15 billion", "$20 billion"]
    for f in figures:
        assert text[f.start : f.end] == f.text


def test_a_change_from_one_figure_to_another_is_not_a_range() -> None:
    figures = find_figures("Inflation rose from 2% to 3% while revenue went from $5bn to $7bn.")
    assert [(f.figure.value, f.figure.unit) for f in figures] == [
        (2, "%"), (3, "%"), (5e9, "USD"), (7e9, "USD")
    ]


def test_descending_pair_is_two_figures_not_a_range() -> None:
    assert [f.text for f in find_figures("cut from 15-10% said")] != ["15-10%"]


@given(
    st.decimals(min_value="0.01", max_value="999.99", places=2),
    st.sampled_from([("thousand", 1e3), ("million", 1e6), ("bn", 1e9), ("trillion", 1e12)]),
)
def test_money_scales(number: object, scale: tuple[str, float]) -> None:
    word, factor = scale
    figure = parse_figure(f"raised ${number} {word} on Monday")
    assert figure == ParsedFigure(
        "money", pytest.approx(float(str(number)) * factor),
        pytest.approx(float(str(number)) * factor), pytest.approx(float(str(number)) * factor),
        "USD",
    )


@given(st.integers(0, 500), st.integers(0, 500))
def test_percent_ranges_are_ordered(a: int, b: int) -> None:
    figure = parse_figure(f"could drop {a}-{b}% this year")
    if a <= b:
        assert figure is not None
        assert (figure.low, figure.high, figure.value) == (a, b, None)
    else:  # a descending pair is never read as a range (nor as a negative second figure)
        assert figure is None


def mention(text: str, source: str, entity_id: str | None, label: str = "ORG",
            sentence: int = 0) -> Mention:
    """A Mention for ``text`` at its first position in ``source``."""
    start = source.index(text)
    return Mention(entity_id, text, label, text, start, start + len(text), sentence)


def tagged(text: str, *names: tuple[str, str | None, str]) -> TaggedText:
    """A one-sentence TaggedText with the given (surface, id, label) mentions."""
    return TaggedText(text, [mention(n, text, i, lab) for n, i, lab in names], [(0, len(text))],
                      [])


def test_possessive_wins_over_an_earlier_subject() -> None:
    text = "Goldman says Kraken's $20 billion IPO is near"
    claims = extract_claims(tagged(text, ("Goldman", "goldman_sachs", "bank"),
                                   ("Kraken", "kraken", "crypto_exchange")))
    assert [(c.entity_id, c.subject, c.value) for c in claims] == [("kraken", "Kraken", 2e10)]


def test_nearest_preceding_mention_in_the_clause() -> None:
    text = "Goldman Sachs estimates the market could reach $1.2 trillion by 2028"
    (claim,) = extract_claims(tagged(text, ("Goldman Sachs", "goldman_sachs", "bank")))
    assert (claim.entity_id, claim.value, claim.unit) == ("goldman_sachs", 1.2e12, "USD")


def test_clause_break_blocks_attachment_and_unlinked_subjects_are_kept() -> None:
    text = "Acme Holdings rose; shares elsewhere fell 4%"
    (claim,) = extract_claims(tagged(text, ("Acme Holdings", None, "ORG")))
    assert claim.entity_id is None and claim.subject is None
    text = "Zorblax fell 4%"
    (claim,) = extract_claims(tagged(text, ("Zorblax", None, "ORG")))
    assert (claim.entity_id, claim.subject) == (None, "Zorblax")


def test_following_mention_after_for_or_of() -> None:
    text = "A $2 billion stake for Kraken was agreed"
    (claim,) = extract_claims(tagged(text, ("Kraken", "kraken", "crypto_exchange")))
    assert claim.entity_id == "kraken"
    text = "A $2 billion stake was agreed, said Kraken"
    (claim,) = extract_claims(tagged(text, ("Kraken", "kraken", "crypto_exchange")))
    assert claim.entity_id is None


def test_money_goes_to_a_person_s_affiliated_organisation() -> None:
    gaz = parse_gazetteer({"entities": [
        {"id": "blackrock", "name": "BlackRock", "type": "asset_manager"},
        {"id": "larry_fink", "name": "Larry Fink", "type": "person",
         "affiliations": [{"org": "blackrock", "role": "CEO"}]},
    ]})
    text = "BlackRock chief Larry Fink said it manages $10 trillion and he owns 2%"
    mentions = [mention("BlackRock", text, "blackrock", "asset_manager"),
                mention("Larry Fink", text, "larry_fink", "person")]
    claims = extract_claims(TaggedText(text, mentions, [(0, len(text))], []), gaz)
    assert [(c.text, c.entity_id) for c in claims] == [
        ("$10 trillion", "blackrock"), ("2%", "larry_fink")
    ]


def test_claims_stay_in_their_sentence() -> None:
    text = "Nvidia rallied. Shares fell 3%."
    tt = TaggedText(text, [mention("Nvidia", text, "nvidia", "semiconductor", 0)],
                    [(0, 15), (16, len(text))], [])
    (claim,) = extract_claims(tt)
    assert (claim.sentence_index, claim.entity_id) == (1, None)


def test_ner_figures_fill_in_what_the_patterns_miss() -> None:
    text = "Acme raised ten billion dollars"
    start = text.index("ten")
    tt = TaggedText(text, [mention("Acme", text, "acme")], [(0, len(text))],
                    [Figure("MONEY", text[start:], start, len(text))])
    (claim,) = extract_claims(tt)
    assert (claim.value, claim.unit, claim.entity_id, claim.text) == (
        1e10, "USD", "acme", "ten billion dollars"
    )


def test_attach_with_no_mentions() -> None:
    assert attach(0, 3, "percent", "5% up", []) is None


@pytest.mark.parametrize(
    "text",
    ["It raised $" + "9" * 400 + " billion.", "Shares rose " + "9" * 320 + "%.",
     "between $1 and $" + "9" * 400 + " trillion", "a 1" + "0" * 330 + "-2" + "0" * 330 + "% gain"],
)
def test_figures_that_overflow_are_not_claims(text: str) -> None:
    """A number too large for a float is not a figure (it used to become Infinity:
    invalid JSON, and "USD inftn" in reports)."""
    import json
    import math

    for found in find_figures(text):
        for value in (found.figure.value, found.figure.low, found.figure.high):
            assert value is None or math.isfinite(value)
        json.dumps(found.figure.value, allow_nan=False)
    assert parse_figure("$" + "9" * 400) is None
