"""Who an e-mail goes to: owner or team id to address, from a TOML file or a template."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tracker.kernel.config import Settings
from tracker.kernel.errors import ConfigurationError


@dataclass(frozen=True)
class Recipients:
    """Owner or team id → e-mail address: a TOML file first, then the template.

    An alert owned by a team (owner ``team:<id>``, e.g. no case manager) goes to the team's
    address: ``[teams]`` in the file, or a template that uses ``{team}``.
    """

    template: str | None
    owners: Mapping[str, str]
    teams: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Recipients:
        owners: dict[str, str] = {}
        teams: dict[str, str] = {}
        path = settings.alert_recipients_file
        if path is not None:
            owners, teams = _read_recipients(path)
        if settings.alert_email_to:
            try:
                settings.alert_email_to.format(owner="x", team="x")
            except (KeyError, IndexError, ValueError):
                raise ConfigurationError(
                    "TRACKER_ALERT_EMAIL_TO: only {owner} and {team} may be used"
                ) from None
        if not settings.alert_email_to and not owners and not teams:
            raise ConfigurationError(
                "e-mail delivery needs TRACKER_ALERT_EMAIL_TO (e.g. '{owner}@yjs.example.gov.uk') "
                "or TRACKER_ALERT_RECIPIENTS_FILE"
            )
        return cls(settings.alert_email_to, owners, teams)

    def address(self, owner: str | None, team: str | None) -> str | None:
        if owner and owner.startswith("team:"):  # owned by the team, not a person
            team = owner.removeprefix("team:")
            owner = None
        if owner and owner in self.owners:
            return self.owners[owner]
        if team and team in self.teams:
            return self.teams[team]
        if self.template and (owner or "{owner}" not in self.template):
            return self.template.format(owner=owner or "", team=team or "")
        return None


def _read_recipients(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    out: list[dict[str, str]] = []
    for section in ("owners", "teams"):
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "@" in v for k, v in table.items()
        ):
            raise ConfigurationError(f"{path}: [{section}] must map ids to e-mail addresses")
        out.append(dict(table))
    return out[0], out[1]
