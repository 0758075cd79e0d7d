"""A case's whole stored history as a downloadable file, for the API and the pages alike."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import Response

from projections.history import case_history
from tracker.services.app import App


def export_rows(app: App, case_id: str) -> dict[str, Any]:
    """The export document: the case's whole stored history with marks."""
    history = case_history(app, case_id)
    return {
        "case_id": case_id,
        "exported_at": app.clock.now().isoformat(),
        "events": history["events"],
    }


CSV_COLUMNS = (
    "version", "event_id", "type", "occurred_at", "recorded_at", "recorded_by", "recorded_role",
    "marks", "data",
)


def export_response(app: App, case_id: str, fmt: str) -> Response:
    """The export as a downloadable JSON or CSV file."""
    doc = export_rows(app, case_id)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for ev in doc["events"]:
            writer.writerow([
                _cell(ev["version"]), _cell(ev["event_id"]), _cell(ev["type"]),
                _cell(ev["occurred_at"]), _cell(ev["recorded_at"]), _cell(ev["recorded_by"]),
                _cell(ev["recorded_role"]), _cell("; ".join(ev["marks"])),
                _cell(json.dumps(ev["data"], ensure_ascii=False, sort_keys=True)),
            ])
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{case_id}.csv"'},
        )
    return Response(
        json.dumps(doc, ensure_ascii=False, indent=2), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{case_id}.json"'},
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
