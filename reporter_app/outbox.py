"""The durable outbox: one SQLite row (WAL) per report, pointing at its bundle.

States: queued -> sending -> filed; on failure waiting_retry (transient, with next_attempt_at)
or needs_attention (credentials or a refusal, with the tracker's message). Rows are never
deleted because sending failed; only the user's `outbox drop` removes one (the bundle stays).

A lost or corrupt database is not a lost report: it is set aside and rebuilt from the bundles,
whose `reported_to` file says which were already filed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from reporter_app.bundle import Bundle, BundleError, iter_bundle_dirs, read_bundle
from reporter_app.fsutil import atomic_write_text
from reporter_app.clock import Clock, SystemClock, parse_utc_iso, utc_iso

log = logging.getLogger(__name__)


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    FILED = "filed"
    WAITING_RETRY = "waiting_retry"
    NEEDS_ATTENTION = "needs_attention"


# Left in a bundle by `outbox drop`, so rebuilding the outbox does not bring the report back.
DROPPED_FILE = "dropped"

PENDING_STATES = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.WAITING_RETRY, OutboxState.NEEDS_ATTENTION)


class OutboxError(Exception):
    """The outbox cannot be used (disk full, read-only, unreadable); the message names the file."""


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    id: str
    bundle_path: Path
    title: str
    state: OutboxState
    backend: str
    idempotency_key: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    ticket_key: str
    ticket_url: str
    created_at: datetime
    updated_at: datetime


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    bundle_path TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    backend TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    ticket_key TEXT NOT NULL DEFAULT '',
    ticket_url TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_due ON reports(state, next_attempt_at);
"""
_COLUMNS = ("seq, id, bundle_path, title, state, backend, idempotency_key, attempts, next_attempt_at, "
            "last_error, ticket_key, ticket_url, created_at, updated_at")


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    (seq, id_, bundle_path, title, state, backend, key, attempts, next_at, error, ticket_key,
     ticket_url, created, updated) = row
    return OutboxEntry(
        seq=seq, id=id_, bundle_path=Path(bundle_path), title=title, state=OutboxState(state),
        backend=backend, idempotency_key=key, attempts=attempts,
        next_attempt_at=parse_utc_iso(next_at) if next_at else None, last_error=error,
        ticket_key=ticket_key, ticket_url=ticket_url,
        created_at=parse_utc_iso(created), updated_at=parse_utc_iso(updated),
    )


