"""The first schema, migrations 0001-0010 as they shipped (append-only: never edited).

Kept apart from :mod:`tracker.base.migrations`, which lists every migration in order, so
neither file outgrows one screenful of concerns; later migrations live there.
"""

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
