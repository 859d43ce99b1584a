"""The followed tickets: one SQLite file (WAL) beside the outbox, `<data dir>/tracking.sqlite3`.

Its own file, not a table in the outbox: the outbox is the durable queue of the user's reports
and is rebuilt from bundles when corrupt; this is a cache of what trackers said (plus the SLA
facts derived from it) and can be rebuilt by looking again.

Each look is applied in one `BEGIN IMMEDIATE` transaction that re-reads the snapshot, diffs,
updates the facts and appends the changes to `changes` with `delivered = 0`. The tray app's
poller and a `reporter-app status` in a terminal may look at the same ticket: the second one
diffs against what the first wrote, so a change is recorded once; `take_undelivered()` hands
each recorded change out once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter_app.clock import parse_utc_iso, utc_iso
from reporter_app.trackers.base import TicketRef, TicketState, TicketStatus
from reporter_app.tracking.changes import (
    DONE_STATES,
    STATE_CHANGES,
    ChangeKind,
    Identity,
    Snapshot,
    TicketChange,
    diff,
    is_stale,
)

STORE_FILE = "tracking.sqlite3"
_EPOCH = "1970-01-01T00:00:00Z"  # "due now", whatever the clock says

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    backend TEXT NOT NULL,
    key TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    report_id TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    filed_at TEXT,
    followed_at TEXT NOT NULL,
    state TEXT,
    status_name TEXT NOT NULL DEFAULT '',
    assignee TEXT NOT NULL DEFAULT '',
    comment_ids TEXT NOT NULL DEFAULT '[]',
    fixed_in TEXT NOT NULL DEFAULT '',
    updated_at TEXT,
    seen_at TEXT,
    first_response_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    released_at TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    root_cause INTEGER,
    next_poll_at TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    missing_since TEXT,
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (backend, key)
);
CREATE INDEX IF NOT EXISTS tickets_due ON tickets(next_poll_at);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    backend TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    old TEXT NOT NULL DEFAULT '',
    new TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    report_id TEXT NOT NULL DEFAULT '',
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS changes_pending ON changes(delivered, id);
CREATE INDEX IF NOT EXISTS changes_ticket ON changes(backend, key, id);
"""


@dataclass(frozen=True)
class Validators:
    """What a conditional request sends back (If-None-Match / If-Modified-Since)."""

    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class TrackedTicket:
    backend: str
    key: str
    url: str
    title: str
    report_id: str  # "" when followed by key (support lookup)
    priority: str  # "P1".."P4", or "" when unknown (no SLA)
    filed_at: datetime | None  # None: the tracker did not say (support lookup)
    followed_at: datetime
    snapshot: Snapshot
    seen_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None  # last entry into resolved/closed; cleared by a reopen
    closed_at: datetime | None
    released_at: datetime | None  # first time a fixed-in version was seen
    reopen_count: int
    root_cause: bool | None  # P1/P2 review: a "Root cause" section filled in; None = not known
    next_poll_at: datetime
    failures: int
    last_error: str
    missing_since: datetime | None
    validators: Validators

    @property
    def ref(self) -> TicketRef:
        return TicketRef(backend=self.backend, key=self.key, url=self.url)

    @property
    def state(self) -> TicketState | None:
        return self.snapshot.state

    @property
    def is_done(self) -> bool:
        return self.snapshot.state in DONE_STATES


_COLUMNS = ("backend, key, url, title, report_id, priority, filed_at, followed_at, state, status_name, assignee, "
            "comment_ids, fixed_in, updated_at, seen_at, first_response_at, resolved_at, closed_at, released_at, "
            "reopen_count, root_cause, next_poll_at, failures, last_error, missing_since, etag, last_modified")
_CHANGE_COLUMNS = "id, backend, key, kind, at, old, new, author, text, title, url, report_id"


