"""The inspection framework as data: standards, key questions and prompts (seed 001 Annexe A).

Each question set is a versioned TOML file beside this module
(``question_set_<version>.toml``); a revised framework is a new file, so an audit that
names the set it answered (``case_audited.question_set``) reads the same for ever. The
write side checks an audit against its set (an out-of-court case has no review standard);
the ratings take the standards each domain is rated on from it.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.kernel.errors import ConfigurationError

HERE = Path(__file__).parent
PREFIX = "question_set_"
DEFAULT_SET = "hmip-youth-2021"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Prompt(_Frozen):
    id: str = Field(pattern=r"^[a-z]$")
    text: str = Field(min_length=1)


class KeyQuestion(_Frozen):
    id: str
    lens: Literal["desistance", "safety_wellbeing", "risk_of_harm"] | None = None
    text: str = Field(min_length=1)
    prompts: tuple[Prompt, ...] = Field(min_length=1)


class Standard(_Frozen):
    id: str
    domain: Literal["court", "out_of_court"]
    name: str
    title: str
    statement: str
    casework: bool
    key_questions: tuple[KeyQuestion, ...] = Field(min_length=1)


class QuestionSet(_Frozen):
    """One version of the framework."""

    version: str
    source: str = Field(min_length=1)
    standards: tuple[Standard, ...]

    def standards_of(self, domain: str) -> tuple[Standard, ...]:
        return tuple(s for s in self.standards if s.domain == domain)

    def casework(self, domain: str) -> tuple[str, ...]:
        """The casework standards a case in ``domain`` is audited and rated on, by name."""
        return tuple(s.name for s in self.standards_of(domain) if s.casework)


def known_sets() -> list[str]:
    """The versions shipped, by file name."""
    return sorted(p.stem.removeprefix(PREFIX) for p in HERE.glob(f"{PREFIX}*.toml"))


@cache
def question_set(version: str = DEFAULT_SET) -> QuestionSet:
    """A question set by version; an unknown version is a configuration error naming those
    known."""
    if version not in known_sets():
        raise ConfigurationError(
            f"unknown question set '{version}'; known: {', '.join(known_sets())}")
    path = HERE / f"{PREFIX}{version}.toml"
    with path.open("rb") as handle:
        loaded = QuestionSet.model_validate(tomllib.load(handle))
    if loaded.version != version:
        raise ConfigurationError(f"{path}: says version '{loaded.version}'")
    return loaded
