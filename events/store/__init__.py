"""The append-only event store on SQLAlchemy Core: SQLite (embedded) or PostgreSQL.

Global order is gap-safe: every append takes one writer lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``) *before* it reads the log
head, and keeps it until commit. Positions are therefore handed out, and become visible,
strictly in order: a reader following ``position > checkpoint`` can never see position
n+1 while n is still in flight, and a rolled-back append leaves no hole at all.
PostgreSQL makes a transaction visible before it releases its locks, so the next writer
always reads the committed head. The cost is that appends are serialised, which a
youth justice service's write rate (tens per second at peak) never notices.

Appends take one of two paths, with the same guarantees (``docs/benchmarks.md`` has the
figures). The general path: lock, read both heads, chain, insert, commit. On PostgreSQL,
a command appending to a case at a head this process has just read or written goes in a
single round trip instead: the chain is computed first, and the lock and one prepared
``INSERT ... SELECT`` that re-checks the head under the lock travel as one message. The
hot statements go to the driver connection directly; SQLAlchemy still begins and ends
every transaction (its events see them) and reads the rest.

Modules: ``event_store`` (the API), ``writer`` (the append paths), ``codec`` (rows to
events and back), ``base`` (what the back ends share, including the translation of their
errors into ours), ``postgres`` and ``sqlite`` (one per back end), ``backends`` (which one).
"""

from events.store.event_store import AppendListener, EventStore

__all__ = ["AppendListener", "EventStore"]
