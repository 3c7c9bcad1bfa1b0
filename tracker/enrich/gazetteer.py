"""Load and validate the curated entity gazetteer (``models/gazetteer.yaml``).

The gazetteer is reviewed data, validated by the pydantic models below: each entity
has a canonical ``id``, a display ``name``, a ``type`` from :data:`ENTITY_TYPES`,
``aliases`` (surface forms that always mean this entity), optional
``ambiguous_aliases`` (surface forms that link only with evidence: a ``context`` rule
that matches, or the statistical NER tagging the span), ``tickers`` (exchange symbols;
they match as cashtags such as ``$AAPL``), ``affiliations`` (a person to an
organisation), ``context`` and ``exclude`` rules, and a ``description``. A top-level
``not_entities`` list names surface forms the statistical NER often mistakes for
organisations ("IPO", "ETF"); those spans are dropped. Unknown keys are errors.

Matching rule, applied by :mod:`tracker.enrich.entities`: a multi-word alias matches
in any letter case ("goldman sachs", "GOLDMAN SACHS"); a single-word alias matches
only in the case written ("SEC" but not "sec", "Fed" but not "fed"), so list each
casing you want ("Bitcoin", "bitcoin").

Context rules (``context`` and ``exclude``) hold regular expressions, matched without
regard to case: ``before`` must match the text right before the alias, ``after`` the
text right after it, ``sentence`` anywhere in its sentence. ``exclude`` stops every
alias of the entity from linking where it matches ("Treasury" before "yields", "Apple"
in a sentence about orchards). ``context`` lets an ambiguous alias link where it
matches; a surface form may be one entity's plain alias and other entities' ambiguous
alias, in which case a matching ``context`` wins over the plain owner ("listed on
Nasdaq" is the exchange, any other "Nasdaq" the index).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from tracker.base.errors import ConfigError

ENTITY_TYPES: frozenset[str] = frozenset(
    {
        "asset_manager", "bank", "insurer", "broker", "exchange", "crypto_exchange",
        "custodian", "crypto_company", "fintech", "regulator", "central_bank", "government",
        "legislature", "court", "political_party", "military", "armed_group",
        "international_org", "rating_agency", "media", "university", "person",
        "crypto_asset", "ai_company", "ai_product", "semiconductor", "tech_company",
        "company", "index", "commodity_benchmark", "market", "commodity", "currency",
        "place", "region",
    }
)
#: Types that name a person (only they have affiliations, and they must point elsewhere).
PERSON_TYPES: frozenset[str] = frozenset({"person"})
#: Things the gazetteer tracks that are not names (currencies, generic commodities,
#: markets such as "Wall Street", places and regions): coarse class CONCEPT or PLACE.
_CONCEPT_TYPES = frozenset({"currency", "commodity", "market"})
_PLACE_TYPES = frozenset({"place", "region"})
_ASSET_TYPES = frozenset({"crypto_asset", "index", "commodity_benchmark"})
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_ENTITY_FIELDS = (
    "id", "name", "type", "aliases", "ambiguous_aliases", "tickers", "affiliations",
    "context", "exclude", "description",
)


def type_class(entity_type: str) -> str:
    """Coarse class of a gazetteer type: PERSON, ORG, ASSET, PRODUCT, PLACE or CONCEPT."""
    if entity_type in PERSON_TYPES:
        return "PERSON"
    if entity_type in _ASSET_TYPES:
        return "ASSET"
    if entity_type == "ai_product":
        return "PRODUCT"
    if entity_type in _PLACE_TYPES:
        return "PLACE"
    if entity_type in _CONCEPT_TYPES:
        return "CONCEPT"
    return "ORG"


def alias_key(text: str) -> str:
    """Case- and space-insensitive key used to detect duplicate aliases and to link NER spans."""
    return " ".join(text.casefold().split())


# --- The file's schema ---------------------------------------------------------------


def _string_list(value: Any, field_name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(
            f"'{field_name}' must be a list of non-empty strings, got {value!r}; "
            f"write it as {field_name}: [\"First\", \"Second\"]."
        )
    return [v.strip() for v in value]


class ContextModel(BaseModel):
    """Regular expressions around an alias: right before it, right after it, in its sentence."""

    model_config = ConfigDict(extra="forbid")
    before: list[str] = []
    after: list[str] = []
    sentence: list[str] = []

    @field_validator("before", "after", "sentence", mode="before")
    @classmethod
    def _patterns(cls, value: Any, info: Any) -> list[str]:
        patterns = _string_list(value, str(info.field_name))
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern {pattern!r} is not a valid regular expression ({exc}); fix it "
                    "(escape '.', '(', '$' and the like with a backslash)."
                ) from None
        return patterns


class AffiliationModel(BaseModel):
    """``{org: <entity id>, role: <role>}`` (or just the org id)."""

    model_config = ConfigDict(extra="forbid")
    org: str
    role: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"org": value}
        if not isinstance(value, dict) or not isinstance(value.get("org"), str):
            raise ValueError(
                f"affiliation {value!r} is invalid; write it as {{org: <entity id>, role: <role>}}."
            )
        return value


class EntityModel(BaseModel):
    """One entry of ``entities:``."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    type: str
    aliases: list[str] = []
    ambiguous_aliases: list[str] = []
    tickers: list[str] = []
    affiliations: list[AffiliationModel] = []
    context: ContextModel | None = None
    exclude: ContextModel | None = None
    description: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        if not isinstance(value, str) or not _ID_RE.match(value):
            raise ValueError(
                f"id {value!r} is missing or invalid; use lower-case letters, digits and "
                "underscores, e.g. id: goldman_sachs."
            )
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("has no name; add name: <display name>.")
        return value.strip()

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str:
        if value not in ENTITY_TYPES:
            raise ValueError(
                f"type {value!r} is not a known type; use one of {', '.join(sorted(ENTITY_TYPES))} "
                "(or add the type to ENTITY_TYPES in tracker/enrich/gazetteer.py)."
            )
        return str(value)

    @field_validator("aliases", "ambiguous_aliases", "tickers", mode="before")
    @classmethod
    def _strings(cls, value: Any, info: Any) -> list[str]:
        return _string_list(value, str(info.field_name))

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> str | None:
        return str(value).strip() if value else None

    @model_validator(mode="after")
    def _only_people_have_affiliations(self) -> EntityModel:
        if self.affiliations and self.type not in PERSON_TYPES:
            raise ValueError(
                f"is a {self.type} but has affiliations; only people have affiliations: "
                "remove them or change the type to person."
            )
        return self


