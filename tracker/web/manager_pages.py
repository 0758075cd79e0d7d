"""Manager pages: alerts to acknowledge, compliance, engagement, ratings, the caseload."""

from __future__ import annotations

from fastapi import APIRouter

from tracker.bootstrap import App


def router(app: App) -> APIRouter:
    return APIRouter(include_in_schema=False)
