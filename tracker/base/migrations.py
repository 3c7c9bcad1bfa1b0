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

Migration = tuple[str, str | Callable[[sqlite3.Connection], None]]


#: Feeds, runs, fetches and articles.
M0001_INGEST = """
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            title TEXT,
            url TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 1,
            poll_minutes INTEGER,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            last_fetched_at TEXT,
            last_ok_at TEXT,
            last_new_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT,
            feeds_ok INTEGER,
            feeds_failed INTEGER,
            articles_new INTEGER,
            summary TEXT
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            source TEXT NOT NULL DEFAULT 'http',
            url TEXT,
            final_url TEXT,
            snapshot_path TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            http_status INTEGER,
            content_type TEXT,
            etag TEXT,
            last_modified TEXT,
            bytes INTEGER,
            body_hash TEXT,
            items_seen INTEGER,
            items_new INTEGER,
            items_duplicate INTEGER,
            bozo INTEGER NOT NULL DEFAULT 0,
            bozo_message TEXT,
            error_kind TEXT,
            error TEXT
        );
        CREATE INDEX idx_fetches_feed ON fetches(feed_id, started_at);
        CREATE INDEX idx_fetches_status ON fetches(status);
        CREATE INDEX idx_fetches_snapshot ON fetches(snapshot_path, body_hash);
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            fetch_id INTEGER REFERENCES fetches(id),
            guid TEXT,
            item_key TEXT NOT NULL,
            url TEXT,
            canonical_url TEXT,
            title TEXT,
            summary TEXT,
            content_text TEXT,
            author TEXT,
            published_at TEXT,
            published_raw TEXT,
            date_flag TEXT,
            day TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title_key TEXT,
            language TEXT,
            duplicate_of INTEGER REFERENCES articles(id),
            duplicate_reason TEXT,
            UNIQUE (feed_id, item_key)
        );
        CREATE INDEX idx_articles_canonical_url ON articles(canonical_url);
        CREATE INDEX idx_articles_content_hash ON articles(content_hash);
        CREATE INDEX idx_articles_title_key ON articles(title_key, day);
        CREATE INDEX idx_articles_day ON articles(day, feed_id);
        CREATE INDEX idx_articles_duplicate_of ON articles(duplicate_of);
        """


#: Full-text search over article title, summary and content, kept in sync by triggers.
M0002_ARTICLES_FTS = """
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, summary, content_text, content='articles', content_rowid='id'
        );
        CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, summary, content_text)
            VALUES (new.id, new.title, new.summary, new.content_text);
        END;
        CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, summary, content_text)
            VALUES ('delete', old.id, old.title, old.summary, old.content_text);
        END;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, summary, content_text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, summary, content_text)
            VALUES ('delete', old.id, old.title, old.summary, old.content_text);
            INSERT INTO articles_fts(rowid, title, summary, content_text)
            VALUES (new.id, new.title, new.summary, new.content_text);
        END;
        """


#: Entities, mentions, claims and the per-stage enrichment ledger.
M0003_ENTITIES = """
        CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            aliases TEXT NOT NULL DEFAULT '[]',
            affiliations TEXT NOT NULL DEFAULT '[]',
            description TEXT
        );
        CREATE INDEX idx_entities_type ON entities(type);
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            entity_id TEXT REFERENCES entities(id),
            text TEXT NOT NULL,
            label TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            sentence_index INTEGER,
            pipeline_version TEXT NOT NULL
        );
        CREATE INDEX idx_mentions_article ON mentions(article_id);
        CREATE INDEX idx_mentions_entity ON mentions(entity_id, article_id);
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            entity_id TEXT REFERENCES entities(id),
            subject TEXT,
            kind TEXT NOT NULL,
            value REAL,
            low REAL,
            high REAL,
            unit TEXT,
            text TEXT NOT NULL,
            sentence_index INTEGER,
            pipeline_version TEXT NOT NULL
        );
        CREATE INDEX idx_claims_article ON claims(article_id);
        CREATE INDEX idx_claims_entity ON claims(entity_id);
        CREATE TABLE enrichments (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            stage TEXT NOT NULL,
            version TEXT NOT NULL,
            enriched_at TEXT NOT NULL,
            PRIMARY KEY (article_id, stage)
        );
        CREATE INDEX idx_enrichments_stage ON enrichments(stage, version);
        """


#: Narrative definitions, per-article scores and the embedding cache.
M0004_NARRATIVES = """
        CREATE TABLE narratives (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            description TEXT
        );
        CREATE TABLE article_narratives (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            narrative_id TEXT NOT NULL REFERENCES narratives(id),
            score REAL NOT NULL,
            is_member INTEGER NOT NULL,
            method TEXT NOT NULL,
            model_version TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (article_id, narrative_id)
        );
        CREATE INDEX idx_article_narratives_narrative
            ON article_narratives(narrative_id, is_member, article_id);
        CREATE TABLE embedding_cache (
            text_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (text_hash, model)
        );
        """


