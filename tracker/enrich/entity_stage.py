"""The ``entities`` enrichment stage: spaCy NER plus the gazetteer, and the claims tied to them."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.base.resources import model_file
from tracker.base.settings import Settings

if TYPE_CHECKING:
    from tracker.enrich.claims import Claim
    from tracker.enrich.entities import EntityTagger, Mention
    from tracker.enrich.gazetteer import Gazetteer


ENTITIES_STAGE_VERSION = 2
COMMON_WORDS_FILE = "common_words.txt"


def load_common_words(path: Path) -> tuple[frozenset[str], str]:
    """Words of ``models/common_words.txt`` (``#`` lines are comments) and a short hash."""
    raw = path.read_bytes()
    words = frozenset(
        line.strip() for line in raw.decode("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return words, hashlib.sha256(raw).hexdigest()[:8]


@dataclass(frozen=True)
class EntityResult:
    """Entity mentions and money/percent claims found in one text."""

    mentions: list[Mention]
    claims: list[Claim]


class EntityStage:
    """Gazetteer + NER mentions, linked to canonical entities, and the claims attached to them."""

    name = "entities"

    def __init__(
        self,
        gazetteer: Gazetteer,
        tagger: EntityTagger | None = None,
        common_words: Path | None = None,
    ) -> None:
        """Use a loaded gazetteer; the spaCy tagger is built on first use unless given.

        ``common_words`` is the word list for headline re-casing; by default the one
        beside the gazetteer file, else the packaged one.
        """
        self.gazetteer = gazetteer
        self._tagger = tagger
        if common_words is None:
            beside = gazetteer.path.parent / COMMON_WORDS_FILE if gazetteer.path else None
            common_words = beside if beside and beside.is_file() else model_file(None, COMMON_WORDS_FILE)
        self.common_words, self.common_digest = load_common_words(common_words)

    @classmethod
    def from_settings(cls, settings: Settings) -> EntityStage:
        """The stage over ``models/gazetteer.yaml`` in the configured models directory."""
        from tracker.enrich.gazetteer import load_gazetteer

        return cls(
            load_gazetteer(model_file(settings.models_dir, "gazetteer.yaml")),
            common_words=model_file(settings.models_dir, COMMON_WORDS_FILE),
        )

    @property
    def tagger(self) -> EntityTagger:
        """The spaCy-backed tagger, loaded once."""
        if self._tagger is None:
            from tracker.enrich.entities import EntityTagger

            self._tagger = EntityTagger(self.gazetteer, common_words=self.common_words)
        return self._tagger

    @property
    def version(self) -> str:
        """``entities:<n>+<spaCy model>-<version>+gaz:<gazetteer hash>+words:<hash>``."""
        from tracker.enrich.nlp import model_info

        model = self._tagger.model_label if self._tagger is not None else model_info().label
        return (
            f"{self.name}:{ENTITIES_STAGE_VERSION}+{model}+gaz:{self.gazetteer.digest}"
            f"+words:{self.common_digest}"
        )

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Upsert the gazetteer into ``entities`` (mentions and claims reference it)."""
        save_entities(conn, self.gazetteer)

    def process(self, texts: Sequence[str]) -> list[EntityResult]:
        """Tag each text and attach its figures to the entities they describe."""
        from tracker.enrich.claims import extract_claims

        return [
            EntityResult(tagged.mentions, extract_claims(tagged, self.gazetteer))
            for tagged in self.tagger.tag(texts)
        ]

    def save(
        self, conn: sqlite3.Connection, article_ids: Sequence[int], results: Sequence[Any]
    ) -> dict[str, int]:
        """Replace these articles' mentions and claims."""
        return save_entity_results(conn, self.version, article_ids, results)

    def describe(self, result: Any) -> dict[str, Any]:
        """``entities`` and ``claims`` lists for ``tracker analyze --json``."""
        return {
            "entities": [m.to_dict() for m in result.mentions],
            "claims": [c.to_dict() for c in result.claims],
        }


def save_entities(conn: sqlite3.Connection, gazetteer: Gazetteer) -> int:
    """Upsert every gazetteer entity into ``entities``; entities dropped from it are kept."""
    rows = [e.to_row() for e in gazetteer.entities]
    conn.executemany(
        "INSERT INTO entities (id, name, type, aliases, affiliations, description)"
        " VALUES (:id, :name, :type, :aliases, :affiliations, :description)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type,"
        " aliases = excluded.aliases, affiliations = excluded.affiliations,"
        " description = excluded.description",
        rows,
    )
    return len(rows)


def save_entity_results(
    conn: sqlite3.Connection,
    version: str,
    article_ids: Sequence[int],
    results: Sequence[EntityResult],
) -> dict[str, int]:
    """Delete then insert mentions and claims for a batch; call inside a transaction."""
    id_rows = [(aid,) for aid in article_ids]
    conn.executemany("DELETE FROM mentions WHERE article_id = ?", id_rows)
    conn.executemany("DELETE FROM claims WHERE article_id = ?", id_rows)
    mention_rows = [
        (aid, m.entity_id, m.text, m.label, m.start, m.end, m.sentence_index, version)
        for aid, result in zip(article_ids, results, strict=True)
        for m in result.mentions
    ]
    claim_rows = [
        (
            aid, c.entity_id, c.subject, c.kind, c.value, c.low, c.high, c.unit, c.text,
            c.sentence_index, version,
        )
        for aid, result in zip(article_ids, results, strict=True)
        for c in result.claims
    ]
    conn.executemany(
        'INSERT INTO mentions (article_id, entity_id, text, label, start, "end",'
        " sentence_index, pipeline_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        mention_rows,
    )
    conn.executemany(
        "INSERT INTO claims (article_id, entity_id, subject, kind, value, low, high, unit,"
        " text, sentence_index, pipeline_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        claim_rows,
    )
    return {"mentions": len(mention_rows), "claims": len(claim_rows)}
