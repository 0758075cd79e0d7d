"""Management information pages: the KPIs, disproportionality, the board pack (HTML and PDF).

The board pack is one template body (``_board_pack.html``) shown inside the site and as a
standalone document (``board_pack_document.html``) that ``tracker board-pack`` writes and
WeasyPrint turns into a PDF. WeasyPrint is an optional extra (``pip install
'tracker[pdf]'``): a maintained HTML/CSS-to-PDF library with no browser, using the system's
Pango and fonts (Debian: ``libpango-1.0-0``, ``fonts-dejavu-core``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from projections.disproportionality import GROUPS
from projections.kpis import Quarter
from projections.queries.board_pack import BoardPack
from tracker.edges.api.deps import Action, AppDep, GuardDep
from tracker.edges.api.mi import (
    board_pack_for,
    disproportionality_for,
    kpis_for,
    managers_only,
    this_quarter,
)
from tracker.edges.web import charts
from tracker.edges.web.common import make_templates, render
from tracker.edges.web.deps import PageUser
from tracker.edges.web.forms import friendly
from tracker.kernel.errors import ConfigurationError, InvalidInput
from tracker.services.accounts import IDENTIFIER_RE

router = APIRouter(include_in_schema=False)


def trend_charts(pack: BoardPack) -> dict[str, Markup]:
    """One small line chart per KPI: its percentage in each quarter of the trend."""
    labels = pack["trend"]["quarters"]
    return {k["key"]: charts.line_chart(
        labels, [charts.Series(f"KPI {k['number']}", pack["trend"]["series"][k["key"]])],
        title=f"KPI {k['number']}: {k['title']}", y_max=100.0, unit="%")
        for k in pack["kpis"]}


def board_pack_document(pack: BoardPack) -> str:
    """The standalone HTML document of the pack (for the file and the PDF)."""
    env = make_templates().env
    produced = datetime.now(UTC).strftime("%d %B %Y")
    return env.get_template("board_pack_document.html").render(
        pack=pack, charts=trend_charts(pack), produced=produced)


def board_pack_pdf(html: str) -> bytes:
    """The document as PDF, with WeasyPrint (the optional ``pdf`` extra)."""
    try:
        import weasyprint  # optional dependency: function-level import by design
    except ImportError as exc:
        raise ConfigurationError(
            "PDF needs WeasyPrint: pip install 'tracker[pdf]' (and Debian's libpango-1.0-0, "
            "fonts-dejavu-core)") from exc
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def _quarter(text: str, default: Quarter, errors: dict[str, str]) -> Quarter | None:
    if not text.strip():
        return default
    try:
        return Quarter.parse(text[:16])
    except InvalidInput as exc:
        errors["quarter"] = friendly(exc.problems[0].reason)
        return None


@router.get("/reports/kpis")
def kpis_page(request: Request, app: AppDep, guard: GuardDep, action: Action,
              principal: PageUser, quarter: str = "", team: str = "") -> Response:
    """The ten KPIs for a quarter, with links to the cases counted (managers, auditors)."""
    user = principal.user
    managers_only(user)
    errors: dict[str, str] = {}
    chosen = _quarter(quarter, this_quarter(app.clock.now().date()).previous(), errors)
    team = team.strip()[:64]
    if team and not IDENTIFIER_RE.match(team):
        errors["team"] = "is not a team id (e.g. TEAM-NORTH)"
    view: Any = None
    if chosen is not None and not errors:
        try:
            view = kpis_for(app, guard, user, chosen, team or None, action)
        except InvalidInput as exc:
            errors = {p.field: friendly(p.reason) for p in exc.problems}
    return render(request, "kpis.html", {
        "title": "KPIs", "view": view, "errors": errors, "team": team,
        "teams": sorted(user.teams), "quarter": str(chosen) if chosen else quarter[:16],
    }, status=422 if errors else 200)


@router.get("/reports/disproportionality")
def disproportionality_page(request: Request, app: AppDep, principal: PageUser,
                            year: str = "", comparison: str = "") -> Response:
    """Counts and relative rate indices by ethnic group at each stage (small numbers
    suppressed), for managers and auditors."""
    user = principal.user
    managers_only(user)
    errors: dict[str, str] = {}
    chosen_year = app.clock.now().year
    if year.strip():
        if year.strip().isdigit() and 2000 <= int(year.strip()) <= 2100:
            chosen_year = int(year.strip())
        else:
            errors["year"] = "Enter a year from 2000 to 2100"
    group = comparison.strip() or None
    if group is not None and group not in GROUPS:
        errors["comparison"] = "Choose one of the groups listed"
        group = None
    found, note = None, ""
    if not errors:
        found, note = disproportionality_for(app, user, chosen_year, group)
    return render(request, "disproportionality.html", {
        "title": "Disproportionality", "d": found, "note": note, "errors": errors,
        "year": str(chosen_year), "groups": GROUPS,
        "comparison": found["comparison_group"] if found else (group or ""),
    }, status=422 if errors else 200)


@router.get("/reports/board-pack")
def board_pack_page(request: Request, app: AppDep, principal: PageUser,
                    quarter: str = "") -> Response:
    """The management board's quarterly pack (figures only)."""
    user = principal.user
    managers_only(user)
    errors: dict[str, str] = {}
    chosen = _quarter(quarter, this_quarter(app.clock.now().date()).previous(), errors)
    pack = board_pack_for(app, user, chosen) if chosen is not None else None
    return render(request, "board_pack.html", {
        "title": "Board pack", "pack": pack, "charts": trend_charts(pack) if pack else {},
        "errors": errors, "quarter": str(chosen) if chosen else quarter[:16],
    }, status=422 if errors else 200)


@router.get("/reports/board-pack.pdf")
def board_pack_pdf_page(app: AppDep, principal: PageUser, quarter: str = "") -> Response:
    """The pack as a PDF download (needs the optional WeasyPrint)."""
    user = principal.user
    managers_only(user)
    chosen = Quarter.parse(quarter[:16]) if quarter.strip() else this_quarter(
        app.clock.now().date()).previous()
    pdf = board_pack_pdf(board_pack_document(board_pack_for(app, user, chosen)))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="board-pack-{chosen}.pdf"'})
