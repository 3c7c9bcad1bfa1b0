"""Draw the items of the entity evaluation set (eval/labels/entities.jsonl) from ../shared/data.

Deterministic: a fixed seed, a fixed stratum order, and files read in a fixed
order, so the same data always gives the same items, texts and splits. The
script reads only the shared data and writes the items WITH their text to a
scratch file outside the repository (the texts are the publishers'; only ids
and entity surface strings go into the repository).

Usage (from the repository root):

    .venv/bin/python eval/sample_entities.py [--data ../shared/data] [--out /work/scratch/entities/items.jsonl]
    .venv/bin/python eval/sample_entities.py --check eval/labels/entities.jsonl   # recompute every span

``--check`` rebuilds each labelled item's text from the shared data and verifies
that every mention (and ``ignore`` span) occurs at its ``occurrence``.

Each output line: source (path under the data directory), key (guid, else
link), stratum, split (dev/test), title_case, text. ``item_text`` and
``is_title_case`` are the reference definitions used by the labels; an
evaluator must rebuild the text with ``item_text`` to recompute spans.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
OUT = Path("/work/scratch/entities/items.jsonl")

SEED = 20260822
#: Round 2 (issue 19): a fresh development set drawn with its own seed, half the quotas,
#: excluding every item of the first 400 (and near-duplicates of their titles).
DEV2_SEED = 20261202
DEV2_SPLIT = "dev2"
MAX_SUMMARY_CHARS = 600
MIN_TEXT_CHARS = 30
NEAR_DUP_JACCARD = 0.7
MIN_TITLE_CASE_ITEMS = 100

# (stratum name, files pooled into it, number of items). Files of one stratum
# are pooled: every item in them is equally likely to be drawn.
CRYPTO_FILES = sorted(str(p.relative_to(DATA)) for p in (DATA / "cryptopanic-2025").glob("*.items.jsonl"))
AIVIBE_FILES = sorted(str(p.relative_to(DATA)) for p in (DATA / "aivibe-ai-tech-2025").glob("*.items.jsonl"))
NEWSAGG_FILES = sorted(str(p.relative_to(DATA)) for p in (DATA / "newsagg-2026").glob("*.items.jsonl"))

STRATA: list[tuple[str, list[str], int]] = [
    ("orx365/ft_home", ["orx365-rss-arch/ft_home.items.jsonl"], 25),
    ("orx365/wsj_economy", ["orx365-rss-arch/wsj_economy.items.jsonl"], 35),
    ("orx365/wsj_world", ["orx365-rss-arch/wsj_world.items.jsonl"], 35),
    ("orx365/nyt_economy", ["orx365-rss-arch/nyt_economy.items.jsonl"], 30),
    ("orx365/economist_finance", ["orx365-rss-arch/economist_finance.items.jsonl"], 25),
    ("reuters/gnews_direct", ["reuters-wl/reuters_gnews_direct.items.jsonl"], 40),
    ("reuters/scraped", ["reuters-wl/reuters_scraped.items.jsonl"], 40),
    ("unifyinfo/cnbc", ["unifyinfo-gitscrape/cnbc_top_news.items.jsonl"], 12),
    ("unifyinfo/bloomberg", ["unifyinfo-gitscrape/bloomberg_markets.items.jsonl"], 12),
    ("unifyinfo/marketwatch", ["unifyinfo-gitscrape/marketwatch_topstories.items.jsonl"], 12),
    ("unifyinfo/yahoo_finance", ["unifyinfo-gitscrape/yahoo_finance.items.jsonl"], 12),
    ("unifyinfo/scmp", ["unifyinfo-gitscrape/scmp.items.jsonl"], 12),
    ("cryptopanic", CRYPTO_FILES, 50),
    ("aivibe", AIVIBE_FILES, 30),
    ("newsagg", NEWSAGG_FILES, 30),
]

_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+")
_SOURCE_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")


def clean_summary(summary: str | None) -> str:
    """Summary with HTML tags removed, entities unescaped, whitespace collapsed, cut at a word boundary.

    Zero-width characters (U+200B/U+200C/U+2060 ...) are not whitespace and are kept as they are.
    """
    s = _TAG.sub(" ", summary or "")
    s = html.unescape(s)
    s = _WS.sub(" ", s).strip()
    if len(s) > MAX_SUMMARY_CHARS:
        head = s[: MAX_SUMMARY_CHARS + 1]
        cut = head.rfind(" ")
        s = s[:cut] if cut > 0 else s[:MAX_SUMMARY_CHARS]
        s = s.rstrip()
    return s


def item_text(title: str | None, summary: str | None) -> str:
    """The labelled text: title, a blank line, the cleaned summary (just the title when there is no summary).

    The title keeps its characters except that HTML entities are unescaped and outer whitespace is stripped.
    """
    t = html.unescape(title or "").strip()
    s = clean_summary(summary)
    return f"{t}\n\n{s}" if s else t


def is_title_case(title: str | None) -> bool:
    """>= 60% of the title's words of 3+ letters start with a capital, and at least 4 such words."""
    words = [w for w in _WORD.findall(html.unescape(title or "")) if len(w) >= 3]
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps / len(words) >= 0.6


def item_key(row: dict[str, Any]) -> str | None:
    """The id an item is labelled under: its guid, else its link."""
    return row.get("guid") or row.get("link")


def split_of(key: str) -> str:
    """About one item in three goes to ``dev`` (by sha256 of the key), the rest to ``test``."""
    return "dev" if int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 3 == 0 else "test"


