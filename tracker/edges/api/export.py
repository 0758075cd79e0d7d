"""A case's history as a downloadable file, for the API and the pages alike: the whole
stored history, or exactly the replayed view (as at a day, as known at a moment).

The CSV is flat for a spreadsheet: dates and times in UK local time in their own columns,
one column per event field (``data.<field>``). Both say whether they hold personal data in
clear (the unsealed notes and dates of birth), so the pages can warn before a download.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from fastapi import Response

from events.catalogue import event_class
from events.sealing import ERASED, PREFIX, plan
from projections.history import case_history
from tracker.kernel.clock import LONDON
from tracker.kernel.errors import UnknownEventType
from tracker.services.app import App


def export_rows(
    app: App, case_id: str, *, as_of: date | None = None, as_known_at: datetime | None = None
) -> dict[str, Any]:
    """The export document: the events in view (every one, unless a replay is asked for),
    with their marks, and whether any holds personal data in clear."""
    history = case_history(app, case_id, as_of=as_of, as_known_at=as_known_at)
    events = history["events"]
    return {
        "case_id": case_id,
        "exported_at": app.clock.now().isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "as_known_at": as_known_at.isoformat() if as_known_at else None,
        "contains_personal_data": any(personal_in_clear(e["type"], e["data"]) for e in events),
        "events": events,
    }


def personal_in_clear(event_type: str, data: dict[str, Any]) -> bool:
    """Whether an event's data shows a personal field's value unsealed."""
    try:
        slots = plan(event_class(event_type))
    except UnknownEventType:  # a type this build does not know cannot be judged: warn
        return True
    for slot in slots:
        value = data.get(slot.name)
        if slot.kind != "personal" or value in (None, "", [], ERASED):
            continue
        if not (isinstance(value, str) and value.startswith(PREFIX)):
            return True
    return False


FIXED = ("version", "event_id", "type", "occurred_date", "occurred_time", "recorded_date",
         "recorded_time", "recorded_by", "recorded_role", "marks")


def export_response(
    app: App, case_id: str, fmt: str, *, as_of: date | None = None,
    as_known_at: datetime | None = None,
) -> Response:
    """The export as a downloadable JSON or flat CSV file."""
    doc = export_rows(app, case_id, as_of=as_of, as_known_at=as_known_at)
    suffix = f"-as-at-{as_of}" if as_of else ""
    headers = {"X-Contains-Personal-Data": "yes" if doc["contains_personal_data"] else "no"}
    if fmt == "csv":
        fields: list[str] = []
        for ev in doc["events"]:
            fields.extend(k for k in ev["data"] if k not in fields)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*FIXED, *(f"data.{f}" for f in fields)])
        for ev in doc["events"]:
            occurred, recorded = _uk(ev["occurred_at"]), _uk(ev["recorded_at"])
            writer.writerow([_cell(v) for v in (
                ev["version"], ev["event_id"], ev["type"], *occurred, *recorded,
                ev["recorded_by"], ev["recorded_role"], "; ".join(ev["marks"]),
                *(_flat(ev["data"].get(f)) for f in fields),
            )])
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8",
            headers={**headers,
                     "Content-Disposition": f'attachment; filename="{case_id}{suffix}.csv"'},
        )
    return Response(
        json.dumps(doc, ensure_ascii=False, indent=2), media_type="application/json",
        headers={**headers,
                 "Content-Disposition": f'attachment; filename="{case_id}{suffix}.json"'},
    )


def _uk(moment: str | None) -> tuple[str, str]:
    """An ISO moment as UK local date and time columns (``2026-11-28``, ``10:30``)."""
    if not moment:
        return "", ""
    local = datetime.fromisoformat(moment).astimezone(LONDON)
    return local.date().isoformat(), local.strftime("%H:%M")


def _flat(value: object) -> str:
    """A field value in one cell: text as it is, lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