class Outbox:
    def __init__(self, db_path: Path, reports_dir: Path, clock: Clock | None = None) -> None:
        self.db_path = db_path
        self.reports_dir = reports_dir
        self.clock = clock or SystemClock()
        self.recovered_from: Path | None = None  # where a corrupt database was set aside
        self.read_only = False
        self._conn = self._open()

    # -- opening, corruption and rebuilding -------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.executescript(_SCHEMA)
        conn.execute("SELECT count(*) FROM reports").fetchone()
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(f"{self.db_path.parent}: cannot create the data folder: {exc.strerror or exc}") from exc
        try:
            conn = self._connect()
            conn.execute("PRAGMA quick_check").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                if self.db_path.exists() and not os.access(self.db_path.parent, os.W_OK) or _is_read_only(exc):
                    return self._open_read_only(exc)
                raise OutboxError(f"{self.db_path}: cannot open the outbox: {exc}") from exc
            log.error("outbox database %s is corrupt (%s); rebuilding it from the report bundles", self.db_path, exc)
        self.recovered_from = self._set_aside()
        try:
            conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"{self.db_path}: cannot create a new outbox: {exc}") from exc
        self._conn = conn
        self.rebuild_from_bundles()
        return conn

    def _open_read_only(self, cause: Exception) -> sqlite3.Connection:
        """A read-only data dir still shows the queue (status, My reports); writing says why it can't."""
        try:
            conn = sqlite3.connect(f"{self.db_path.as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None)
            conn.execute("SELECT count(*) FROM reports").fetchone()
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"{self.db_path}: cannot open the outbox: {cause}") from exc
        self.read_only = True
        log.info("outbox %s opened read-only: %s", self.db_path, cause)
        return conn

    def _set_aside(self) -> Path:
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%S")
        aside = self.db_path.with_name(f"{self.db_path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.db_path) + suffix)
            if src.exists():
                src.rename(Path(str(aside) + suffix))
        return aside

    def rebuild_from_bundles(self) -> int:
        """Re-enqueue every bundle the database does not know; filed ones come back as filed.

        Also what closes the gap between "bundle renamed into place" and "row inserted": a
        process killed there leaves a bundle that the next worker start queues.
        """
        known = {row[0] for row in self._conn.execute("SELECT id FROM reports")}
        added = 0
        for path in iter_bundle_dirs(self.reports_dir):
            if path.name in known:
                continue
            if (path / DROPPED_FILE).exists():
                continue
            try:
                bundle = read_bundle(path)
            except BundleError as exc:
                log.error("not re-queued: %s", exc)
                continue
            done = bundle.reported_to()
            self._insert(bundle, backend=done[-1].split(":", 1)[0] if done else "",
                         filed_line=done[-1] if done else "", rebuilt=True)
            added += 1
        return added

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise OutboxError(f"{self.db_path.parent}: Read-only file system: the outbox cannot be changed")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise OutboxError(f"{self.db_path}: {exc}") from exc
        try:
            yield self._conn
        except sqlite3.OperationalError as exc:  # a write that found the disk full or read-only
            self._rollback()
            raise OutboxError(f"{self.db_path}: cannot save: {exc}") from exc
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:  # disk full, read-only
                self._rollback()
                raise OutboxError(f"{self.db_path}: cannot save: {exc}") from exc

    def _rollback(self) -> None:
        # A COMMIT that fails on a full disk has already rolled back (SQLITE_FULL ends the transaction): a second
        # ROLLBACK would raise "no transaction is active" and hide the real, clear error.
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            log.error("outbox %s: rollback failed: %s", self.db_path, exc)

    def _insert(self, bundle: Bundle, backend: str, filed_line: str = "", rebuilt: bool = False) -> None:
        now = utc_iso(self.clock.now())
        report = bundle.report
        state, key, url = OutboxState.QUEUED, "", ""
        if filed_line:
            # "<backend>: <key> <url>"
            _, _, rest = filed_line.partition(": ")
            key, _, url = rest.partition(" ")
            state = OutboxState.FILED
        created = utc_iso(report.created_at) if report.created_at else now
        # attempts=1 for a rebuilt row: we cannot know whether a send was under way, so look first.
        attempts = 1 if rebuilt else 0
        verb = "INSERT OR IGNORE" if rebuilt else "INSERT"
        self._conn.execute(
            f"{verb} INTO reports (id, bundle_path, title, state, backend, idempotency_key, attempts, "
            "next_attempt_at, ticket_key, ticket_url, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (report.id, str(bundle.path), report.title, state, backend, report.idempotency_key, attempts,
             now if state == OutboxState.QUEUED else None, key, url, created, now),
        )

    def enqueue(self, bundle: Bundle, backend: str) -> OutboxEntry:
        try:
            with self._transaction():
                self._insert(bundle, backend)
        except sqlite3.IntegrityError:
            pass  # another worker's rebuild queued this bundle first: same report, same row
        except sqlite3.OperationalError as exc:
            raise OutboxError(f"{self.db_path}: cannot queue the report: {exc}") from exc
        return self.get(bundle.report.id)

    def claim_next(self) -> OutboxEntry | None:
        """Oldest due report, marked `sending` with its attempt counted, in one transaction."""
        now = utc_iso(self.clock.now())
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE state IN (?, ?) AND (next_attempt_at IS NULL "
                "OR next_attempt_at <= ?) ORDER BY seq LIMIT 1",
                (OutboxState.QUEUED, OutboxState.WAITING_RETRY, now),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE reports SET state = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (OutboxState.SENDING, now, row[1]),
            )
        return self.get(row[1])

    def _update(self, report_id: str, **values: object) -> None:
        values["updated_at"] = utc_iso(self.clock.now())
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._transaction() as conn:
            changed = conn.execute(
                f"UPDATE reports SET {assignments} WHERE id = ?", (*values.values(), report_id)
            ).rowcount
        if not changed:
            raise OutboxError(f"no report {report_id!r} in the outbox")

    def mark_filed(self, report_id: str, ticket_key: str, ticket_url: str) -> None:
        self._update(report_id, state=OutboxState.FILED, ticket_key=ticket_key, ticket_url=ticket_url,
                     last_error="", next_attempt_at=None)

    def mark_waiting_retry(self, report_id: str, error: str, delay_seconds: float) -> None:
        due = self.clock.now() + timedelta(seconds=max(0.0, delay_seconds))
        # Round up so "due" never precedes the delay the tracker asked for (stored at 1 s precision).
        due = due.replace(microsecond=0) + (timedelta(seconds=1) if due.microsecond else timedelta())
        self._update(report_id, state=OutboxState.WAITING_RETRY, last_error=error, next_attempt_at=utc_iso(due))

    def mark_needs_attention(self, report_id: str, error: str) -> None:
        self._update(report_id, state=OutboxState.NEEDS_ATTENTION, last_error=error, next_attempt_at=None)

    def retry(self, report_id: str | None = None) -> int:
        """Make failed or waiting reports due now; returns how many."""
        now = utc_iso(self.clock.now())
        states = (OutboxState.WAITING_RETRY, OutboxState.NEEDS_ATTENTION)
        if report_id is not None:
            report_id = self.get(report_id).id
        with self._transaction() as conn:
            if report_id is None:
                return conn.execute(
                    "UPDATE reports SET state = ?, next_attempt_at = ?, updated_at = ? WHERE state IN (?, ?)",
                    (OutboxState.QUEUED, now, now, *states),
                ).rowcount
            return conn.execute(
                "UPDATE reports SET state = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
                (OutboxState.QUEUED, now, now, report_id, *states),
            ).rowcount

    def recover_interrupted(self) -> int:
        """Rows left in `sending` by a process that died: due again (the sender looks before it files)."""
        now = utc_iso(self.clock.now())
        with self._transaction() as conn:
            return conn.execute(
                "UPDATE reports SET state = ?, next_attempt_at = ?, updated_at = ? WHERE state = ?",
                (OutboxState.QUEUED, now, now, OutboxState.SENDING),
            ).rowcount

    def drop(self, report_id: str) -> OutboxEntry:
        entry = self.get(report_id)
        if entry.bundle_path.is_dir():
            atomic_write_text(entry.bundle_path / DROPPED_FILE, utc_iso(self.clock.now()) + "\n")
        with self._transaction() as conn:
            conn.execute("DELETE FROM reports WHERE id = ?", (entry.id,))
        return entry

    # -- reading ---------------------------------------------------------------------------
    def get(self, report_id: str) -> OutboxEntry:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM reports WHERE id = ? OR id LIKE ? ORDER BY seq", (report_id, f"{report_id}%")
        ).fetchall()
        exact = [r for r in rows if r[1] == report_id]
        if exact:
            return _entry(exact[0])
        if len(rows) == 1:  # a unique prefix, as `outbox retry 3f2a` allows
            return _entry(rows[0])
        if not rows:
            raise OutboxError(f"no report {report_id!r} in the outbox")
        raise OutboxError(f"{report_id!r} matches {len(rows)} reports; give more of the id")

    def entries(self, states: tuple[OutboxState, ...] | None = None) -> list[OutboxEntry]:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM reports ORDER BY seq").fetchall()
        found = [_entry(r) for r in rows]
        return [e for e in found if states is None or e.state in states]

    def find_by_ticket(self, ticket_key: str) -> OutboxEntry | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM reports WHERE ticket_key = ?", (ticket_key,)).fetchone()
        return _entry(row) if row else None

    def pending_count(self) -> int:
        marks = ",".join("?" * len(PENDING_STATES))
        return int(self._conn.execute(
            f"SELECT count(*) FROM reports WHERE state IN ({marks})", PENDING_STATES).fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def _is_read_only(exc: sqlite3.DatabaseError) -> bool:
    return "readonly" in str(exc).lower() or "read-only" in str(exc).lower()


def set_aside_databases(db_path: Path) -> list[Path]:
    """Corrupt databases set aside by earlier starts (for `doctor`)."""
    return sorted(p for p in db_path.parent.glob(f"{db_path.name}.corrupt-*") if not p.name.endswith(("-wal", "-shm")))


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text
