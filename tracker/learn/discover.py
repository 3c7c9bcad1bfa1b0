"""Topic discovery, the pure part: article vectors and texts in, topics with terms, entities,
headlines, daily sizes, growth labels and links to last run's topics out.

The clustering is BERTopic's pipeline on the stored sentence embeddings (no model is
loaded): UMAP to a few dimensions (cosine, fixed ``random_state``), HDBSCAN on that, then
class-based TF-IDF over the articles' words for each cluster's terms. Chosen by measuring
it against HDBSCAN alone on the 384-dimensional vectors and on a PCA reduction of them
(``bench/bench_discover.py``): see the README's "Discovered topics" section.

Everything after the clustering (growth, entities, headlines, linking) is plain numpy on
data the store hands in, so it is tested on small hand-built inputs.
"""

from __future__ import annotations

import html
import importlib.metadata
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

#: Bump when the pipeline changes in a way the parameters and library versions do not capture.
DISCOVER_VERSION = 1

#: Words that say nothing about a topic in news feeds, on top of scikit-learn's English list.
_NEWS_STOP_TEXT = """
said says say saying new news update updates report reports reported according week weeks
year years month months day days today yesterday tomorrow time times just like latest live
read story stories exclusive analysis opinion video watch podcast newsletter subscribe breaking
mr ms mrs inc ltd plc corp co company companies group percent pct per cent cents amid
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
reuters bloomberg cnbc ft wsj nyt economist techcrunch verge engadget zdnet decrypt coindesk
cointelegraph beincrypto block href http https www com html amp nbsp quot rsquo lsquo
ldquo rdquo mdash ndash hellip utm continue reading click here image photo getty images markets
"""
NEWS_STOP_WORDS = frozenset(_NEWS_STOP_TEXT.split())

_POSSESSIVE = re.compile(r"['’]s\b")
_TAGS = re.compile(r"<[^>]+>")
_TOKEN = r"(?u)\b[^\W\d_][^\W_]*(?:-[^\W_]+)*\b"


