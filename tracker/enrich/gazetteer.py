"""Load and validate the curated entity gazetteer (``models/gazetteer.yaml``).

The gazetteer is reviewed data: each entity has a canonical ``id``, a display
``name``, a ``type`` from :data:`ENTITY_TYPES`, ``aliases`` (surface forms that
always mean this entity), optional ``ambiguous_aliases`` (surface forms that
only link when the statistical NER already tags the span as an entity, e.g.
"Circle" or "Strategy"), optional ``affiliations`` (a person to an
organisation) and an optional ``description``. A top-level ``not_entities`` list names
surface forms the statistical NER often mistakes for organisations ("IPO",
"ETF"); those spans are dropped.

Matching rule, applied by :mod:`tracker.enrich.entities`: a multi-word alias matches
in any letter case ("goldman sachs", "GOLDMAN SACHS"); a single-word alias
matches only in the case written ("SEC" but not "sec", "Fed" but not "fed"),
so list each casing you want ("Bitcoin", "bitcoin").
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracker.base.errors import ConfigError

ENTITY_TYPES: frozenset[str] = frozenset(
    {
        "asset_manager",
        "bank",
        "broker",
        "exchange",
        "crypto_exchange",
        "custodian",
        "crypto_company",
        "fintech",
        "regulator",
        "central_bank",
        "government",
        "international_org",
        "rating_agency",
        "person",
        "crypto_asset",
        "ai_company",
        "semiconductor",
        "tech_company",
        "company",
        "index",
        "market",
        "commodity",
        "currency",
    }
)
#: Coarse class of each type: what kind of name it is (PERSON, ORG, ASSET, PRODUCT) or
#: CONCEPT for things the gazetteer tracks that are not names (currencies, generic
#: commodities, markets such as "Wall Street", regions such as the euro zone).
_CONCEPT_TYPES = frozenset({"currency", "commodity", "market"})
_ASSET_TYPES = frozenset({"crypto_asset", "index"})


def type_class(entity_type: str) -> str:
    """Coarse class of a gazetteer type: PERSON, ORG, ASSET, PRODUCT or CONCEPT."""
    if entity_type == "person":
        return "PERSON"
    if entity_type in _ASSET_TYPES:
        return "ASSET"
    if entity_type in _CONCEPT_TYPES:
        return "CONCEPT"
    return "ORG"


#: Types that name an organisation (a person's affiliation must point at one of these).
PERSON_TYPES: frozenset[str] = frozenset({"person"})
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def alias_key(text: str) -> str:
    """Case- and space-insensitive key used to detect duplicate aliases and to link NER spans."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Affiliation:
    """A person's tie to an organisation in the gazetteer."""

    org: str
    role: str | None = None


