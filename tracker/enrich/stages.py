"""The stages ``tracker enrich`` runs, in order (entities and claims, then narratives)."""

from __future__ import annotations

from tracker.base.settings import Settings
from tracker.enrich.entity_stage import EntityStage
from tracker.enrich.narrative_stage import NarrativeStage
from tracker.enrich.runner import Stage


def default_stages(settings: Settings) -> list[Stage]:
    """The default stages for ``settings``; models load lazily on first use."""
    return [EntityStage.from_settings(settings), NarrativeStage.from_settings(settings)]
