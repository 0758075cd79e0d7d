"""The HTTP edge: a FastAPI application serving the JSON API and the web pages.

``create_app(app)`` builds it for an ``App`` from ``tracker.bootstrap``; nothing happens at
import time. ``tracker serve`` runs it under uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tracker.services.app import App


def create_app(app: App, *, web: bool = True) -> FastAPI:
    """The FastAPI application for ``app``: API under ``/api``, pages elsewhere."""
    from tracker.edges.api.factory import build

    return build(app, web=web)