def _time(text: str | None) -> datetime | None:
    return parse_utc_iso(text) if text else None


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def _ticket(row: Sequence[Any]) -> TrackedTicket:
    (backend, key, url, title, report_id, priority, filed_at, followed_at, state, status_name, assignee,
     comment_ids, fixed_in, updated_at, seen_at, first_response_at, resolved_at, closed_at, released_at,
     reopen_count, root_cause, next_poll_at, failures, last_error, missing_since, etag, last_modified) = row
    snapshot = Snapshot(state=TicketState(state) if state else None, status_name=status_name, assignee=assignee,
                        comment_ids=frozenset(json.loads(comment_ids)), fixed_in=fixed_in,
                        updated_at=_time(updated_at))
    return TrackedTicket(
        backend=backend, key=key, url=url, title=title, report_id=report_id, priority=priority,
        filed_at=_time(filed_at), followed_at=parse_utc_iso(followed_at), snapshot=snapshot, seen_at=_time(seen_at),
        first_response_at=_time(first_response_at), resolved_at=_time(resolved_at), closed_at=_time(closed_at),
        released_at=_time(released_at), reopen_count=reopen_count,
        root_cause=None if root_cause is None else bool(root_cause), next_poll_at=parse_utc_iso(next_poll_at),
        failures=failures, last_error=last_error, missing_since=_time(missing_since),
        validators=Validators(etag, last_modified),
    )


def _change(row: Sequence[Any]) -> TicketChange:
    id_, backend, key, kind, at, old, new, author, text, title, url, report_id = row
    return TicketChange(backend=backend, key=key, kind=ChangeKind(kind), at=parse_utc_iso(at), old=old, new=new,
                        author=author, text=text, title=title, url=url, report_id=report_id, id=id_)


