"""Draft the gazetteer's listed-company section from two MIT-licensed PyPI packages.

Sources (reference data shipped inside the wheels; install them only to run this):

- ``index-constitution`` 1.0.1: the S&P 500 (503 lines, symbols and names, as of 2026-10);
- ``pytickersymbols`` 1.17.10: constituents of the FTSE 100, DAX, CAC 40, Euro Stoxx 50,
  SMI (Switzerland 20), AEX, IBEX 35, OMX Stockholm 30, OMX Helsinki 25, BEL 20 and
  Nikkei 225, with symbols and industries.

What the script decides (and the reviewed YAML keeps): a display name without legal
suffixes or share-class notes ("Walt Disney Company (The)" -> "Walt Disney"), the
legal-looking long names and the suffix-free short name as aliases, the exchange
symbol of a US listing in ``tickers`` (they match as cashtags, ``$AAPL``), a type from
the listed industries (bank, insurer, semiconductor, tech_company, else company). The
first word of a longer name ("Agilent" of Agilent Technologies) and a
one-word alias that news text usually writes in lower case (``models/common_words.txt``:
"Target", "Progressive", "Sharp") becomes an ambiguous alias, linked only with NER's
or a context rule's agreement; an alias two companies share is dropped from both.
Companies the hand-written part of the gazetteer already has are skipped (their
tickers are printed for review).

    pip install index-constitution==1.0.1 pytickersymbols==1.17.10   # into a scratch venv
    .venv/bin/python scripts/draft_listed_companies.py > /tmp/listed.yaml
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tracker.enrich.gazetteer import alias_key, load_gazetteer  # noqa: E402

EUROPE = ["FTSE 100", "DAX", "CAC_40", "EURO STOXX 50", "Switzerland 20", "AEX", "IBEX 35",
          "OMX Stockholm 30", "OMX Helsinki 25", "BEL 20"]
ASIA = ["NIKKEI 225"]
_SUFFIXES = re.compile(
    r"(?:,?\s+(?:Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.?|plc|PLC|Ltd\.?|Limited|"
    r"Holdings?|Group|AG|SE|S\.A\.|SA|N\.V\.|NV|ASA|AB|Oyj|SpA|S\.p\.A\.|& Co\.?|Co\., Ltd|"
    r"Companies))+$"
)
_PAREN = re.compile(r"\s*\((?:The|Class [A-C]|corporation|pharmaceutical company|2020–present)\)")
#: First words that never name a company alone.
_GENERIC_FIRST = {
    "american", "united", "general", "national", "international", "first", "southern",
    "western", "eastern", "northern", "texas", "royal", "public", "global", "new", "the",
    "central", "japan", "nippon", "tokyo", "east", "west", "deutsche", "banco", "british",
    "swiss", "universal", "associated", "consolidated", "pacific", "federal", "church",
    "host", "digital", "life", "air", "mid", "south", "north", "kansai", "chubu", "osaka",
    "mitsubishi", "mitsui", "sumitomo", "hitachi", "fuji", "asahi", "daiwa", "dai",
    "siemens", "fresenius", "acciona", "porsche", "yamaha", "yokohama", "kirin", "tokyu",
    "nissan", "sony", "honda", "toyota", "coca", "coca-cola", "ge", "fedex", "honeywell",
    "huntington", "williams", "jack", "charles", "old", "estée", "legal", "smith",
    "henry", "martin", "ross", "tyler", "simon", "ralph", "walt", "philip", "raymond",
    "stanley", "parker", "phillips", "kinder", "marsh", "tyson", "willis", "jacobs", "otis",
    "palo", "union", "republic", "scottish", "norwegian", "groupe", "laboratorios",
    "inmobiliaria", "illinois", "munich", "hannover", "kobe", "sapporo", "norfolk", "fukuoka",
    "shizuoka", "boston", "cincinnati", "devon", "essex", "erie", "dover", "camden", "chiba",
    "arthur", "baker", "brown", "bristol", "cardinal", "cooper", "duke", "edison", "edwards",
    "emerson", "ferguson", "atlas", "alfa", "alps", "archer", "avery", "becton", "berkeley",
    "bureau", "crédit", "bloom", "anglo", "alexandria", "endeavour", "everest", "thermo",
    "lotus", "merlin", "pinnacle", "regency", "realty", "vertex", "vulcan", "severn",
    "marathon", "quanta", "tokai", "tokio", "taiyo", "keisei", "tobu", "odakyu", "stora",
}
#: Symbols of the same company under two share classes.
_SAME = {"GOOG": "GOOGL", "FOX": "FOXA", "NWS": "NWSA", "FDXF": None, "HONA": None}
#: Names the sources get wrong or leave ambiguous, fixed by hand.
_NAMES = {"Lilly (Eli)": "Eli Lilly", "Hartford (The)": "The Hartford",
          "News Corp (Class A)": "News Corp", "Fox Corporation (Class A)": "Fox Corporation",
          "Rio Tinto (corporation)": "Rio Tinto",
          "Vistra Corp .": "Vistra", "Orange SA": "Orange", "IndustrivärdenC": "Industrivärden",
          "LifcoB": "Lifco", "KalmarB": "Kalmar", "Brown–Forman": "Brown-Forman",
          "Metso (2020–present)": "Metso", "Merck Group": "Merck KGaA"}


def ascii_id(name: str) -> str:
    """lower_snake_case ASCII id (ENTITIES.md convention: no suffixes, '&' and punctuation)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"^the\s+", "", text, flags=re.I).replace("&", " ")
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def entry_type(industries: list[str]) -> str:
    """Gazetteer type from the package's industry strings."""
    joined = " ".join(industries).lower()
    if "semiconductor" in joined:
        return "semiconductor"
    if "insurance" in joined or "reinsurance" in joined:
        return "insurer"
    if "bank" in joined and "investment banking & investment services" not in joined:
        return "bank"
    if any(w in joined for w in ("software", "internet", "information technology")):
        return "tech_company"
    return "company"


