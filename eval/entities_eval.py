"""Score the tracker's entities stage on the hand-labelled set (eval/labels/entities.jsonl).

The labels hold ids only; every item's text is rebuilt from ``../shared/data`` with
``item_text`` of ``eval/sample_entities.py`` (the reference definition) and tagged
with ``EntityStage`` exactly as ``tracker enrich`` tags an article (title, blank line,
summary). What is scored (see ``eval/labels/ENTITIES.md`` for the labelling rules):

- **Mentions**: precision, recall and F1 of predicted spans against the gold spans,
  exact (same start and end) and partial (overlapping, one-to-one), type-agnostic
  and typed. Gold types are PERSON, ORG, ASSET and PRODUCT; a prediction takes the
  coarse class of its gazetteer type (``tracker.enrich.gazetteer.type_class``) when
  linked, else of its spaCy label (ORG, PERSON, PRODUCT). Predictions of any other
  class are not scored, because the guide does not label them: spaCy GPE, LOC, NORP,
  FAC, EVENT, LAW, WORK_OF_ART, LANGUAGE, DATE, TIME, MONEY, PERCENT, QUANTITY,
  ORDINAL, CARDINAL; gazetteer entries of class PLACE (countries, cities, regions such
  as the euro zone: the gazetteer's GPE) and CONCEPT (currencies, generic commodities,
  markets such as "Wall Street"). ``strict`` precision counts the CONCEPT ones as
  false positives too (the guide lists them as not mentions).
  Predictions overlapping an item's ``ignore`` spans (publisher boilerplate) count
  neither way.
- **Linking**: over gold mentions whose entity is in the gazetteer, how often the
  predicted mention at that place carries the right id. Two ways to say "in the
  gazetteer": ``by_id`` (the gold id is a gazetteer id) and ``by_name`` (also when
  the gold ``name`` equals a gazetteer entry's name or alias, for ids spelled
  differently; that entry's id is then the expected one). Each over the gold
  mentions with an exactly matching prediction (``exact``), with any overlapping
  prediction (``overlap``), and over all of them, a missed mention counting as wrong
  (``end_to_end``). For gold entities not in the gazetteer, ``unlinked_ok`` is the
  share of matched mentions left unlinked (not linked to a wrong entry).
- **Title-Case headlines**: precision of the predictions inside the headline of
  items labelled ``title_case`` (and of the whole item).

Usage (from the repository root; develop on ``dev``, report ``test`` once):

    .venv/bin/python eval/entities_eval.py [--split dev|dev2|dev+dev2|test|all] [--json] [--errors]

``--errors`` prints every false positive and false negative WITH its text: it is for
reading on the terminal only, never for committing (the texts are the publishers').
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "eval"))
sys.path.insert(0, str(REPO))

from sample_entities import is_title_case, item_key, item_text, load, span_of  # noqa: E402

LABELS = REPO / "eval" / "labels" / "entities.jsonl"
#: Classes the labels use; predictions of any other class are not scored.
EVALUATED = frozenset({"PERSON", "ORG", "ASSET", "PRODUCT"})
#: spaCy labels that map onto the evaluated classes (everything else is not scored).
SPACY_CLASS = {"PERSON": "PERSON", "ORG": "ORG", "PRODUCT": "PRODUCT"}


def default_data() -> Path:
    """``../shared/data`` beside the checkout (or beside the folder of a git worktree)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return REPO.parent / "shared" / "data"


@dataclass
class Span:
    """A labelled or predicted mention with character offsets."""

    start: int
    end: int
    cls: str | None
    entity_id: str | None = None
    name: str = ""
    text: str = ""
    in_title: bool = False


@dataclass
class Item:
    """One labelled item with its rebuilt text."""

    source: str
    key: str
    split: str
    title_case: bool
    text: str
    title_end: int
    gold: list[Span]
    ignore: list[tuple[int, int]]


@dataclass
class PRF:
    """True positives counted from both sides (one-to-one), so P and R use their own."""

    tp_pred: int = 0
    tp_gold: int = 0
    pred: int = 0
    gold: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """Precision, recall, F1 and the counts behind them."""
        p = self.tp_pred / self.pred if self.pred else 0.0
        r = self.tp_gold / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "tp": self.tp_gold, "pred": self.pred, "gold": self.gold}


