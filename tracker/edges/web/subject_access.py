"""The subject-access export as a readable document, and the admins' page that serves it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from projections.subject_access import SubjectAccessExport, subject_access
from tracker.edges.api.deps import AppDep
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web.common import make_templates
from tracker.edges.web.deps import PageUser

router = APIRouter(include_in_schema=False)


def render_html(doc: SubjectAccessExport) -> str:
    """The export as one standalone HTML document (the pages' filters and style)."""
    return make_templates().env.get_template("subject_access.html").render(doc=doc)


@router.get("/admin/children/{child_id}/export")
def export_page(
    child_id: Annotated[str, Path(pattern=CASE_ID_PATTERN)], app: AppDep, principal: PageUser,
    format: Annotated[str, Query(pattern="^(html|json)$")] = "html",
) -> Response:
    """Everything held about a child, across their cases (admins; logged per case)."""
    doc = subject_access(app, child_id, actor=principal.user.actor)
    headers = {"Content-Disposition": f'attachment; filename="subject-access-{child_id}.{format}"',
               "Cache-Control": "no-store"}
    if format == "json":
        return JSONResponse(doc, headers=headers)
    return HTMLResponse(render_html(doc), headers=headers)