@dataclass(frozen=True)
class DiscoverParams:
    """Everything that shapes a run's topics; stored with the run as JSON."""

    seed: int = 42
    #: Dimension reduction before HDBSCAN: "umap" (BERTopic's default) or "pca" (no numba
    #: compilation, so a fresh process starts clustering seconds sooner; coarser topics).
    reducer: str = "umap"
    #: UMAP neighbours and output dimensions (BERTopic's defaults).
    n_neighbors: int = 15
    n_components: int = 5
    #: HDBSCAN's smallest topic; 0 = automatic, from the number of articles (see :meth:`cluster_size`).
    min_cluster_size: int = 0
    #: No topic may hold more than this share of the window: HDBSCAN's excess-of-mass
    #: selection sometimes keeps one cluster of most articles (83% of a real 4-week window),
    #: which is a pile, not a topic; its sub-clusters are taken instead (0.5 and 0.2 gave the
    #: same 30 topics there; a small window with a few big stories needs the room).
    max_cluster_share: float = 0.5
    #: HDBSCAN's min_samples (how conservative the clustering is; lower = fewer outliers).
    min_samples: int = 5
    #: Terms kept per topic, words or two-word phrases from class-based TF-IDF.
    top_terms: int = 10
    #: Characters of each article's body (after the title) that feed the terms.
    body_chars: int = 600
    #: Growth: the recent period and the ratios against the weekly baseline before it.
    recent_days: int = 7
    rising_ratio: float = 1.5
    fading_ratio: float = 0.5
    #: A topic is "new" when at least this share of its articles fall in the recent period.
    new_share: float = 0.6
    #: A topic continues one of the previous run when they share this share of the smaller
    #: one's articles, or (windows apart) their mean vectors reach this cosine.
    link_overlap: float = 0.25
    link_cosine: float = 0.85

    def cluster_size(self, n: int) -> int:
        """The HDBSCAN ``min_cluster_size`` for ``n`` articles: given, or n/500 within [10, 60]."""
        if self.min_cluster_size > 0:
            return self.min_cluster_size
        return int(min(60, max(10, round(n / 500))))

    def to_json(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return asdict(self)


def library_versions() -> dict[str, str]:
    """Versions of the libraries behind a run (stored with it)."""
    out = {}
    for dist in ("bertopic", "umap-learn", "hdbscan", "scikit-learn"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - installed with the project
            out[dist] = "missing"
    return out


def method_name() -> str:
    """``discover:<n>+bertopic-x+umap-learn-y+hdbscan-z+scikit-learn-w``."""
    libs = "+".join(f"{k}-{v}" for k, v in library_versions().items())
    return f"discover:{DISCOVER_VERSION}+{libs}"


def document_text(title: str | None, body: str | None, body_chars: int = 600) -> str:
    """The text whose words describe an article: title and the start of its body, unescaped.

    A last body line of one word is a feed's section label ("Markets" under every FT
    markets summary) and is dropped: BERTopic joins a topic's articles into one text, so
    the label would pair with the next headline's first word into a bogus top phrase.
    """
    body = _TAGS.sub(" ", html.unescape(body or "")).strip()
    head, _, last = body.rpartition("\n")
    if head and len(last.split()) == 1:
        body = head
    body = body[:body_chars]
    text = html.unescape(title or "") + ". " + body
    return _POSSESSIVE.sub("", text)


# ------------------------------------------------------------------------------ clustering


@dataclass
class TopicFit:
    """What the clustering gives: a topic per article (-1 = outlier), strengths and terms."""

    labels: np.ndarray
    probabilities: np.ndarray
    terms: dict[int, list[tuple[str, float]]]


def fit_topics(texts: Sequence[str], embeddings: np.ndarray, params: DiscoverParams) -> TopicFit:
    """Cluster unit article vectors with BERTopic (UMAP + HDBSCAN + c-TF-IDF); topic 0 is the largest."""
    # Imported here: BERTopic and UMAP take seconds to import and only this function needs them.
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    n = len(texts)
    if n < 3 * params.cluster_size(n):
        return TopicFit(np.full(n, -1), np.zeros(n), {})
    reducer: Any
    if params.reducer == "pca":
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=min(params.n_components, embeddings.shape[1]), random_state=params.seed)
    elif params.reducer == "umap":
        from umap import UMAP

        # A fixed random_state makes UMAP single-threaded anyway; saying so silences its warning.
        reducer = UMAP(n_neighbors=params.n_neighbors, n_components=params.n_components,
                       min_dist=0.0, metric="cosine", random_state=params.seed, low_memory=True, n_jobs=1)
    else:
        raise ValueError(f"unknown reducer {params.reducer!r}: use umap or pca")
    size = params.cluster_size(n)
    hdbscan_model = HDBSCAN(min_cluster_size=size, min_samples=params.min_samples,
                            max_cluster_size=max(3 * size, int(params.max_cluster_share * n)),
                            metric="euclidean", cluster_selection_method="eom", prediction_data=False)
    # BERTopic fits the vectorizer on one document per topic, so min_df counts topics: it
    # must stay 1, or the words that set a topic apart are pruned as rare.
    vectorizer = CountVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS), ngram_range=(1, 2),
        min_df=1, token_pattern=_TOKEN, lowercase=True,
    )
    model = BERTopic(
        embedding_model=None, umap_model=reducer, hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer, ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=params.top_terms, calculate_probabilities=False, verbose=False,
    )
    topics, probs = model.fit_transform(list(texts), np.asarray(embeddings, dtype=np.float32))
    labels = np.asarray(topics, dtype=int)
    terms: dict[int, list[tuple[str, float]]] = {}
    for topic in sorted(set(labels.tolist()) - {-1}):
        words = model.get_topic(topic) or []
        terms[topic] = [(str(w), round(float(s), 5)) for w, s in words if w]
    strengths = np.asarray(probs if probs is not None else np.ones(n), dtype=float)
    return TopicFit(labels, strengths.reshape(n, -1).max(axis=1) if strengths.ndim > 1 else strengths, terms)


# ------------------------------------------------------------------------------ description


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays zero)."""
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def daily_counts(days: Sequence[str], sources: Sequence[Any], stories: Sequence[Any] | None = None
                 ) -> list[dict[str, Any]]:
    """Articles, distinct sources and distinct stories per day, sorted by day."""
    by_day: dict[str, list[int]] = {}
    for i, d in enumerate(days):
        by_day.setdefault(d, []).append(i)
    rows = []
    for d in sorted(by_day):
        idx = by_day[d]
        rows.append({
            "day": d,
            "articles": len(idx),
            "sources": len({sources[i] for i in idx}),
            "stories": len({stories[i] for i in idx}) if stories is not None else None,
        })
    return rows


@dataclass(frozen=True)
class Growth:
    """A topic's growth label and the figures behind it."""

    label: str
    recent: int
    baseline_weekly: float | None


