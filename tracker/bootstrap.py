"""The one place that builds engines, stores, keyrings and brokers from settings.

Nothing is built at import time anywhere else: the CLI, the API, the workers and the tests
call ``bootstrap`` and pass what it returns down.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from events.sealing import SqlKeyring
from events.store import EventStore
from tracker.db.engine import make_engine
from tracker.kernel import logging as tlog
from tracker.kernel.clock import Clock, SystemClock
from tracker.kernel.config import Settings
from tracker.kernel.errors import ConfigurationError
from tracker.services.app import App
from workers.runtime import attach

__all__ = ["App", "bootstrap", "load_master_key"]


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    configure_logging: bool = True,
    workers: bool = True,
) -> App:
    """Build the application from settings (environment by default).

    ``workers`` attaches the broker and the after-append projection hint (Redis when
    ``TRACKER_REDIS_URL`` is set, else in memory); building it connects to nothing.
    """
    settings = settings or Settings()
    if configure_logging:
        tlog.configure(settings.log_level, settings.log_json)
    engine = make_engine(settings.database_url)
    keyring = SqlKeyring(engine, load_master_key(settings))
    clock = clock or SystemClock()
    store = EventStore(engine, keyring, clock)
    app = App(settings=settings, engine=engine, store=store, keyring=keyring, clock=clock)
    if workers:
        attach(app)
    return app


def load_master_key(settings: Settings) -> bytes:
    """The master key from the environment or its file; created beside an SQLite database."""
    if settings.master_key:
        return _decode_key(settings.master_key, "TRACKER_MASTER_KEY")
    path = settings.master_key_file or _default_key_path(settings)
    if path is None:
        raise ConfigurationError(
            "TRACKER_MASTER_KEY (or TRACKER_MASTER_KEY_FILE) must be set for this database"
        )
    if path.exists():
        return _decode_key(path.read_text().strip(), str(path))
    if settings.environment == "production":
        raise ConfigurationError(f"master key file {path} does not exist")
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return _decode_key(key, str(path))


def _default_key_path(settings: Settings) -> Path | None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db = Path(url.database)
    return db.with_name(db.name + ".key")


def _decode_key(value: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.encode())
    except (ValueError, TypeError):
        raise ConfigurationError(f"{where}: not valid base64") from None
    if len(key) != 32:
        raise ConfigurationError(f"{where}: must decode to 32 bytes, got {len(key)}")
    return key