@dataclass
class Ratio:
    """A share with its counts."""

    hit: int = 0
    n: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """The share (0 when there is nothing to count) and its counts."""
        return {"accuracy": round(self.hit / self.n, 4) if self.n else 0.0, "correct": self.hit,
                "n": self.n}


@dataclass
class Scores:
    """Every figure for one group of items."""

    items: int = 0
    exact: PRF = field(default_factory=PRF)
    partial: PRF = field(default_factory=PRF)
    typed: PRF = field(default_factory=PRF)
    strict: PRF = field(default_factory=PRF)
    headline: PRF = field(default_factory=PRF)
    title_case_headline: PRF = field(default_factory=PRF)
    title_case_item: PRF = field(default_factory=PRF)
    linking: dict[str, Ratio] = field(default_factory=lambda: defaultdict(Ratio))

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the scores."""
        return {
            "items": self.items,
            "exact": self.exact.as_dict(),
            "partial": self.partial.as_dict(),
            "typed": self.typed.as_dict(),
            "strict_exact": self.strict.as_dict(),
            "headline_exact": self.headline.as_dict(),
            "title_case_headline_exact": self.title_case_headline.as_dict(),
            "title_case_item_exact": self.title_case_item.as_dict(),
            "linking": {k: v.as_dict() for k, v in sorted(self.linking.items())},
        }


def load_items(labels: Path, data: Path, split: str) -> list[Item]:
    """Labelled items of a split with their texts rebuilt from the shared data."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    wanted = {"dev+dev2": {"dev", "dev2"}}.get(split, {split})
    rows = [r for r in rows if split == "all" or r["split"] in wanted]
    texts: dict[tuple[str, str], tuple[str, str]] = {}
    for source in sorted({r["source"] for r in rows}):
        for _, row in load(data, [source]):
            key = item_key(row)
            if key:
                texts[(source, key)] = (row.get("title") or "", row.get("summary") or "")
    items = []
    for r in rows:
        title, summary = texts[(r["source"], r["key"])]
        text = item_text(title, summary)
        assert is_title_case(title) == r["title_case"], r["key"]
        title_end = text.find("\n\n") if "\n\n" in text else len(text)
        gold = []
        for m in r["mentions"]:
            span = span_of(text, m["text"], m["occurrence"])
            assert span is not None, (r["key"], m["text"])
            gold.append(Span(span[0], span[1], m["type"], m["id"], m["name"], m["text"],
                             span[0] < title_end))
        ignore = []
        for m in r.get("ignore", []):
            span = span_of(text, m["text"], m["occurrence"])
            assert span is not None, (r["key"], m["text"])
            ignore.append(span)
        items.append(Item(r["source"], r["key"], r["split"], r["title_case"], text, title_end,
                          gold, ignore))
    return items


def group_of(source: str) -> str:
    """Reporting group of a source file (the sampling strata, crypto and AI pooled)."""
    folder, _, name = source.partition("/")
    if folder in ("cryptopanic-2025", "aivibe-ai-tech-2025", "newsagg-2026"):
        return folder
    return f"{folder}/{name.removesuffix('.items.jsonl')}"


def predict(items: list[Item], no_recase: bool = False) -> tuple[list[list[Span]], Any, float]:
    """Tag every item with the tracker's entities stage; (predictions, gazetteer, seconds).

    ``no_recase`` switches Title-Case headline re-casing off (everything else as shipped),
    to measure what it changes."""
    from tracker.base.settings import load_settings
    from tracker.enrich.entity_stage import EntityStage
    from tracker.enrich.gazetteer import type_class
    from tracker.enrich.textprep import prepare

    stage = EntityStage.from_settings(load_settings())
    gaz = stage.gazetteer
    if no_recase:
        tagger = stage.tagger
        tagger.prepare = lambda text: prepare(text[:tagger.nlp.max_length])
    start = time.process_time()
    results = stage.process([it.text for it in items])
    seconds = time.process_time() - start
    out = []
    for item, result in zip(items, results, strict=True):
        spans = []
        for m in result.mentions:
            entity = gaz.get(m.entity_id) if m.entity_id else None
            cls = type_class(entity.type) if entity else SPACY_CLASS.get(m.label)
            spans.append(Span(m.start, m.end, cls, m.entity_id, m.name, m.text,
                              m.start < item.title_end))
        out.append(spans)
    return out, gaz, seconds