class TrackingStore:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the GUI thread (reads) and the poller's worker, serialised by a lock.
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        # A cache of what trackers said: surviving a crash of the app is enough (WAL + NORMAL);
        # after a power cut the worst case is a notice shown again.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> TrackingStore:
        return cls(data_dir / STORE_FILE)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:  # inside batch(): one commit for the lot
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1
            self._conn.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Apply many looks in one transaction: a round over 500 tickets is one commit, not 500."""
        with self._transaction():
            yield

    # -- following -----------------------------------------------------------------------------
    def follow(self, ref: TicketRef, *, now: datetime, title: str = "", report_id: str = "", priority: str = "",
               filed_at: datetime | None = None, baseline: TicketStatus | None = None,
               me: Identity = Identity()) -> bool:
        """Start following; False if already followed. `baseline`: the ticket as it is now (a support
        lookup), whose history is not news; without it the ticket is as freshly filed, so all it has
        by the first look is news to the reporter."""
        snapshot = Snapshot.of(baseline) if baseline else Snapshot()
        facts = _baseline_facts(baseline, me) if baseline else {}
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO tickets (backend, key, url, title, report_id, priority, filed_at, followed_at, "
                "state, status_name, assignee, comment_ids, fixed_in, updated_at, seen_at, first_response_at, "
                "resolved_at, closed_at, released_at, next_poll_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (ref.backend, ref.key, ref.url, title or (baseline.title if baseline else ""), report_id, priority,
                 _iso(filed_at), utc_iso(now), snapshot.state.value if snapshot.state else None,
                 snapshot.status_name, snapshot.assignee, json.dumps(sorted(snapshot.comment_ids)), snapshot.fixed_in,
                 _iso(snapshot.updated_at), utc_iso(now) if baseline else None,
                 *(_iso(facts.get(name)) for name in ("first_response_at", "resolved_at", "closed_at", "released_at")),
                 utc_iso(now)),
            )
            return cursor.rowcount == 1

    def unfollow(self, backend: str, key: str) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM tickets WHERE backend = ? AND key = ?", (backend, key)).rowcount == 1

    # -- reading -------------------------------------------------------------------------------
    def get(self, backend: str, key: str) -> TrackedTicket | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE backend = ? AND key = ?",
                                     (backend, key)).fetchone()
        return _ticket(row) if row else None

    def find(self, key: str) -> TrackedTicket | None:
        """By key alone (what support staff type); the oldest follow wins if two backends share a key."""
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE key = ? ORDER BY followed_at",
                                     (key,)).fetchone()
        return _ticket(row) if row else None

    def tickets(self) -> list[TrackedTicket]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM tickets ORDER BY followed_at, key").fetchall()
        return [_ticket(r) for r in rows]

    def due(self, now: datetime) -> list[TrackedTicket]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE next_poll_at <= ? ORDER BY next_poll_at",
                                      (utc_iso(now),)).fetchall()
        return [_ticket(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        """When the poller next has work: the UI's timer sleeps until then."""
        with self._lock:
            row = self._conn.execute("SELECT min(next_poll_at) FROM tickets").fetchone()
        return _time(row[0])

    def history(self, backend: str, key: str) -> list[TicketChange]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE backend = ? AND key = ? "
                                      "ORDER BY id", (backend, key)).fetchall()
        return [_change(r) for r in rows]

    # -- applying a look -----------------------------------------------------------------------
    def record(self, status: TicketStatus, *, me: Identity, now: datetime, next_poll_at: datetime,
               priority: str = "", root_cause: bool | None = None,
               validators: Validators | None = None) -> list[TicketChange]:
        """Apply one look at a followed ticket; returns the changes it recorded (not yet delivered)."""
        ref = status.ref
        with self._transaction() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE backend = ? AND key = ?",
                               (ref.backend, ref.key)).fetchone()
            if row is None:
                return []  # unfollowed meanwhile
            ticket = _ticket(row)
            if is_stale(ticket.snapshot, status):
                conn.execute("UPDATE tickets SET next_poll_at = ? WHERE backend = ? AND key = ?",
                             (utc_iso(next_poll_at), ref.backend, ref.key))
                return []
            changes = diff(ticket.snapshot, status, me, _observed_at(ticket, status, now))
            changes = [replace(c, report_id=ticket.report_id, url=c.url or ticket.url) for c in changes]
            facts = _facts_after(ticket, changes)
            snapshot = Snapshot.of(status, ticket.snapshot.comment_ids)
            kept = validators or ticket.validators
            conn.execute(
                "UPDATE tickets SET title = ?, priority = ?, state = ?, status_name = ?, assignee = ?, comment_ids = ?, "
                "fixed_in = ?, updated_at = ?, seen_at = ?, first_response_at = ?, resolved_at = ?, closed_at = ?, "
                "released_at = ?, reopen_count = ?, root_cause = ?, next_poll_at = ?, failures = 0, last_error = '', "
                "missing_since = NULL, etag = ?, last_modified = ? WHERE backend = ? AND key = ?",
                (status.title or ticket.title, priority or ticket.priority, status.state.value, status.status_name,
                 status.assignee, json.dumps(sorted(snapshot.comment_ids)), status.fixed_in,
                 _iso(status.updated_at), utc_iso(now), _iso(facts["first_response_at"]), _iso(facts["resolved_at"]),
                 _iso(facts["closed_at"]), _iso(facts["released_at"]), facts["reopen_count"],
                 None if root_cause is None else int(root_cause), utc_iso(next_poll_at), kept.etag,
                 kept.last_modified, ref.backend, ref.key),
            )
            recorded = []
            for c in changes:
                cursor = conn.execute(
                    "INSERT INTO changes (backend, key, kind, at, old, new, author, text, title, url, report_id) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (c.backend, c.key, c.kind.value, utc_iso(c.at), c.old, c.new, c.author, c.text, c.title, c.url,
                     c.report_id),
                )
                recorded.append(replace(c, id=int(cursor.lastrowid or 0)))
            return recorded

    def record_not_modified(self, backend: str, key: str, *, now: datetime, next_poll_at: datetime) -> None:
        self._set(backend, key, seen_at=utc_iso(now), next_poll_at=utc_iso(next_poll_at), failures=0, last_error="")

    def record_failure(self, backend: str, key: str, *, error: str, next_poll_at: datetime) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE tickets SET failures = failures + 1, last_error = ?, next_poll_at = ? "
                         "WHERE backend = ? AND key = ?", (error, utc_iso(next_poll_at), backend, key))

    def record_missing(self, backend: str, key: str, *, now: datetime, next_poll_at: datetime) -> None:
        """The tracker no longer knows the ticket (deleted, moved, no permission): keep it, look rarely."""
        with self._transaction() as conn:
            conn.execute("UPDATE tickets SET missing_since = coalesce(missing_since, ?), next_poll_at = ?, "
                         "last_error = ? WHERE backend = ? AND key = ?",
                         (utc_iso(now), utc_iso(next_poll_at), "the tracker no longer shows this ticket", backend,
                          key))

    def poll_now(self, backend: str | None = None, key: str | None = None) -> int:
        """Make tickets due (a "refresh" button, `reporter-app stats`)."""
        with self._transaction() as conn:
            return conn.execute("UPDATE tickets SET next_poll_at = ? WHERE (? IS NULL OR backend = ?) "
                                "AND (? IS NULL OR key = ?)", (_EPOCH, backend, backend, key, key)).rowcount

    def _set(self, backend: str, key: str, **values: object) -> None:
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._transaction() as conn:
            conn.execute(f"UPDATE tickets SET {assignments} WHERE backend = ? AND key = ?",
                         (*values.values(), backend, key))

    # -- delivering ----------------------------------------------------------------------------
    def take_undelivered(self) -> list[TicketChange]:
        """Every recorded change not yet handed out, marked delivered in the same transaction."""
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE delivered = 0 ORDER BY id").fetchall()
            if rows:
                conn.execute("UPDATE changes SET delivered = 1 WHERE delivered = 0 AND id <= ?", (rows[-1][0],))
        return [_change(r) for r in rows]