def growth(daily: Mapping[str, int], start_day: str, end_day: str, params: DiscoverParams,
           has_predecessor: bool) -> Growth:
    """new / rising / fading / steady from the last ``recent_days`` against the weeks before.

    recent = articles in the last ``recent_days`` of the window; baseline = the articles
    before that, per 7 days (None when the window has no earlier week). ``new``: at least
    ``new_share`` of the topic is recent (or it has no baseline) and it continues no topic
    of the previous run; ``rising``: recent >= ``rising_ratio`` x baseline; ``fading``:
    recent <= ``fading_ratio`` x baseline; else ``steady``.
    """
    end = date.fromisoformat(end_day)
    recent_start = (end - timedelta(days=params.recent_days - 1)).isoformat()
    recent = sum(n for d, n in daily.items() if recent_start <= d <= end_day)
    earlier = sum(n for d, n in daily.items() if d < recent_start)
    earlier_days = (date.fromisoformat(recent_start) - date.fromisoformat(start_day)).days
    baseline = earlier * 7.0 / earlier_days if earlier_days >= 7 else None
    total = recent + earlier
    if not has_predecessor and total and (baseline is None or recent >= params.new_share * total):
        return Growth("new", recent, baseline)
    if baseline is None:
        return Growth("steady", recent, baseline)
    if recent >= params.rising_ratio * baseline and recent > baseline:
        return Growth("rising", recent, baseline)
    if recent <= params.fading_ratio * baseline:
        return Growth("fading", recent, baseline)
    return Growth("steady", recent, baseline)


def top_entities(
    members: Sequence[int],
    entities_by_article: Mapping[int, set[str]],
    document_frequency: Mapping[str, int],
    n_articles: int,
    names: Mapping[str, str],
    limit: int = 8,
    min_lift: float = 1.5,
) -> list[dict[str, Any]]:
    """Entities named in most of the topic's articles that are also over-represented in it.

    ``lift`` = share of the topic's articles naming it / share of all the window's articles,
    so entities named everywhere (the Fed, Trump) rank only where they are distinctive.
    """
    counts: Counter[str] = Counter()
    for aid in members:
        counts.update(entities_by_article.get(aid, ()))
    out: list[dict[str, Any]] = []
    size = max(1, len(members))
    for key, k in counts.items():
        if k < 2:
            continue
        lift = (k / size) / (document_frequency.get(key, k) / max(1, n_articles))
        if lift >= min_lift:
            out.append({"id": key, "name": names.get(key, key), "articles": k, "lift": round(lift, 2)})
    out.sort(key=lambda e: (-float(e["articles"]), -float(e["lift"]), str(e["id"])))
    return out[:limit]


def representatives(
    members: Sequence[int],
    vectors: np.ndarray,
    titles: Sequence[str],
    stories: Sequence[Any] | None = None,
    limit: int = 3,
) -> list[int]:
    """Indexes (into ``members``) of the articles closest to the topic's mean vector, one per
    story and per distinct title, so the three headlines show three different articles."""
    if not len(members):
        return []
    centroid = unit(vectors.mean(axis=0))
    order = np.argsort(-(vectors @ centroid), kind="stable")
    picked: list[int] = []
    seen_titles: set[str] = set()
    seen_stories: set[Any] = set()
    for i in order.tolist():
        key = " ".join((titles[i] or "").lower().split())
        story = stories[i] if stories is not None else None
        if key in seen_titles or (story is not None and story in seen_stories):
            continue
        picked.append(i)
        seen_titles.add(key)
        if story is not None:
            seen_stories.add(story)
        if len(picked) == limit:
            break
    return picked


@dataclass(frozen=True)
class TopicRef:
    """A stored topic to link to: its id, thread, article set and mean vector."""

    id: int
    thread_id: int
    articles: frozenset[int]
    centroid: np.ndarray = field(repr=False)


def link_topic(articles: set[int], centroid: np.ndarray, previous: Sequence[TopicRef],
               params: DiscoverParams) -> tuple[TopicRef | None, float]:
    """The previous run's topic this one continues, and the score of the link (or None, 0).

    Windows of weekly runs overlap, so shared articles decide first: the overlap is
    |A and B| / min(|A|, |B|). A topic with no shared articles (windows apart) continues
    one whose mean vector is at least ``link_cosine`` away in cosine.
    """
    best: TopicRef | None = None
    best_score = 0.0
    for ref in previous:
        shared = len(articles & ref.articles)
        overlap = shared / max(1, min(len(articles), len(ref.articles)))
        cosine = float(unit(centroid) @ unit(ref.centroid))
        if overlap >= params.link_overlap:
            score = 1.0 + overlap  # any article overlap beats a cosine-only link
        elif cosine >= params.link_cosine:
            score = cosine
        else:
            continue
        if score > best_score:
            best, best_score = ref, score
    if best is None:
        return None, 0.0
    return best, round(best_score - 1.0 if best_score > 1.0 else best_score, 4)


def topic_label(terms: Sequence[tuple[str, float]], limit: int = 4) -> str:
    """A short label from the top terms, skipping a word already inside a kept phrase."""
    kept: list[str] = []
    for term, _ in terms:
        words = set(term.split())
        if any(words <= set(k.split()) or set(k.split()) <= words for k in kept):
            continue
        kept.append(term)
        if len(kept) == limit:
            break
    return ", ".join(kept)
