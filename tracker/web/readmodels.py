"""The read models (``projections.queries``), if they are installed in this build."""

from __future__ import annotations

import importlib
from types import ModuleType


def queries() -> ModuleType | None:
    """``projections.queries``, or None while it is not there (pages then show less)."""
    try:
        return importlib.import_module("projections.queries")
    except ImportError:
        return None
