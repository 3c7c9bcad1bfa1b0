"""Text clean-up and Title-Case headline re-casing before NER (pure functions, no model)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.enrich.textprep import clean, is_title_case, prepare, recase_title

COMMON = frozenset({"says", "inflation", "warrants", "keeping", "rates", "unchanged", "visit",
                    "next", "week", "with", "focus", "trade", "shrug", "consumers", "off",
                    "tariff", "concerns", "capital", "management", "bought", "new"})


def test_zero_width_characters_are_removed_and_offsets_map_back() -> None:
    text = "Minister \u200bDonald Tusk met Kaja \u200bKallas and \u2060JD Vance."
    cleaned, positions = clean(text)
    assert cleaned == "Minister Donald Tusk met Kaja Kallas and JD Vance."
    prep = prepare(text)
    start = prep.text.index("Kaja Kallas")
    o0, o1 = prep.to_original(start, start + len("Kaja Kallas"))
    assert text[o0:o1] == "Kaja \u200bKallas"  # the span covers the character, as written
    start = prep.text.index("JD Vance")
    assert text[slice(*prep.to_original(start, start + 8))] == "JD Vance"
    assert positions is not None and len(positions) == len(cleaned)


def test_odd_spaces_become_plain_spaces_without_moving_offsets() -> None:
    cleaned, positions = clean("Jerome\u00a0Powell\u202fsaid")
    assert cleaned == "Jerome Powell said" and positions is None


@given(st.text(alphabet=st.sampled_from("ab \u200b\u200c\u2060\u00a0\ufeffXY."), max_size=40))
def test_every_cleaned_span_maps_back_inside_the_original(text: str) -> None:
    prep = prepare(text)
    for start in range(len(prep.text)):
        for end in range(start + 1, len(prep.text) + 1):
            o0, o1 = prep.to_original(start, end)
            assert 0 <= o0 < o1 <= len(text)
            visible = "".join(ch for ch in text[o0:o1] if ch not in "\u200b\u200c\u2060\ufeff")
            assert visible.replace("\u00a0", " ") == prep.text[start:end]


def test_title_case_detection() -> None:
    assert is_title_case("Fed’s Schmid Says Inflation Warrants Keeping Interest Rates Unchanged")
    assert is_title_case("Canada’s Carney to Visit China Next Week With Focus on Trade")
    assert not is_title_case("Zorblax Capital Management bought bitcoin")  # a sentence
    assert not is_title_case("Fed holds rates")  # too short to tell


def test_recasing_lowers_common_words_and_keeps_names() -> None:
    title = "Fed’s Schmid Says Inflation Warrants Keeping Rates Unchanged"
    body = "Schmid, one of three dissenters, said inflation is too high."
    recased = recase_title(title, body, COMMON, keep={"Fed"})
    assert recased == "Fed’s Schmid says inflation warrants keeping rates unchanged"
    assert len(recased) == len(title)
    # the body's casing wins over the word list: "Capital" is a name there
    title = "Zorblax Capital Says Consumers Shrug Off Tariff Concerns"
    body = "The fund, Zorblax Capital, said on Monday that consumers ..."
    assert recase_title(title, body, COMMON, keep=set()) == (
        "Zorblax Capital says consumers shrug off tariff concerns"
    )


def test_recasing_keeps_acronyms_and_inner_capitals() -> None:
    title = "HyperLiquid Says I.C.E. And AI Rates Unchanged"
    assert recase_title(title, "", COMMON, keep=set()).startswith("HyperLiquid says I.C.E. And AI")


def test_prepare_only_recases_title_case_headlines() -> None:
    text = "Consumers Shrug Off Tariff Concerns as Trade War Rages\n\nConsumers in Germany ..."
    prep = prepare(text, COMMON, keep=set())
    # even the first word: a common word at a sentence start is still not a name
    assert prep.title_case and prep.text.startswith("consumers shrug off tariff concerns")
    assert prep.cased == text and len(prep.text) == len(text)
    plain = "Fed holds rates steady as inflation cools\n\nThe Fed ..."
    assert prepare(plain, COMMON).text == plain


def test_rare_inflections_of_common_words_count_as_common() -> None:
    from tracker.enrich.textprep import is_common

    assert is_common("languishes", {"languish"}) and is_common("calmed", {"calm"})
    assert not is_common("woods", {"wood"})  # too short to trust a stripped suffix
    assert not is_common("zorblaxes", {"zorbla"})  # "es" strips to a word not in the table
    assert not is_common("zorblaxes", set())