def title_tokens(title: str | None) -> frozenset[str]:
    """Lower-cased word set of a title without an appended outlet name (" - Reuters")."""
    t = _SOURCE_SUFFIX.sub("", html.unescape(title or "").strip())
    return frozenset(w.lower() for w in re.findall(r"\w+", t))


def near_duplicate(tokens: frozenset[str], seen: list[frozenset[str]]) -> bool:
    if not tokens:
        return True
    for other in seen:
        union = len(tokens | other)
        if union and len(tokens & other) / union >= NEAR_DUP_JACCARD:
            return True
    return False


def span_of(text: str, surface: str, occurrence: int) -> tuple[int, int] | None:
    """Character span of the ``occurrence``-th (0-based) exact, case-sensitive match of ``surface`` in ``text``.

    Matches are counted left to right with overlaps allowed and without regard to word
    boundaries (``str.find`` from one past the previous match); None if there are too few.
    """
    start = -1
    for _ in range(occurrence + 1):
        start = text.find(surface, start + 1)
        if start < 0:
            return None
    return start, start + len(surface)


def check(labels: Path, data: Path) -> int:
    """Verify every span in a labels file against the texts rebuilt from the data; return the error count."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts: dict[tuple[str, str], tuple[str, bool]] = {}
    for source in sorted({r["source"] for r in rows}):
        for _, row in load(data, [source]):
            key = item_key(row)
            if key:
                texts[(source, key)] = (
                    item_text(row.get("title"), row.get("summary")),
                    is_title_case(row.get("title")),
                )
    errors = n_mentions = 0
    for r in rows:
        got = texts.get((r["source"], r["key"]))
        if got is None:
            print(f"missing item: {r['source']} {r['key']}")
            errors += 1
            continue
        text, title_case = got
        want_split = r["split"] if r["split"] == DEV2_SPLIT else split_of(r["key"])
        if title_case != r["title_case"] or want_split != r["split"]:
            print(f"title_case/split mismatch: {r['key']}")
            errors += 1
        for m in r["mentions"] + r.get("ignore", []):
            n_mentions += 1
            if span_of(text, m["text"], m["occurrence"]) is None:
                print(f"span not found: {r['key']} {m['text']!r} #{m['occurrence']}")
                errors += 1
    print(f"{len(rows)} items, {n_mentions} spans checked, {errors} errors")
    return errors


def load(data: Path, files: list[str]) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for name in files:
        with (data / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rows.append((name, json.loads(line)))
    return rows


def sample(data: Path, seed: int = SEED, exclude: Path | None = None, split: str | None = None,
           scale: float = 1.0) -> list[dict[str, Any]]:
    """Draw the items stratum by stratum; ``exclude`` (a labels file) removes its items and their near-duplicates.

    ``split`` forces one split name on every item (``dev2``); ``scale`` multiplies every quota.
    """
    out: list[dict[str, Any]] = []
    seen: list[frozenset[str]] = []
    excluded: set[tuple[str, str]] = set()
    if exclude is not None:
        old = [json.loads(line) for line in exclude.read_text(encoding="utf-8").splitlines() if line.strip()]
        excluded = {(r["source"], r["key"]) for r in old}
        for source in sorted({r["source"] for r in old}):
            for _, row in load(data, [source]):
                if (source, item_key(row) or "") in excluded:
                    seen.append(title_tokens(row.get("title")))
    for stratum, files, full_quota in STRATA:
        quota = max(1, round(full_quota * scale))
        rows = load(data, files)
        rng = random.Random(f"{seed}:{stratum}")
        order = list(range(len(rows)))
        rng.shuffle(order)
        taken = 0
        for i in order:
            if taken >= quota:
                break
            source, row = rows[i]
            key = item_key(row)
            if not key or (source, key) in excluded:
                continue
            text = item_text(row.get("title"), row.get("summary"))
            if len(text.replace("\n\n", "", 1)) < MIN_TEXT_CHARS:
                continue
            tokens = title_tokens(row.get("title"))
            if near_duplicate(tokens, seen):
                continue
            seen.append(tokens)
            out.append(
                {
                    "source": source,
                    "key": key,
                    "stratum": stratum,
                    "split": split or split_of(key),
                    "title_case": is_title_case(row.get("title")),
                    "text": text,
                }
            )
            taken += 1
        if taken < quota:
            raise SystemExit(f"{stratum}: only {taken} of {quota} items")
    n_tc = sum(r["title_case"] for r in out)
    if n_tc < MIN_TITLE_CASE_ITEMS * scale:
        raise SystemExit(f"only {n_tc} Title-Case items (< {MIN_TITLE_CASE_ITEMS})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", type=Path, metavar="LABELS", help="verify the spans of a labels file and exit")
    ap.add_argument("--dev2", action="store_true",
                    help=f"draw the round-2 development set: seed {DEV2_SEED}, half the quotas, split "
                         f"{DEV2_SPLIT!r}, excluding the items of eval/labels/entities.jsonl")
    args = ap.parse_args()
    if args.check:
        raise SystemExit(1 if check(args.check, args.data) else 0)
    out_path: Path = args.out.resolve()
    if REPO in out_path.parents:
        raise SystemExit("--out must be outside the repository (the texts are the publishers')")
    if args.dev2:
        items = sample(args.data, DEV2_SEED, REPO / "eval" / "labels" / "entities.jsonl", DEV2_SPLIT, 0.5)
    else:
        items = sample(args.data)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as fh:
        for r in items:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    splits = {s: sum(r["split"] == s for r in items) for s in sorted({r["split"] for r in items})}
    n_tc = sum(r["title_case"] for r in items)
    print(f"{len(items)} items {splits}, {n_tc} Title-Case -> {out_path}")


if __name__ == "__main__":
    main()
