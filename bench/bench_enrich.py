"""Whole enrichment (entities + narratives) against bare spaCy NER + bare MiniLM encode.

Takes N real articles (Reuters lead paragraphs and FT/WSJ headlines from
``../shared/data``, read by path, nothing copied), stores them in a fresh database
and times, interleaved, best of ``--repeats``:

* bare: ``nlp.pipe`` over the article texts (NER-only model, the least entity
  tagging must pay) plus ``model.encode`` (batch 64) over exactly the sentences
  the classifier embeds (title + lead sentences), the least narrative scoring
  must pay. Together they are the bare model cost;
* enrich: ``enrich_pending`` with both stages on a fresh database with an empty
  embedding cache (selection, sentence split, gazetteer, claims, scoring, evidence,
  and every write in one transaction per batch).

The ratio enrich / bare is the tracker's overhead (issue 8 target: <= 1.15x).
Model loading is done once before timing and reported apart. Run:

    .venv/bin/python bench/bench_enrich.py [--articles 1000] [--repeats 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.enrich.classifier import article_sentences, load_classifier
from tracker.enrich.embeddings import load_minilm
from tracker.enrich.narrative_stage import split_article_text
from tracker.enrich.nlp import load_nlp
from tracker.enrich.runner import DEFAULT_BATCH_SIZE, article_text, enrich_pending
from tracker.enrich.stages import default_stages

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCES = [
    SHARED / "reuters-wl" / "reuters_scraped.items.jsonl",
    SHARED / "reuters-wl" / "reuters_gnews_direct.items.jsonl",
    SHARED / "orx365-rss-arch" / "ft_home.items.jsonl",
    SHARED / "orx365-rss-arch" / "wsj_economy.items.jsonl",
]


def load_articles(n: int, seed: int) -> list[tuple[str, str]]:
    """(title, summary) pairs: a seeded sample, a third of them with long lead paragraphs."""
    rows: list[tuple[str, str]] = []
    for path in SOURCES:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                item = json.loads(line)
                if item.get("title"):
                    rows.append((item["title"], (item.get("summary") or "")[:1500]))
    random.Random(seed).shuffle(rows)
    return rows[:n]


def fresh_db(path: Path, articles: list[tuple[str, str]]) -> None:
    """A database holding the articles, nothing enriched."""
    db = open_db(path)
    conn = db.conn
    with transaction(conn):
        conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'bench', 'file:///bench', '2026')")
        conn.executemany(
            "INSERT INTO articles (feed_id, item_key, title, summary, day, fetched_at, content_hash) "
            "VALUES (1, ?, ?, ?, '2026-01-01', '2026-01-01T00:00:00Z', ?)",
            [(f"k{i}", t, s, f"h{i}") for i, (t, s) in enumerate(articles)],
        )
    conn.close()


def main() -> None:
    """Time bare model cost and the whole enrichment on the same articles."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    articles = load_articles(args.articles, args.seed)
    texts = [article_text(t, s, None) for t, s in articles]
    start = time.perf_counter()
    nlp = load_nlp()
    embedder = load_minilm()
    classifier = load_classifier(Settings().models_dir)
    # Warm both models (first calls allocate) and the classifier's anchors.
    list(nlp.pipe(texts[:20]))
    embedder.encode(["warm up"])
    classifier.classify([split_article_text(t) for t in texts[:5]])
    setup = time.perf_counter() - start
    sentences = [
        s for text in texts
        for s in (article_sentences(*_title_body(text), classifier.max_sentences) or [text[:200]])
    ]
    words = sum(len(t.split()) for t in texts)

    bare_best = enrich_best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            start = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=256):
                pass
            embedder.model.encode(sentences, batch_size=64, show_progress_bar=False)  # type: ignore[attr-defined]
            bare_best = min(bare_best, time.perf_counter() - start)

            path = Path(tmp) / f"enrich{r}.db"
            fresh_db(path, articles)
            db = open_db(path)
            start = time.perf_counter()
            # New stage objects each time, so no in-memory sentence cache carries over;
            # the models themselves are loaded once per process and shared.
            summary = enrich_pending(db, Settings(db_path=path), stages=default_stages(Settings()),
                                     batch_size=args.batch_size)
            enrich_best = min(enrich_best, time.perf_counter() - start)
            db.conn.close()
    ratio = enrich_best / bare_best
    figures = {
        "articles": len(texts), "words": words, "sentences_embedded": len(sentences),
        "setup_s": round(setup, 2), "bare_s": round(bare_best, 2), "enrich_s": round(enrich_best, 2),
        "bare_articles_per_s": round(len(texts) / bare_best, 1),
        "enrich_articles_per_s": round(len(texts) / enrich_best, 1),
        "ratio": round(ratio, 3), "target": 1.15, "rows": summary.counts(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print("## Enrichment (entities + narratives)")
    print()
    print(f"{len(texts):,} real articles ({words:,} words; {len(sentences):,} sentences embedded), "
          f"best of {args.repeats}; model loading {setup:.1f} s, not included.")
    print()
    print("| measure | bare spaCy NER + bare encode | tracker enrich | ratio |")
    print("|---|---|---|---|")
    print(f"| seconds | {bare_best:.2f} | {enrich_best:.2f} | **{ratio:.2f}x** (target <= 1.15x) |")
    print(f"| articles/s | {len(texts) / bare_best:,.1f} | {len(texts) / enrich_best:,.1f} | |")


def _title_body(text: str) -> tuple[str, str]:
    parts = split_article_text(text)
    return parts.title, parts.body


if __name__ == "__main__":
    main()
