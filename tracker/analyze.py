"""Analyse one text with every enrichment stage, without a database (``tracker analyze``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracker.base.errors import TrackerError
from tracker.base.settings import Settings
from tracker.enrich.runner import Stage
from tracker.enrich.stages import default_stages

#: Longest text analysed (spaCy's own ``max_length``); a longer input is cut, with a warning.
MAX_ANALYZE_CHARS = 1_000_000
#: Bytes read at most: enough for MAX_ANALYZE_CHARS characters of UTF-8 (the rest is only counted).
MAX_READ_BYTES = 4 * MAX_ANALYZE_CHARS + 4


def decode_input(raw: bytes, name: str, *, cut: bool = False) -> str:
    """The text of an input for ``tracker analyze``, or a TrackerError with the cause and fix.

    Refuses binary files (NUL bytes), text that is not UTF-8, and empty input. ``cut``
    says ``raw`` was cut off, so a character split at its very end is dropped.
    """
    if b"\x00" in raw[:65536]:
        raise TrackerError(f"{name} looks like a binary file (it contains NUL bytes), not text. Fix: give a "
                           "UTF-8 text file (save a PDF or Word document as plain text first)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if cut and exc.reason == "unexpected end of data" and exc.start >= len(raw) - 3:
            text = raw[: exc.start].decode("utf-8-sig")
        else:
            raise TrackerError(
                f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start:,} does not decode). "
                f"Fix: convert it first, e.g. `iconv -f latin1 -t utf-8 {name} > text.txt`") from None
    if not text.strip():
        raise TrackerError(f"{name} is empty: there is no text to analyse. Fix: give a file with text, or pipe "
                           "some in: echo 'Goldman Sachs sees ...' | tracker analyze -")
    return text


def limit_text(text: str, total: int | None = None, unit: str = "characters") -> tuple[str, str | None]:
    """Cut ``text`` to MAX_ANALYZE_CHARS; the warning says how much of the input is analysed.

    ``total`` is the input's whole size in ``unit`` when only part of it was read.
    """
    size = len(text) if total is None else total
    if len(text) <= MAX_ANALYZE_CHARS and total is None:
        return text, None
    share = MAX_ANALYZE_CHARS / size if unit == "characters" else min(1.0, MAX_ANALYZE_CHARS / size)
    return text[:MAX_ANALYZE_CHARS], (
        f"the input has {size:,} {unit}; only the first {MAX_ANALYZE_CHARS:,} characters "
        f"({'about ' if unit != 'characters' else ''}{share:.1%}) are analysed")


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
