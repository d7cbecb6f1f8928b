"""Hand-built occurrences of the plan's read model (``tracker.model.OccurrenceView``), for tests of the pure
layers above it: the planner, the calendar renderer, the dashboard's views."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from tracker.model import OccurrenceView, Status

SENF_QUOTE = "Regionerne etablerer senfølgeklinikker senest i første halvår af 2026."

BASE = OccurrenceView(
    deliverable_id="senfoelgeklinikker", year=None, title="Senfølgeklinikker etableret",
    title_en="Late-effects clinics established", kind="product", owner="regionerne", co_owners=(), recipient=None,
    theme="anbefaling-7", deadline_text="senest i første halvår af 2026", window_start=date(2026, 1, 1),
    due=date(2026, 6, 30), baseline_due=date(2026, 6, 30), precision="half", status=Status.NOT_STARTED,
    overdue=False, withdrawn=False, note=None, updated_at=None, source_file="001_ef795b8afb91781f.txt",
    source_section="Senfølgeklinikker", source_quote=SENF_QUOTE, owner_name="Regionerne",
    owner_name_en="The regions",
)


def occurrence(**overrides: Any) -> OccurrenceView:
    """The senfølgeklinikker occurrence, with ``overrides``; the baseline follows ``due`` unless given."""
    if "due" in overrides and "baseline_due" not in overrides:
        overrides["baseline_due"] = overrides["due"]
    return replace(BASE, **overrides)