def _observed_at(ticket: TrackedTicket, status: TicketStatus, now: datetime) -> datetime:
    """When a state change seen now happened, as well as we can tell: the ticket's last update if
    that falls since our previous look, otherwise now. Keeps SLA figures from drifting by a poll interval."""
    lower = ticket.seen_at or ticket.filed_at or ticket.followed_at
    if status.updated_at and lower <= status.updated_at <= now:
        return status.updated_at
    return now


def _facts_after(ticket: TrackedTicket, changes: list[TicketChange]) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "first_response_at": ticket.first_response_at, "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at, "released_at": ticket.released_at, "reopen_count": ticket.reopen_count,
    }
    # A response is a comment by someone else (diff() already left the reporter's out) or a transition.
    responses = [c.at for c in changes if c.kind in STATE_CHANGES or c.kind == ChangeKind.COMMENT]
    if facts["first_response_at"] is None and responses:
        first = min(responses)
        facts["first_response_at"] = max(first, ticket.filed_at) if ticket.filed_at else first
    for c in changes:
        if c.kind == ChangeKind.REOPENED:
            facts["reopen_count"] += 1
            facts["resolved_at"] = facts["closed_at"] = None
        elif c.kind in (ChangeKind.RESOLVED, ChangeKind.CLOSED):
            facts["resolved_at"] = facts["resolved_at"] or c.at
            if c.kind == ChangeKind.CLOSED:
                facts["closed_at"] = facts["closed_at"] or c.at
        elif c.kind == ChangeKind.FIXED_IN:
            facts["released_at"] = facts["released_at"] or c.at
    return facts


def _baseline_facts(status: TicketStatus, me: Identity) -> dict[str, datetime | None]:
    """Facts of a ticket first seen mid-life (a support lookup), estimated from what it shows now."""
    others = sorted(c.created_at for c in status.comments if c.created_at and not me.is_me(c.author))
    first = others[0] if others else None
    if first is None and status.state != TicketState.NEW:
        first = status.updated_at  # someone moved it, at the latest then
    done = status.state in DONE_STATES
    return {
        "first_response_at": first,
        "resolved_at": status.updated_at if done else None,
        "closed_at": status.updated_at if status.state == TicketState.CLOSED else None,
        "released_at": status.updated_at if status.fixed_in else None,
    }
