"""Analyse one text with every enrichment stage, without a database (``tracker analyze``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracker.base.settings import Settings
from tracker.enrich.runner import Stage
from tracker.enrich.stages import default_stages


def analyze_text(
    text: str, settings: Settings, *, stages: Sequence[Stage] | None = None
) -> dict[str, Any]:
    """One text -> ``{"entities": [...], "claims": [...], ...}``, one key group per stage.

    Each stage contributes its own keys through ``Stage.describe`` (the entities
    stage gives ``entities`` and ``claims``; a narratives stage adds
    ``narratives``); ``versions`` records which stage versions produced them.
    """
    result: dict[str, Any] = {}
    versions: dict[str, str] = {}
    for stage in default_stages(settings) if stages is None else stages:
        result.update(stage.describe(stage.process([text])[0]))
        versions[stage.name] = stage.version
    result["versions"] = versions
    return result


def _number(x: float | None) -> str:
    if x is None:
        return "?"
    for scale, word in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million")):
        if abs(x) >= scale:
            return f"{x / scale:g}{word}"
    return f"{x:g}"


def _figure(claim: dict[str, Any]) -> str:
    if claim["value"] is not None and claim["low"] == claim["high"]:
        amount = _number(claim["value"])
    elif claim["value"] is not None:
        side = ">=" if claim["low"] is not None else "<="
        amount = f"{side} {_number(claim['value'])}"
    else:
        amount = f"{_number(claim['low'])} to {_number(claim['high'])}"
    return f"{amount} {claim['unit']}"


def format_analysis(result: dict[str, Any]) -> str:
    """Human-readable rendering of :func:`analyze_text` output."""
    lines: list[str] = []
    entities = result.get("entities", [])
    lines.append(f"Entities ({len(entities)}):")
    for e in entities:
        link = e["id"] or "(unlinked)"
        shown = f'"{e["text"]}"' + (f" = {e['name']}" if e["id"] else "")
        lines.append(f"  {shown:<40} {e['type']:<16} {link}  [{e['start']}:{e['end']}]")
    claims = result.get("claims", [])
    lines.append(f"Claims ({len(claims)}):")
    for c in claims:
        about = c["entity"] or (f'"{c["subject"]}"' if c["subject"] else "(no entity)")
        lines.append(f"  {c['text']!r:<28} {c['kind']:<8} {_figure(c):<28} -> {about}")
    narratives = result.get("narratives", [])
    if narratives:
        lines.append(f"Narratives ({sum(n['is_member'] for n in narratives)} of {len(narratives)}):")
        for n in narratives:
            lines.append(f"  {n['id']:<24} {n['score']:.3f} {'yes' if n['is_member'] else 'no'}")
            if n["is_member"]:
                for e in n["evidence"]:
                    lines.append(f"      {e['score']:.2f}  {e['sentence'][:100]}")
    for key, value in result.items():
        if key in {"entities", "claims", "versions", "narratives"}:
            continue
        lines.append(f"{key.capitalize()}:")
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"  {json.dumps(item, ensure_ascii=False)}")
    versions = result.get("versions", {})
    if versions:
        lines.append("Versions: " + ", ".join(versions.values()))
    return "\n".join(lines)
