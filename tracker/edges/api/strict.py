"""Strict JSON for request bodies: no lone surrogates, no NaN or Infinity.

The standard parser accepts ``"\\ud800"`` (a string no database or cipher can encode) and
``NaN`` (not JSON at all). Both are refused here as invalid JSON, a 422 naming the body,
before any field is looked at.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(value: Any, doc: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise json.JSONDecodeError("a string holds a lone surrogate", doc, 0) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def strict_loads(body: bytes) -> Any:
    """Parse a JSON body, refusing what cannot be stored faithfully."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(exc), "", 0) from None
    _check(value, text)
    return value


class StrictJSONRequest(Request):
    """A request whose ``json()`` is ``strict_loads``."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route that parses its body with ``StrictJSONRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