def _overlaps(a: Span | tuple[int, int], b: Span) -> bool:
    s, e = (a.start, a.end) if isinstance(a, Span) else a
    return s < b.end and b.start < e


def match_partial(gold: list[Span], pred: list[Span]) -> dict[int, int]:
    """One-to-one gold -> prediction pairs by overlap, exact pairs first, then largest overlap."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if pi not in used and (p.start, p.end) == (g.start, g.end):
                pairs[gi] = pi
                used.add(pi)
                break
    candidates = sorted(
        ((min(g.end, p.end) - max(g.start, p.start), gi, pi)
         for gi, g in enumerate(gold) if gi not in pairs
         for pi, p in enumerate(pred) if pi not in used and _overlaps(g, p)),
        reverse=True,
    )
    for _, gi, pi in candidates:
        if gi not in pairs and pi not in used:
            pairs[gi] = pi
            used.add(pi)
    return pairs


def _count(prf: PRF, gold: list[Span], pred: list[Span], key: Any) -> None:
    gkeys = [key(g) for g in gold]
    pkeys = [key(p) for p in pred]
    prf.gold += len(gold)
    prf.pred += len(pred)
    prf.tp_gold += sum(1 for k in gkeys if k in set(pkeys))
    prf.tp_pred += sum(1 for k in pkeys if k in set(gkeys))


def _expected_id(g: Span, gaz: Any, names: dict[str, str], by: str) -> str | None:
    if g.entity_id in gaz.by_id:
        return g.entity_id
    if by == "by_name":
        from tracker.enrich.gazetteer import alias_key

        return names.get(alias_key(g.name))
    return None


def score(items: list[Item], preds: list[list[Span]], gaz: Any,
          errors: list[str] | None = None) -> dict[str, Scores]:
    """Scores overall (``all``) and per source group."""
    from tracker.enrich.gazetteer import alias_key

    names: dict[str, str] = {}
    for e in gaz.entities:
        for form in (e.name, *e.aliases, *e.ambiguous_aliases):
            names.setdefault(alias_key(form), e.id)
    groups: dict[str, Scores] = defaultdict(Scores)
    for item, all_pred in zip(items, preds, strict=True):
        kept = [p for p in all_pred if not any(_overlaps(ig, p) for ig in item.ignore)]
        pred = [p for p in kept if p.cls in EVALUATED]
        strict_pred = [p for p in kept if p.cls in EVALUATED or p.cls == "CONCEPT"]
        gold = item.gold
        for s in (groups["all"], groups[group_of(item.source)]):
            s.items += 1
            _count(s.exact, gold, pred, lambda x: (x.start, x.end))
            _count(s.typed, gold, pred, lambda x: (x.start, x.end, x.cls))
            _count(s.strict, gold, strict_pred, lambda x: (x.start, x.end))
            _count(s.headline, [g for g in gold if g.in_title], [p for p in pred if p.in_title],
                   lambda x: (x.start, x.end))
            if item.title_case:
                _count(s.title_case_headline, [g for g in gold if g.in_title],
                       [p for p in pred if p.in_title], lambda x: (x.start, x.end))
                _count(s.title_case_item, gold, pred, lambda x: (x.start, x.end))
            pairs = match_partial(gold, pred)
            s.partial.gold += len(gold)
            s.partial.pred += len(pred)
            s.partial.tp_gold += len(pairs)
            s.partial.tp_pred += len(pairs)
            exact = {gi: pi for gi, pi in pairs.items()
                     if (pred[pi].start, pred[pi].end) == (gold[gi].start, gold[gi].end)}
            for gi, g in enumerate(gold):
                for by in ("by_id", "by_name"):
                    want = _expected_id(g, gaz, names, by)
                    if want is None:
                        if by == "by_id" and gi in pairs:
                            s.linking["not_in_gazetteer_unlinked_ok"].n += 1
                            s.linking["not_in_gazetteer_unlinked_ok"].hit += pred[pairs[gi]].entity_id is None
                        continue
                    for mode, table in (("exact", exact), ("overlap", pairs)):
                        if gi in table:
                            r = s.linking[f"{by}_{mode}"]
                            r.n += 1
                            r.hit += pred[table[gi]].entity_id == want
                    r = s.linking[f"{by}_end_to_end"]
                    r.n += 1
                    r.hit += gi in pairs and pred[pairs[gi]].entity_id == want
        if errors is not None:
            _errors(item, gold, pred, gaz, names, errors)
    return groups


def _errors(item: Item, gold: list[Span], pred: list[Span], gaz: Any, names: dict[str, str],
            out: list[str]) -> None:
    gk = {(g.start, g.end) for g in gold}
    pk = {(p.start, p.end): p for p in pred}
    lines = []
    for p in pred:
        if (p.start, p.end) not in gk:
            lines.append(f"  FP {p.text!r} [{p.cls} {p.entity_id}]{' (title)' if p.in_title else ''}")
    for g in gold:
        hit = pk.get((g.start, g.end))
        if hit is None:
            near = [p.text for p in pred if _overlaps(g, p)]
            lines.append(f"  FN {g.text!r} [{g.cls} {g.entity_id}]" + (f" ~ {near}" if near else ""))
        else:
            want = _expected_id(g, gaz, names, "by_name")
            if hit.entity_id != want and (want or hit.entity_id):
                lines.append(f"  LINK {g.text!r} want {want} got {hit.entity_id}")
    if lines:
        tc = " TITLE-CASE" if item.title_case else ""
        out.append(f"[{group_of(item.source)}]{tc} {item.key}\n  | {item.text!r}\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print (or dump as JSON) the scores of one split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "dev2", "dev+dev2", "test", "all"), default="dev")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--no-recase", action="store_true",
                        help="switch Title-Case headline re-casing off (ablation)")
    parser.add_argument("--errors", action="store_true",
                        help="print every error with its text (terminal only, never commit)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"shared data not found at {args.data}; pass --data PATH.", file=sys.stderr)
        return 2
    items = load_items(args.labels, args.data, args.split)
    preds, gaz, seconds = predict(items, args.no_recase)
    errors: list[str] | None = [] if args.errors else None
    groups = score(items, preds, gaz, errors)
    result = {"split": args.split, "gazetteer_entities": len(gaz), "gazetteer_digest": gaz.digest,
              "tag_cpu_seconds": round(seconds, 2),
              "groups": {k: v.as_dict() for k, v in sorted(groups.items())}}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if errors:
        print("\n".join(errors))
        print()
    print(f"split {args.split}: {len(items)} items, gazetteer {len(gaz)} entities ({gaz.digest}), "
          f"tagging {seconds:.1f} cpu-s")
    print(f"{'group':<40}{'items':>6}{'gold':>6}{'P':>7}{'R':>7}{'F1':>7}{'pF1':>7}"
          f"{'typF1':>7}{'link':>7}{'TC-P':>7}")
    for name, s in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        e, link = s.exact.as_dict(), s.linking["by_name_overlap"].as_dict()
        tc = s.title_case_headline.as_dict()
        print(f"{name:<40}{s.items:>6}{e['gold']:>6}{e['precision']:>7.3f}{e['recall']:>7.3f}"
              f"{e['f1']:>7.3f}{s.partial.as_dict()['f1']:>7.3f}{s.typed.as_dict()['f1']:>7.3f}"
              f"{link['accuracy']:>7.3f}{tc['precision'] if tc['pred'] else float('nan'):>7.3f}")
    total = groups["all"]
    print("\nall, detail:")
    for key in ("exact", "partial", "typed", "strict_exact", "headline_exact",
                "title_case_headline_exact", "title_case_item_exact"):
        print(f"  {key:<28} {total.as_dict()[key]}")
    for key, value in sorted(total.linking.items()):
        print(f"  linking {key:<32} {value.as_dict()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