@dataclass(frozen=True)
class GazEntity:
    """One canonical entity."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    ambiguous_aliases: tuple[str, ...] = ()
    affiliations: tuple[Affiliation, ...] = ()
    description: str | None = None

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The name and every alias that always links (the name too unless listed ambiguous)."""
        forms = (self.name, *self.aliases)
        return tuple(f for f in dict.fromkeys(forms) if f not in self.ambiguous_aliases)

    def to_row(self) -> dict[str, Any]:
        """The ``entities`` table row."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "aliases": json.dumps([*self.aliases, *self.ambiguous_aliases]),
            "affiliations": json.dumps(
                [{"org": a.org, "role": a.role} for a in self.affiliations]
            ),
            "description": self.description,
        }


@dataclass(frozen=True)
class Gazetteer:
    """Validated entities plus a short content hash that versions every output."""

    entities: tuple[GazEntity, ...]
    digest: str
    path: Path | None = None
    #: alias keys of NER spans to drop (see ``not_entities``).
    not_entities: frozenset[str] = frozenset()
    by_id: dict[str, GazEntity] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.by_id:
            self.by_id.update({e.id: e for e in self.entities})

    def __len__(self) -> int:
        return len(self.entities)

    def get(self, entity_id: str) -> GazEntity | None:
        """The entity with this id, or None."""
        return self.by_id.get(entity_id)


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read and validate a gazetteer YAML file; ConfigError says which entry is wrong and how."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read gazetteer {path}: {exc.strerror or exc}. Create it (see "
            "models/gazetteer.yaml in the repository) or set TRACKER_MODELS to the "
            "directory that holds it."
        ) from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"Gazetteer {path} is not valid YAML: {exc}. Fix the syntax.") from exc
    return parse_gazetteer(data, digest=hashlib.sha256(raw).hexdigest()[:8], path=path)


def parse_gazetteer(data: Any, *, digest: str = "", path: Path | None = None) -> Gazetteer:
    """Validate parsed YAML data (``{"entities": [...]}``) into a :class:`Gazetteer`."""
    where = str(path) if path else "gazetteer"
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        raise ConfigError(
            f"{where}: expected a mapping with an 'entities' list at the top level; "
            "start the file with 'entities:' followed by '- id: ...' entries."
        )
    unknown = set(data) - {"entities", "not_entities"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}; "
            "only 'entities' and 'not_entities' are allowed: remove or rename them."
        )
    entities = [_parse_entity(item, i, where) for i, item in enumerate(data["entities"])]
    _check_unique(entities, where)
    _check_affiliations(entities, where)
    not_entities = _strings(data.get("not_entities"), "not_entities", where)
    aliases = {alias_key(a) for e in entities for a in (*e.surface_forms, *e.ambiguous_aliases)}
    clash = [n for n in not_entities if alias_key(n) in aliases]
    if clash:
        raise ConfigError(
            f"{where}: not_entities lists {', '.join(clash)}, which is also an entity alias; "
            "remove it from one of the two lists."
        )
    if not digest:
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        digest = hashlib.sha256(blob).hexdigest()[:8]
    return Gazetteer(
        entities=tuple(entities),
        digest=digest,
        path=path,
        not_entities=frozenset(alias_key(n) for n in not_entities),
    )


def _strings(value: Any, field_name: str, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"{label}: '{field_name}' must be a list of non-empty strings, got {value!r}; "
            f"write it as {field_name}: [\"First\", \"Second\"]."
        )
    return tuple(v.strip() for v in value)


def _parse_entity(item: Any, index: int, where: str) -> GazEntity:
    label = f"{where}: entry #{index + 1}"
    if not isinstance(item, dict):
        raise ConfigError(f"{label} must be a mapping with id, name and type; got {item!r}.")
    entity_id = item.get("id")
    if not isinstance(entity_id, str) or not _ID_RE.match(entity_id):
        raise ConfigError(
            f"{label}: id {entity_id!r} is missing or invalid; use lower-case letters, digits "
            "and underscores, e.g. id: goldman_sachs."
        )
    label = f"{where}: entity '{entity_id}'"
    unknown = set(item) - {
        "id", "name", "type", "aliases", "ambiguous_aliases", "affiliations", "description",
    }
    if unknown:
        raise ConfigError(
            f"{label} has unknown field(s) {', '.join(sorted(unknown))}; remove them or fix "
            "the spelling (allowed: id, name, type, aliases, ambiguous_aliases, "
            "affiliations, description)."
        )
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{label} has no name; add name: <display name>.")
    entity_type = item.get("type")
    if entity_type not in ENTITY_TYPES:
        raise ConfigError(
            f"{label} has type {entity_type!r}, which is not a known type; use one of "
            f"{', '.join(sorted(ENTITY_TYPES))} (or add the type to ENTITY_TYPES in "
            "tracker/gazetteer.py)."
        )
    affiliations = []
    for aff in item.get("affiliations") or []:
        if isinstance(aff, str):
            aff = {"org": aff}
        if not isinstance(aff, dict) or not isinstance(aff.get("org"), str):
            raise ConfigError(
                f"{label}: affiliation {aff!r} is invalid; write it as "
                "{org: <entity id>, role: <role>}."
            )
        role = aff.get("role")
        affiliations.append(Affiliation(org=aff["org"], role=str(role) if role else None))
    if affiliations and entity_type not in PERSON_TYPES:
        raise ConfigError(
            f"{label} is a {entity_type} but has affiliations; only people have "
            "affiliations: remove them or change the type to person."
        )
    description = item.get("description")
    return GazEntity(
        id=entity_id,
        name=name.strip(),
        type=str(entity_type),
        aliases=_strings(item.get("aliases"), "aliases", label),
        ambiguous_aliases=_strings(item.get("ambiguous_aliases"), "ambiguous_aliases", label),
        affiliations=tuple(affiliations),
        description=str(description).strip() if description else None,
    )


def _check_unique(entities: list[GazEntity], where: str) -> None:
    ids: set[str] = set()
    owners: dict[str, str] = {}
    for entity in entities:
        if entity.id in ids:
            raise ConfigError(
                f"{where}: duplicate id '{entity.id}'; merge the two entries or rename one."
            )
        ids.add(entity.id)
        for alias in dict.fromkeys((*entity.surface_forms, *entity.ambiguous_aliases)):
            key = alias_key(alias)
            owner = owners.get(key)
            if owner is not None and owner != entity.id:
                raise ConfigError(
                    f"{where}: alias '{alias}' of entity '{entity.id}' is already used by "
                    f"'{owner}'; an alias must name one entity: remove it from one of them."
                )
            owners[key] = entity.id


def _check_affiliations(entities: list[GazEntity], where: str) -> None:
    types = {e.id: e.type for e in entities}
    for entity in entities:
        for aff in entity.affiliations:
            if aff.org not in types:
                raise ConfigError(
                    f"{where}: entity '{entity.id}' is affiliated with '{aff.org}', which is "
                    "not in the gazetteer; add that organisation or fix the id."
                )
            if types[aff.org] in PERSON_TYPES:
                raise ConfigError(
                    f"{where}: entity '{entity.id}' is affiliated with '{aff.org}', a person; "
                    "affiliations must point at organisations."
                )
