"""Placeholder: pages arrive in the next commit."""

from __future__ import annotations

from fastapi import FastAPI

from tracker.bootstrap import App


def install(api: FastAPI, app: App) -> None:
    return None
