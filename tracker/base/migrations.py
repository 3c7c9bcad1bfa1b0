"""Append-only schema migrations; :func:`tracker.base.db.open_db` applies the pending ones.

Never edit or reorder a migration that has landed: add a new one at the end of
``MIGRATIONS``. Each runs inside one transaction and is recorded in ``_migrations``.
A migration is either SQL (run as one script) or a callable that takes the
connection and must use ``execute`` only (``executescript`` would commit early).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from tracker.base.schema_v1 import (
    M0001_INGEST,
    M0002_ARTICLES_FTS,
    M0003_ENTITIES,
    M0004_NARRATIVES,
    M0005_INDEX,
    M0006_ARTICLE_EMBEDDINGS,
    M0007_INDEX_INTERMEDIATE,
    M0008_SERVE_INDEXES,
    M0009_INDEX_SPIKE_MIN_ARTICLES,
    M0010_FETCHES_STARTED,
)

Migration = tuple[str, str | Callable[[sqlite3.Connection], None]]

#: Columns of the articles' full-text index.
FTS_COLUMNS = ("title", "summary", "content_text")


def m0050_articles_fts_porter(conn: sqlite3.Connection) -> None:
    """Rebuild the articles' full-text index with the porter stemmer (sqlite-utils).

    A search for "stablecoin" then also finds "stablecoins" (and "rates" finds "rate").
    sqlite-utils creates the FTS5 table (external content: the articles table), fills
    it from every article and adds the triggers that keep it in sync; inside the
    migration's transaction it runs statement by statement, so all of it commits or
    none does. The triggers of 0002 are dropped by name first: sqlite-utils only
    recognises triggers it wrote itself.
    """
    for trigger in ("articles_ai", "articles_ad", "articles_au"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    conn.execute("DROP TABLE IF EXISTS articles_fts")
    sqlite_utils.Database(conn).table("articles").enable_fts(
        FTS_COLUMNS, fts_version="FTS5", tokenize="porter", create_triggers=True
    )


#: Full text of article pages (tracker/ingest/fulltext.py): what was extracted, how, and every
#: page fetch; robots.txt per origin (cached) and per-host back-off (Retry-After).
M0020_FULLTEXT = """
ALTER TABLE articles ADD COLUMN content_status TEXT;
ALTER TABLE articles ADD COLUMN content_source TEXT;
ALTER TABLE articles ADD COLUMN content_length INTEGER;
ALTER TABLE articles ADD COLUMN content_sha256 TEXT;
ALTER TABLE articles ADD COLUMN content_extractor TEXT;
ALTER TABLE articles ADD COLUMN content_fetched_at TEXT;
CREATE INDEX idx_articles_content_status ON articles(feed_id, content_status);
CREATE TABLE page_fetches (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    run_id INTEGER REFERENCES runs(id),
    url TEXT NOT NULL,
    final_url TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    http_status INTEGER,
    content_type TEXT,
    bytes INTEGER,
    etag TEXT,
    last_modified TEXT,
    retry_after REAL,
    error_kind TEXT,
    error TEXT
);
CREATE INDEX idx_page_fetches_article ON page_fetches(article_id, id);
CREATE INDEX idx_page_fetches_started ON page_fetches(started_at);
CREATE TABLE robots_txt (
    origin TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    http_status INTEGER,
    rule TEXT NOT NULL,
    body TEXT,
    error TEXT
);
CREATE TABLE host_backoff (
    host TEXT PRIMARY KEY,
    not_before TEXT NOT NULL,
    reason TEXT
);
"""


#: Topic discovery (``tracker discover``): one row per run with its window, parameters and
#: model versions; its topics with terms, entities, headlines and growth; each topic's
#: articles and daily counts. Topics of a later run point at the topic they continue.
M0080_DISCOVER = """
CREATE TABLE discover_runs (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    start_day TEXT NOT NULL,
    end_day TEXT NOT NULL,
    articles INTEGER NOT NULL,
    topics INTEGER NOT NULL,
    outliers INTEGER NOT NULL,
    embedding_model TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    narratives_version TEXT,
    previous_run_id INTEGER REFERENCES discover_runs(id),
    seconds REAL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_discover_runs_scope ON discover_runs(scope, end_day);
CREATE TABLE discovered_topics (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES discover_runs(id),
    topic INTEGER NOT NULL,
    label TEXT NOT NULL,
    articles INTEGER NOT NULL,
    stories INTEGER,
    sources INTEGER NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    peak_day TEXT NOT NULL,
    recent_articles INTEGER NOT NULL,
    baseline_weekly REAL,
    growth TEXT NOT NULL,
    terms TEXT NOT NULL DEFAULT '[]',
    entities TEXT NOT NULL DEFAULT '[]',
    headlines TEXT NOT NULL DEFAULT '[]',
    continues_topic_id INTEGER REFERENCES discovered_topics(id),
    link_score REAL,
    thread_id INTEGER,
    UNIQUE (run_id, topic)
);
CREATE INDEX idx_discovered_topics_thread ON discovered_topics(thread_id, run_id);
CREATE TABLE topic_articles (
    topic_id INTEGER NOT NULL REFERENCES discovered_topics(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    probability REAL,
    PRIMARY KEY (topic_id, article_id)
);
CREATE INDEX idx_topic_articles_article ON topic_articles(article_id);
CREATE TABLE topic_daily (
    topic_id INTEGER NOT NULL REFERENCES discovered_topics(id),
    day TEXT NOT NULL,
    articles INTEGER NOT NULL,
    stories INTEGER,
    sources INTEGER NOT NULL,
    PRIMARY KEY (topic_id, day)
);
"""


#: Story clusters: near-duplicate and same-event articles across outlets grouped, so counts
#: can use one per story. Every non-duplicate article with a vector is in exactly one
#: cluster (most are singletons); a duplicate joins its root's cluster. Centroids (sums of
#: member vectors) are kept apart so incremental refreshes need not reload members.
M0081_STORY_CLUSTERS = """
CREATE TABLE story_clusters (
    id INTEGER PRIMARY KEY,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    articles INTEGER NOT NULL,
    copies INTEGER NOT NULL DEFAULT 0,
    sources INTEGER NOT NULL,
    representative_id INTEGER REFERENCES articles(id),
    title TEXT,
    version TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_story_clusters_day ON story_clusters(first_day, articles);
CREATE INDEX idx_story_clusters_size ON story_clusters(articles, sources);
CREATE TABLE story_articles (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    cluster_id INTEGER NOT NULL REFERENCES story_clusters(id),
    similarity REAL,
    is_copy INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_story_articles_cluster ON story_articles(cluster_id, article_id);
CREATE TABLE story_centroids (
    cluster_id INTEGER PRIMARY KEY REFERENCES story_clusters(id),
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE story_builds (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL,
    params TEXT NOT NULL,
    full INTEGER NOT NULL,
    articles_added INTEGER NOT NULL,
    clusters INTEGER NOT NULL,
    seconds REAL,
    created_at TEXT NOT NULL
);
"""


#: Per-article stance toward each narrative, in [-1, 1], NULL when unknown (issue 13; the
#: same migration lands from the narratives branch, identical name and SQL).
M0030_NARRATIVE_STANCE = (
    "ALTER TABLE article_narratives ADD COLUMN stance REAL; "
    "ALTER TABLE article_narratives ADD COLUMN stance_evidence TEXT;"
)


#: The count-model index (issue 14): coverage per day and per source-day, sparse member
#: counts with stance, each source's usual rate, each narrative's fit, the weekly table,
#: and the index parameters a database remembers. The old share-scaling tables go; the
#: index table is rebuilt (derived data: the next ``tracker index`` or ``tracker run``
#: recomputes it whole).
M0040_INDEX_COUNTS = """
DROP TABLE narrative_source_daily;
DROP TABLE narrative_source_scale;
DROP TABLE narrative_index_base;
DROP TABLE narrative_index;
CREATE TABLE source_daily (
    day TEXT NOT NULL,
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    articles INTEGER NOT NULL,
    scored_articles INTEGER NOT NULL,
    PRIMARY KEY (day, feed_id)
) WITHOUT ROWID;
CREATE TABLE coverage_daily (
    day TEXT PRIMARY KEY,
    articles INTEGER NOT NULL,
    scored_articles INTEGER NOT NULL,
    sources INTEGER NOT NULL,
    covered INTEGER NOT NULL
);
CREATE TABLE narrative_source_daily (
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    day TEXT NOT NULL,
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    articles INTEGER NOT NULL,
    weighted_articles REAL NOT NULL,
    stance_sum REAL NOT NULL,
    stance_articles INTEGER NOT NULL,
    model_version TEXT,
    PRIMARY KEY (narrative_id, day, feed_id)
) WITHOUT ROWID;
CREATE INDEX idx_narrative_source_daily_day ON narrative_source_daily(day);
CREATE TABLE narrative_source_rate (
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    member_articles INTEGER NOT NULL,
    scored_articles INTEGER NOT NULL,
    rate REAL NOT NULL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (narrative_id, feed_id)
);
CREATE TABLE narrative_index_fit (
    narrative_id TEXT PRIMARY KEY REFERENCES narratives(id),
    first_day TEXT,
    last_day TEXT,
    base_start TEXT NOT NULL,
    base_end TEXT NOT NULL,
    base_days INTEGER NOT NULL,
    base_articles INTEGER NOT NULL,
    base_expected REAL NOT NULL,
    prior_strength REAL NOT NULL,
    null_strength REAL NOT NULL,
    iterations INTEGER NOT NULL,
    params TEXT NOT NULL,
    computed_at TEXT NOT NULL
);
CREATE TABLE narrative_index (
    day TEXT NOT NULL,
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    covered INTEGER NOT NULL DEFAULT 1,
    articles INTEGER NOT NULL,
    weighted_articles REAL NOT NULL,
    total_articles INTEGER NOT NULL,
    sources INTEGER NOT NULL,
    member_sources INTEGER NOT NULL DEFAULT 0,
    share REAL,
    weighted_share REAL,
    expected_articles REAL,
    prior_index REAL,
    index_value REAL,
    index_low REAL,
    index_high REAL,
    smoothed_7d REAL,
    zscore REAL,
    p_value REAL,
    spike INTEGER NOT NULL DEFAULT 0,
    rising_sources INTEGER,
    net_stance REAL,
    stance_articles INTEGER NOT NULL DEFAULT 0,
    model_version TEXT,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (day, narrative_id)
);
CREATE INDEX idx_narrative_index_narrative ON narrative_index(narrative_id, day);
CREATE INDEX idx_narrative_index_spike ON narrative_index(spike, narrative_id, day);
CREATE TABLE narrative_weekly (
    week TEXT NOT NULL,
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    week_start TEXT NOT NULL,
    week_end TEXT NOT NULL,
    covered_days INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    total_articles INTEGER NOT NULL,
    member_sources INTEGER NOT NULL,
    expected_articles REAL NOT NULL,
    share REAL,
    index_value REAL,
    index_low REAL,
    index_high REAL,
    prev_index REAL,
    change REAL,
    change_z REAL,
    change_p REAL,
    mover INTEGER NOT NULL DEFAULT 0,
    net_stance REAL,
    stance_articles INTEGER NOT NULL DEFAULT 0,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (narrative_id, week)
);
CREATE INDEX idx_narrative_weekly_week ON narrative_weekly(week_end, narrative_id);
CREATE TABLE index_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_at TEXT NOT NULL
);
-- Counting reads narrow covering indexes, never the wide article rows: articles per
-- source and day in day order, articles looked up by id (in id order, from the narrative
-- rows), and the member rows alone with what the counts need (a partial index: members
-- are a small part of article_narratives).
CREATE INDEX idx_articles_day_duplicate ON articles(day, feed_id, duplicate_of);
CREATE INDEX idx_articles_id_day ON articles(id, duplicate_of, day, feed_id);
CREATE INDEX idx_article_narratives_members
    ON article_narratives(narrative_id, article_id, score, stance, model_version) WHERE is_member = 1;
-- Entities per member article: only linked mentions count (a quarter of them on real feeds).
CREATE INDEX idx_mentions_linked ON mentions(article_id, entity_id) WHERE entity_id IS NOT NULL;
"""


#: Serving (tracker serve's narrative, entity and day pages): articles naming each entity per
#: day, kept by triggers on mentions so a one-year entity timeline reads ~365 rows instead of
#: joining every mention to its article (200 ms at 1M articles). Duplicates are left out as
#: they stand when the mention is stored (deduplication runs at ingest, before tagging).
M0052_ENTITY_DAILY = """
CREATE TABLE entity_daily (
    entity_id TEXT NOT NULL,
    day TEXT NOT NULL,
    articles INTEGER NOT NULL DEFAULT 0,
    mentions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity_id, day)
) WITHOUT ROWID;
INSERT INTO entity_daily (entity_id, day, articles, mentions)
SELECT m.entity_id, a.day, count(DISTINCT m.article_id), count(*)
FROM mentions m JOIN articles a ON a.id = m.article_id
WHERE m.entity_id IS NOT NULL AND a.duplicate_of IS NULL
GROUP BY m.entity_id, a.day;
CREATE TRIGGER mentions_entity_daily_ai AFTER INSERT ON mentions
WHEN NEW.entity_id IS NOT NULL BEGIN
    INSERT INTO entity_daily (entity_id, day, articles, mentions)
    SELECT NEW.entity_id, a.day, NOT EXISTS (
        SELECT 1 FROM mentions m WHERE m.article_id = NEW.article_id
        AND m.entity_id = NEW.entity_id AND m.id != NEW.id), 1
    FROM articles a WHERE a.id = NEW.article_id AND a.duplicate_of IS NULL
    ON CONFLICT (entity_id, day) DO UPDATE
    SET articles = articles + excluded.articles, mentions = mentions + 1;
END;
CREATE TRIGGER mentions_entity_daily_ad AFTER DELETE ON mentions
WHEN OLD.entity_id IS NOT NULL BEGIN
    UPDATE entity_daily SET mentions = mentions - 1, articles = articles - NOT EXISTS (
        SELECT 1 FROM mentions m WHERE m.article_id = OLD.article_id AND m.entity_id = OLD.entity_id)
    WHERE entity_id = OLD.entity_id
    AND day = (SELECT day FROM articles WHERE id = OLD.article_id AND duplicate_of IS NULL);
END;
CREATE TRIGGER mentions_entity_daily_au AFTER UPDATE OF entity_id, article_id ON mentions BEGIN
    UPDATE entity_daily SET mentions = mentions - 1, articles = articles - NOT EXISTS (
        SELECT 1 FROM mentions m WHERE m.article_id = OLD.article_id AND m.entity_id = OLD.entity_id)
    WHERE OLD.entity_id IS NOT NULL AND entity_id = OLD.entity_id
    AND day = (SELECT day FROM articles WHERE id = OLD.article_id AND duplicate_of IS NULL);
    INSERT INTO entity_daily (entity_id, day, articles, mentions)
    SELECT NEW.entity_id, a.day, NOT EXISTS (
        SELECT 1 FROM mentions m WHERE m.article_id = NEW.article_id
        AND m.entity_id = NEW.entity_id AND m.id != NEW.id), 1
    FROM articles a WHERE NEW.entity_id IS NOT NULL AND a.id = NEW.article_id
    AND a.duplicate_of IS NULL
    ON CONFLICT (entity_id, day) DO UPDATE
    SET articles = articles + excluded.articles, mentions = mentions + 1;
END;
"""


#: Serving: stable, fast orders for the Datasette table pages. Datasette 0.65 sorts a table's
#: first page by its sort column alone and the next pages by that column then the primary
#: key (ascending), so rows tied on the sort column repeated or went missing across pages
#: whenever the first page's ties came out in another order. These indexes make the first
#: page's ties come out in primary-key order too (narrative_index: newest day first, then
#: narrative id; the articles table sorts by id, unique). entity_daily by day: the entity
#: pick list (most named over the last 90 days).
M0053_SERVING_ORDER = """
CREATE INDEX idx_narrative_index_day_desc ON narrative_index(day DESC, narrative_id);
CREATE INDEX idx_entity_daily_day ON entity_daily(day, entity_id, articles);
-- Coverage per feed per day (canned query coverage_per_day) from the index alone: the
-- article rows are wide (full text), a month of them is 40,000 page reads at 1M articles.
CREATE INDEX idx_articles_day_coverage ON articles(day, feed_id, duplicate_of, content_status, url);
"""


#: Narrative dynamics (issue 20): one row per test of a run of ``tracker dynamics`` (pair
#: tests, their robustness variants, stationarity tests, virality), replaced whole by the
#: next run (derived data), with the run's parameters and the index's model versions.
M0090_NARRATIVE_DYNAMICS = """
CREATE TABLE narrative_dynamics (
    id INTEGER PRIMARY KEY,
    analysis TEXT NOT NULL,
    series TEXT NOT NULL,
    frequency TEXT NOT NULL,
    variant TEXT NOT NULL,
    leader TEXT NOT NULL,
    follower TEXT,
    n_obs INTEGER,
    pair_start TEXT,
    pair_end TEXT,
    leader_transform TEXT,
    follower_transform TEXT,
    lag INTEGER,
    lag_low INTEGER,
    lag_high INTEGER,
    direction REAL,
    f_stat REAL,
    p_value REAL,
    p_adjusted REAL,
    significant INTEGER,
    xcorr_best_lag INTEGER,
    xcorr_best REAL,
    xcorr TEXT,
    robustness TEXT,
    adf_p REAL,
    kpss_p REAL,
    episodes INTEGER,
    spread_1d REAL,
    spread_3d REAL,
    spread_7d REAL,
    half_life_days REAL,
    verdict TEXT,
    first_day TEXT,
    last_day TEXT,
    params TEXT NOT NULL,
    model_version TEXT,
    computed_at TEXT NOT NULL
);
CREATE INDEX idx_narrative_dynamics_pair ON narrative_dynamics(analysis, variant, leader, follower);
"""


#: Alerts (issue 16): each new significant spike recorded once, and every delivery attempt
#: per channel (atom, webhook, email) with its outcome, so nothing is sent twice and
#: failures are visible.
M0100_ALERTS = """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    day TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    link TEXT,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (narrative_id, day)
);
CREATE INDEX idx_alerts_created ON alerts(created_at, id);
CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX idx_alert_deliveries_alert ON alert_deliveries(alert_id, channel, status);
"""


MIGRATIONS: list[Migration] = [
    ("0001_ingest", M0001_INGEST),
    ("0002_articles_fts", M0002_ARTICLES_FTS),
    ("0003_entities", M0003_ENTITIES),
    ("0004_narratives", M0004_NARRATIVES),
    ("0005_index", M0005_INDEX),
    ("0006_article_embeddings", M0006_ARTICLE_EMBEDDINGS),
    ("0007_index_intermediate", M0007_INDEX_INTERMEDIATE),
    ("0008_serve_indexes", M0008_SERVE_INDEXES),
    ("0009_index_spike_min_articles", M0009_INDEX_SPIKE_MIN_ARTICLES),
    ("0010_fetches_started", M0010_FETCHES_STARTED),
    ("0050_articles_fts_porter", m0050_articles_fts_porter),
    ("0020_fulltext", M0020_FULLTEXT),
    ("0080_discover", M0080_DISCOVER),
    ("0081_story_clusters", M0081_STORY_CLUSTERS),
    ("0030_narrative_stance", M0030_NARRATIVE_STANCE),
    ("0040_index_counts", M0040_INDEX_COUNTS),
    ("0052_entity_daily", M0052_ENTITY_DAILY),
    ("0053_serving_order", M0053_SERVING_ORDER),
    ("0090_narrative_dynamics", M0090_NARRATIVE_DYNAMICS),
    ("0100_alerts", M0100_ALERTS),
]