def main() -> int:
    """Print the YAML section."""
    import pandas as pd
    from pytickersymbols.indices_data import INDICES

    common = {w for w in (REPO / "models" / "common_words.txt").read_text().split() if w.isalpha()}
    gaz = load_gazetteer(REPO / "models" / "gazetteer.yaml")
    known: dict[str, str] = {}
    for e in gaz.entities:
        for form in (e.name, *e.aliases, *e.ambiguous_aliases):
            known.setdefault(alias_key(form), e.id)
    import index_constitution

    pkl = Path(index_constitution.__file__).parent / "_data" / "latest" / "sp500.pkl"
    sp = pd.read_pickle(pkl)
    industries = {c["symbol"]: c.get("industries", []) for c in INDICES["S&P 500"]["companies"]}
    rows: list[tuple[str, str, str, list[str]]] = []  # (raw name, ticker, market, industries)
    for symbol, name in zip(sp.symbol, sp.name, strict=True):
        if symbol in _SAME:
            continue
        rows.append((name, symbol, "S&P 500", industries.get(symbol, [])))
    for index in EUROPE + ASIA:
        for c in INDICES[index]["companies"]:
            rows.append((c["name"], "", index, c.get("industries", [])))
    drafts: dict[str, dict[str, object]] = {}
    skipped: list[str] = []
    for raw, ticker, market, inds in rows:
        display = _NAMES.get(raw) or _PAREN.sub("", raw).strip()
        display = re.sub(r",?\s+(?:Inc\.?|Corporation|Corp\.?|plc|PLC|N\.V\.|SA|S\.A\.|AG|AB|Ltd\.?)$",
                         "", display).strip()
        short = _SUFFIXES.sub("", display).strip().rstrip(" &") or display
        forms = list(dict.fromkeys(f for f in (display, short, _PAREN.sub("", raw).strip()) if f))
        first = short.split()[0]
        guess = None  # the first word alone ("Agilent"): an ambiguous alias, NER must agree
        if (len(short.split()) > 1 and len(first) >= 4 and first.lower() not in _GENERIC_FIRST
                and first.isalpha() and first.lower() not in common):
            guess = first
            forms.append(first)
        existing = next((known[alias_key(f)] for f in forms if alias_key(f) in known), None)
        if existing:
            skipped.append(f"{existing}: {ticker or market} ({raw})")
            continue
        eid = ascii_id(short)
        if eid in drafts:
            drafts[eid]["markets"].append(market)  # type: ignore[attr-defined]
            continue
        drafts[eid] = {"name": display, "forms": forms, "ticker": ticker, "markets": [market],
                       "type": entry_type(inds), "guess": guess}
    owners: dict[str, list[str]] = {}
    for eid, d in drafts.items():
        for f in d["forms"]:  # type: ignore[attr-defined]
            owners.setdefault(alias_key(f), []).append(eid)
    print("  # --- Listed companies: S&P 500, Europe's main indices, Nikkei 225 ----------------")
    print("  # Drafted by scripts/draft_listed_companies.py from index-constitution 1.0.1 and")
    print("  # pytickersymbols 1.17.10 (MIT), then reviewed.")
    for eid, d in sorted(drafts.items(), key=lambda kv: str(kv[1]["name"]).lower()):
        name = str(d["name"])
        plain, ambiguous = [], []
        for f in d["forms"]:  # type: ignore[attr-defined]
            if len(owners[alias_key(f)]) > 1 and f != name:
                continue
            if f == name and len(owners[alias_key(f)]) > 1:
                print(f"# WARNING shared name {name}", file=sys.stderr)
            one_word = " " not in f
            # a one-word short form of a longer name ("Williams" of Williams Companies) and
            # a common word ("Target") need NER's or a context rule's agreement
            if f == d["guess"] or (one_word and (f.lower() in common or " " in name)):
                ambiguous.append(f)
            elif f != name:
                plain.append(f)
        fields = [f"id: {eid}", f"name: {yaml_str(name)}", f"type: {d['type']}"]
        if plain:
            fields.append(f"aliases: [{', '.join(yaml_str(a) for a in plain)}]")
        if ambiguous:
            fields.append(f"ambiguous_aliases: [{', '.join(yaml_str(a) for a in ambiguous)}]")
        if d["ticker"]:
            fields.append(f"tickers: [{yaml_str(str(d['ticker']))}]")
        print("  - {" + ", ".join(fields) + "}")
    print("\n".join(f"# skipped (already listed) {s}" for s in skipped), file=sys.stderr)
    return 0


def yaml_str(text: str) -> str:
    """A YAML flow scalar, quoted when it needs to be."""
    if re.match(r"^[A-Za-z0-9][\w .\-&'’À-ÿ]*$", text) and not re.search(r"[:#,\[\]{}]", text) \
            and text.lower() not in ("yes", "no", "on", "off", "true", "false", "null"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


if __name__ == "__main__":
    raise SystemExit(main())