#: The daily narrative-intensity index and its intermediate figures.
M0005_INDEX = """
        CREATE TABLE narrative_source_daily (
            day TEXT NOT NULL,
            narrative_id TEXT NOT NULL REFERENCES narratives(id),
            feed_id INTEGER NOT NULL REFERENCES feeds(id),
            articles INTEGER NOT NULL,
            weighted_articles REAL NOT NULL,
            total_articles INTEGER NOT NULL,
            share REAL,
            scaled_share REAL,
            PRIMARY KEY (day, narrative_id, feed_id)
        );
        CREATE TABLE narrative_index (
            day TEXT NOT NULL,
            narrative_id TEXT NOT NULL REFERENCES narratives(id),
            articles INTEGER NOT NULL,
            weighted_articles REAL NOT NULL,
            total_articles INTEGER NOT NULL,
            sources INTEGER NOT NULL,
            share REAL,
            index_value REAL,
            smoothed_7d REAL,
            zscore REAL,
            spike INTEGER NOT NULL DEFAULT 0,
            computed_at TEXT NOT NULL,
            model_version TEXT,
            PRIMARY KEY (day, narrative_id)
        );
        CREATE INDEX idx_narrative_index_narrative ON narrative_index(narrative_id, day);
        CREATE TABLE narrative_entity_daily (
            day TEXT NOT NULL,
            narrative_id TEXT NOT NULL REFERENCES narratives(id),
            entity_id TEXT NOT NULL REFERENCES entities(id),
            articles INTEGER NOT NULL,
            PRIMARY KEY (day, narrative_id, entity_id)
        );
        CREATE INDEX idx_narrative_entity_daily_entity ON narrative_entity_daily(entity_id, day);
        """


#: One vector per article (mean of its sentence embeddings) for centrality and similarity.
M0006_ARTICLE_EMBEDDINGS = """
CREATE TABLE article_embeddings (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (article_id, model)
);
"""


#: Index intermediates: per-source scales, per-narrative base means and build parameters.
M0007_INDEX_INTERMEDIATE = """
ALTER TABLE narrative_source_daily ADD COLUMN scored_articles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE narrative_source_daily ADD COLUMN model_version TEXT;
ALTER TABLE narrative_index ADD COLUMN weighted_share REAL;
ALTER TABLE narrative_index ADD COLUMN scaled_mean REAL;
CREATE TABLE narrative_source_scale (
    narrative_id TEXT NOT NULL REFERENCES narratives(id),
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    base_days INTEGER NOT NULL,
    mean_share REAL,
    std_share REAL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (narrative_id, feed_id)
);
CREATE TABLE narrative_index_base (
    narrative_id TEXT PRIMARY KEY REFERENCES narratives(id),
    base_start TEXT NOT NULL,
    base_end TEXT NOT NULL,
    base_days INTEGER NOT NULL,
    base_mean REAL,
    min_articles INTEGER NOT NULL,
    smooth_days INTEGER NOT NULL,
    z_window INTEGER NOT NULL,
    z_min_periods INTEGER NOT NULL,
    spike_z REAL NOT NULL,
    computed_at TEXT NOT NULL
);
"""


#: Indexes behind the Datasette canned queries (tracker/serve/datasette/metadata.yml): a feed's newest
#: article (silent_feeds), a narrative's entities over a period (narrative_entities, covering),
#: an entity looked up by name in any case (entity_timeline, narrative pages).
M0008_SERVE_INDEXES = """
CREATE INDEX idx_articles_feed_fetched ON articles(feed_id, fetched_at);
CREATE INDEX idx_narrative_entity_daily_narrative
    ON narrative_entity_daily(narrative_id, day, entity_id, articles);
CREATE INDEX idx_entities_name_nocase ON entities(name COLLATE NOCASE);
"""


#: The index's spike rule also needs a minimum of member articles; record it with the build.
M0009_INDEX_SPIKE_MIN_ARTICLES = """
ALTER TABLE narrative_index_base ADD COLUMN spike_min_articles INTEGER;
"""


#: The latest fetch (the "as of" of failed_feeds and silent_feeds) and fetches by time,
#: without scanning every fetch ever made.
M0010_FETCHES_STARTED = """
CREATE INDEX idx_fetches_started ON fetches(started_at);
"""


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
    ("0100_alerts", M0100_ALERTS),
]