class GazetteerFile(BaseModel):
    """The whole file: ``entities`` and optional ``not_entities``."""

    model_config = ConfigDict(extra="forbid")
    entities: list[Any]
    not_entities: list[str] = []

    @field_validator("not_entities", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> list[str]:
        return _string_list(value, "not_entities")


# --- What the rest of the tracker uses -----------------------------------------------


@dataclass(frozen=True)
class Affiliation:
    """A person's tie to an organisation in the gazetteer."""

    org: str
    role: str | None = None


@dataclass(frozen=True)
class Context:
    """Compiled context patterns (see the module docstring)."""

    before: re.Pattern[str] | None = None
    after: re.Pattern[str] | None = None
    sentence: re.Pattern[str] | None = None

    def matches(self, text: str, start: int, end: int, sent_start: int, sent_end: int) -> bool:
        """Whether any pattern matches around ``text[start:end]`` within its sentence."""
        if self.before is not None and self.before.search(text, max(sent_start, start - 60), start):
            return True
        if self.after is not None and self.after.match(text, end, min(sent_end, end + 60)):
            return True
        return self.sentence is not None and self.sentence.search(text, sent_start, sent_end) is not None


def _compile(model: ContextModel | None) -> Context | None:
    if model is None:
        return None

    def join(patterns: list[str], fmt: str) -> re.Pattern[str] | None:
        if not patterns:
            return None
        return re.compile(fmt.format("|".join(f"(?:{p})" for p in patterns)), re.IGNORECASE)

    return Context(
        before=join(model.before, r"(?:{})\s*$"),
        after=join(model.after, r"\s*(?:{})"),
        sentence=join(model.sentence, r"\b(?:{})\b"),
    )


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
    tickers: tuple[str, ...] = ()
    context: Context | None = field(default=None, compare=False)
    exclude: Context | None = field(default=None, compare=False)

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The name and every alias that always links (the name too unless listed ambiguous)."""
        forms = (self.name, *self.aliases)
        # Feeds write apostrophes both ways ("Moody's", "Moody’s"): list each form once, match both.
        forms = tuple(v for f in forms for v in (f, f.replace("'", "’")))
        return tuple(f for f in dict.fromkeys(forms) if f not in self.ambiguous_aliases)

    @property
    def cls(self) -> str:
        """Coarse class (PERSON, ORG, ASSET, PRODUCT, PLACE, CONCEPT)."""
        return type_class(self.type)

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
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster on 2,000 entries
    try:
        data = yaml.load(raw, Loader=loader)
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
    try:
        top = GazetteerFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_top_level_message(exc, where)) from None
    models = [_parse_entity(item, i, where) for i, item in enumerate(top.entities)]
    entities = [_entity(m) for m in models]
    _check_unique(entities, where)
    _check_affiliations(entities, where)
    aliases = {alias_key(a) for e in entities for a in (*e.surface_forms, *e.ambiguous_aliases)}
    clash = [n for n in top.not_entities if alias_key(n) in aliases]
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
        not_entities=frozenset(alias_key(n) for n in top.not_entities),
    )


def _top_level_message(exc: ValidationError, where: str) -> str:
    for err in exc.errors():
        if err["type"] == "extra_forbidden":
            unknown = sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden")
            return (
                f"{where}: unknown top-level key(s) {', '.join(unknown)}; only 'entities' and "
                "'not_entities' are allowed: remove or rename them."
            )
        if err["loc"][:1] == ("not_entities",):
            return f"{where}: {_clean(err['msg'])}"
    return f"{where}: {exc.errors()[0]['msg']}; see models/gazetteer.yaml for the format."


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _parse_entity(item: Any, index: int, where: str) -> EntityModel:
    label = f"{where}: entry #{index + 1}"
    if not isinstance(item, dict):
        raise ConfigError(f"{label} must be a mapping with id, name and type; got {item!r}.")
    if isinstance(item.get("id"), str) and _ID_RE.match(item["id"]):
        label = f"{where}: entity '{item['id']}'"
    try:
        return EntityModel.model_validate(item)
    except ValidationError as exc:
        errors = exc.errors()
        nested = [e["loc"] for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) > 1]
        if nested:
            where_in, key = ".".join(str(p) for p in nested[0][:-1]), nested[0][-1]
            allowed = "org, role" if where_in.startswith("affiliations") else "before, after, sentence"
            raise ConfigError(
                f"{label} has an unknown key '{key}' in {where_in}; fix the spelling "
                f"(allowed: {allowed})."
            ) from None
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        if unknown:
            raise ConfigError(
                f"{label} has unknown field(s) {', '.join(unknown)}; remove them or fix the "
                f"spelling (allowed: {', '.join(_ENTITY_FIELDS)})."
            ) from None
        err = errors[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = _clean(err["msg"])
        if err["type"] == "missing":
            msg = f"'{loc}' is missing; add {loc}: <value>."
        elif not msg.startswith(("id ", "has ", "is ", "'", "type ", "affiliation")):
            msg = f"'{loc}': {msg}"
        raise ConfigError(f"{label} {msg}" if msg.startswith(("has ", "is ")) else f"{label}: {msg}") from None


def _entity(m: EntityModel) -> GazEntity:
    return GazEntity(
        id=m.id,
        name=m.name,
        type=m.type,
        aliases=tuple(m.aliases),
        ambiguous_aliases=tuple(m.ambiguous_aliases),
        affiliations=tuple(Affiliation(a.org, a.role) for a in m.affiliations),
        description=m.description,
        tickers=tuple(m.tickers),
        context=_compile(m.context),
        exclude=_compile(m.exclude),
    )


def _check_unique(entities: list[GazEntity], where: str) -> None:
    """Ids are unique; a surface form is the plain (always-linking) alias of one entity at
    most. Other entities may list it as an ambiguous alias (context decides)."""
    ids: set[str] = set()
    owners: dict[str, str] = {}
    for entity in entities:
        if entity.id in ids:
            raise ConfigError(
                f"{where}: duplicate id '{entity.id}'; merge the two entries or rename one."
            )
        ids.add(entity.id)
        for alias in entity.surface_forms:
            key = alias_key(alias)
            owner = owners.get(key)
            if owner is not None and owner != entity.id:
                raise ConfigError(
                    f"{where}: alias '{alias}' of entity '{entity.id}' is already used by "
                    f"'{owner}'; an alias must name one entity: remove it from one of them "
                    "(or make it an ambiguous alias with a context rule)."
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
