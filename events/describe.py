"""Describe each event type's fields from its pydantic model, for people and tools.

Derived from the models in the catalogue every time, never kept by hand: a field added to
an event shows up in ``tracker events show`` the moment the model has it.
"""

from __future__ import annotations

import enum
import inspect
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

import annotated_types as at
from pydantic import AfterValidator, BaseModel, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from events.base import BASIC, EARLIEST_YEAR, LATEST_YEAR, PERSONAL, Event, Identifier

_ID_PATTERN = next(m.pattern for m in get_args(Identifier)[1:]
                   if isinstance(m, StringConstraints))
_PATTERN_WORDS = {_ID_PATTERN: "an id: 2 to 64 letters, digits, '_', '.' or '-', starting "
                                "with a letter or digit"}

_SIMPLE = {str: "text", int: "integer", float: "number", bool: "true/false", date: "date",
           datetime: "date-time", UUID: "uuid"}


@dataclass
class FieldDescription:
    """One field of an event (a nested field is named with dots: ``objectives[].text``)."""

    name: str
    type: str
    required: bool
    default: Any = None
    allowed: list[str] = field(default_factory=list)
    bounds: list[str] = field(default_factory=list)
    personal: bool = False
    basic: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``sealed`` says the value is encrypted with the child's key)."""
        return {"name": self.name, "type": self.type, "required": self.required,
                "default": self.default, "allowed": self.allowed, "bounds": self.bounds,
                "personal": self.personal, "sealed": self.personal,
                "tier": ("basic" if self.basic else "detail") if self.personal else None,
                "description": self.description}


@dataclass
class EventDescription:
    """An event type: its name, schema version, family, what it means and its fields."""

    type: str
    version: int
    family: str
    summary: str
    fields: list[FieldDescription]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "version": self.version, "family": self.family,
                "summary": self.summary, "fields": [f.to_dict() for f in self.fields]}


def describe_event(cls: type[Event]) -> EventDescription:
    """Describe one event class from its model fields."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    summary = " ".join(doc.split("\n\n", 1)[0].split())
    return EventDescription(type=cls.type, version=cls.version, family=cls.family,
                            summary=summary, fields=_model_fields(cls, prefix=""))


def _model_fields(model: type[BaseModel], prefix: str) -> list[FieldDescription]:
    out: list[FieldDescription] = []
    for name, info in model.model_fields.items():
        out.extend(_describe_field(prefix + name, info))
    return out


def _describe_field(name: str, info: FieldInfo) -> list[FieldDescription]:
    shape = _Shape()
    shape.walk(info.annotation)
    shape.read_metadata(info.metadata)
    default: Any = None
    if not info.is_required() and info.default is not PydanticUndefined:
        default = info.default.value if isinstance(info.default, enum.Enum) else info.default
        if not isinstance(default, str | int | float | bool | type(None)):
            default = str(default)
    elif info.default_factory is not None:
        default = []
    here = FieldDescription(
        name=name, type=shape.type_name(), required=info.is_required(), default=default,
        allowed=shape.allowed, bounds=shape.bounds, personal=shape.personal,
        basic=shape.basic, description=info.description or "",
    )
    nested = [here]
    if shape.model is not None:
        nested.extend(_model_fields(shape.model, prefix=name + ("[]." if shape.is_list else ".")))
    return nested


class _Shape:
    """What a walk of one annotation found: base type, list-ness, values, bounds, markers."""

    def __init__(self) -> None:
        self.base = ""
        self.is_list = False
        self.optional = False
        self.allowed: list[str] = []
        self.bounds: list[str] = []
        self.personal = False
        self.basic = False
        self.model: type[BaseModel] | None = None

    def type_name(self) -> str:
        base = self.base or "value"
        return f"list of {base}" if self.is_list else base

    def walk(self, tp: Any) -> None:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *meta = get_args(tp)
            self.walk(base)
            self.read_metadata(meta)
        elif origin is Union or origin is types.UnionType:
            for arg in get_args(tp):
                if arg is type(None):
                    self.optional = True
                else:
                    self.walk(arg)
        elif origin is Literal:
            self.base = self.base or "choice"
            self.allowed.extend(str(v) for v in get_args(tp))
        elif origin in (list, tuple, set, frozenset):
            self.is_list = True
            args = [a for a in get_args(tp) if a is not Ellipsis]
            if args:
                self.walk(args[0])
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            self.base = "choice"
            self.allowed.extend(str(m.value) for m in tp)
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            self.base = tp.__name__
            self.model = tp
        else:
            self.base = _SIMPLE.get(tp, getattr(tp, "__name__", str(tp)))

    def read_metadata(self, meta: list[Any]) -> None:
        for item in meta:
            if item == PERSONAL:
                self.personal = True
            elif item == BASIC:
                self.basic = True
            elif isinstance(item, StringConstraints):
                if item.min_length is not None:
                    self.bounds.append(f"at least {item.min_length} characters")
                if item.max_length is not None:
                    self.bounds.append(f"at most {item.max_length} characters")
                if item.pattern is not None:
                    pattern = str(item.pattern)
                    self.bounds.append(_PATTERN_WORDS.get(pattern, f"matches {pattern}"))
            elif isinstance(item, AfterValidator):
                if getattr(item.func, "__name__", "") in ("_check_date", "_check_moment"):
                    self.bounds.append(f"years {EARLIEST_YEAR} to {LATEST_YEAR}")
                if getattr(item.func, "__name__", "") == "_check_moment":
                    self.bounds.append("with a time zone")
            else:
                self._annotated_type(item)

    def _annotated_type(self, item: Any) -> None:
        items = "items" if self.is_list else "characters"
        if isinstance(item, at.Ge):
            self.bounds.append(f"at least {item.ge}")
        elif isinstance(item, at.Gt):
            self.bounds.append(f"more than {item.gt}")
        elif isinstance(item, at.Le):
            self.bounds.append(f"at most {item.le}")
        elif isinstance(item, at.Lt):
            self.bounds.append(f"less than {item.lt}")
        elif isinstance(item, at.MinLen):
            self.bounds.append(f"at least {item.min_length} {items}")
        elif isinstance(item, at.MaxLen):
            self.bounds.append(f"at most {item.max_length} {items}")
