"""Server-rendered pages for practitioners, managers, auditors and admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tracker.bootstrap import App


def install(api: FastAPI, app: App) -> None:
    """Mount the static files and the page routes on ``api``."""
    from tracker.web.pages import install as install_pages

    install_pages(api, app)
