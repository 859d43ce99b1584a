"""Fingerprint -> ticket: so one root cause is one ticket, and a repeat becomes a "+1" on it.

:class:`FingerprintMap` is a small SQLite file of its own (``fingerprints.sqlite3`` in the data dir;
the outbox's database is not touched) remembering which ticket each fingerprint was filed as, and
how often and on which installations it was seen here. :func:`decide` looks the fingerprint up
locally first, then asks the tracker (``Tracker.find``), and returns a :class:`DedupDecision` the
form or the CLI shows: "Already reported as KEY (status): add my occurrence and follow it", or "new".
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from reporter_app.clock import Clock, parse_utc_iso, utc_iso
from reporter_app.trackers.base import TicketRef, Tracker, TrackerError
from reporter_app.trackers.installations import installation_tag

FILE_NAME = "fingerprints.sqlite3"
INSTALLATION_ID_FILE = "installation-id"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fingerprint_ticket (
    fingerprint TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    key TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    linked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS occurrence (
    fingerprint TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Occurrences:
    count: int
    first_seen: datetime
    last_seen: datetime


class FingerprintMap:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._keeper: sqlite3.Connection | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            conn.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FingerprintMap:
        return cls(data_dir / FILE_NAME)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection (the watcher thread and the core worker each open their own)."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")  # the watcher writes while the UI reads
            yield conn
        finally:
            conn.close()

    def keep_open(self) -> None:
        """For a heavy user (the watcher writes per error event): hold the file open until :meth:`close`.

        The last connection to close a WAL database checkpoints it and deletes the WAL; with one held
        open, each short-lived connection closes cheaply. Measured per repeated error event (watcher
        round, 300 events): 0.43 ms instead of 2.9 ms.
        """
        if self._keeper is None:
            # Only ever opened and closed, maybe on different threads (a service is closed where its owner is).
            keeper = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            keeper.execute("SELECT count(*) FROM occurrence").fetchall()  # opens the file; no read stays open
            self._keeper = keeper

    def close(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()

    def ticket_for(self, fingerprint: str) -> TicketRef | None:
        with self.connect() as conn:
            row = conn.execute("SELECT backend, key, url FROM fingerprint_ticket WHERE fingerprint = ?",
                               (fingerprint,)).fetchone()
        return TicketRef(backend=row[0], key=row[1], url=row[2]) if row else None

    def link(self, fingerprint: str, ref: TicketRef, at: datetime) -> None:
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO fingerprint_ticket (fingerprint, backend, key, url, linked_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET backend = excluded.backend, key = excluded.key, "
                "url = excluded.url, linked_at = excluded.linked_at",
                (fingerprint, ref.backend, ref.key, ref.url, utc_iso(at)),
            )

    def unlink(self, fingerprint: str) -> None:
        """Forget the ticket (it was deleted, or the user says it's another bug)."""
        with self.connect() as conn:
            conn.execute("DELETE FROM fingerprint_ticket WHERE fingerprint = ?", (fingerprint,))

    def record_occurrence(self, fingerprint: str, at: datetime) -> Occurrences:
        stamp = utc_iso(at)
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO occurrence (fingerprint, count, first_seen, last_seen) VALUES (?, 1, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen",
                (fingerprint, stamp, stamp),
            )
            row = conn.execute("SELECT count, first_seen, last_seen FROM occurrence WHERE fingerprint = ?",
                               (fingerprint,)).fetchone()
            conn.execute("COMMIT")
        return Occurrences(count=row[0], first_seen=parse_utc_iso(row[1]), last_seen=parse_utc_iso(row[2]))

    def occurrences(self, fingerprint: str) -> Occurrences | None:
        with self.connect() as conn:
            row = conn.execute("SELECT count, first_seen, last_seen FROM occurrence WHERE fingerprint = ?",
                               (fingerprint,)).fetchone()
        return Occurrences(row[0], parse_utc_iso(row[1]), parse_utc_iso(row[2])) if row else None


def installation_id(data_dir: Path) -> str:
    """A random id for this installation, made once: counts distinct machines without identifying one."""
    path = data_dir / INSTALLATION_ID_FILE
    try:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    except OSError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = uuid.uuid4().hex
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(value + "\n", encoding="utf-8")
    tmp.replace(path)
    return value


@dataclass(frozen=True)
class DedupDecision:
    fingerprint: str
    existing: TicketRef | None
    found_in: str  # "local" | "tracker" | "" (not found)
    status_name: str  # the tracker's word for the state, "" when unknown
    lookup_error: str  # the tracker could not be asked (offline, credentials): shown, never fatal
    occurrences: Occurrences | None

    @property
    def duplicate(self) -> bool:
        return self.existing is not None

    @property
    def offer(self) -> str:
        """``add_occurrence`` or ``new``: which button the form makes the default."""
        return "add_occurrence" if self.existing is not None else "new"

    @property
    def message(self) -> str:
        if self.existing is None:
            return "Not reported yet: file a new report."
        status = f" ({self.status_name})" if self.status_name else ""
        return f"Already reported as {self.existing.key}{status}: add my occurrence and follow it"


def decide(fingerprint: str, fingerprints: FingerprintMap, tracker: Tracker | None,
           with_status: bool = True) -> DedupDecision:
    """Look ``fingerprint`` up locally, then in the tracker (:func:`lookup` also remembers a tracker hit)."""
    ref = fingerprints.ticket_for(fingerprint)
    found_in = "local" if ref is not None else ""
    error = ""
    if ref is None and tracker is not None:
        try:
            ref = tracker.find(fingerprint)
        except TrackerError as exc:
            error = exc.message
        if ref is not None:
            found_in = "tracker"
    status = ""
    if ref is not None and tracker is not None and with_status:
        try:
            known = tracker.statuses([ref])
        except TrackerError as exc:
            error = error or exc.message
        else:
            if ref.key in known:
                status = known[ref.key].status_name
    return DedupDecision(fingerprint=fingerprint, existing=ref, found_in=found_in, status_name=status,
                         lookup_error=error, occurrences=fingerprints.occurrences(fingerprint))


def lookup(fingerprint: str, fingerprints: FingerprintMap, tracker: Callable[[], Tracker],
           clock: Clock) -> DedupDecision:
    """:func:`decide` with the tracker built here: one that can't be built (no token) is reported, never fatal.

    A ticket found in the tracker is remembered locally: from then on the fingerprint's repeats are
    "+1" notes on it (detect/repeats.py), and the next lookup needs no network.
    """
    try:
        built: Tracker | None = tracker()
        error = ""
    except (TrackerError, ValueError) as exc:
        built, error = None, exc.message if isinstance(exc, TrackerError) else str(exc)
    decision = decide(fingerprint, fingerprints, built)
    if decision.found_in == "tracker" and decision.existing is not None:
        fingerprints.link(fingerprint, decision.existing, clock.now())
    if error:
        decision = replace(decision, lookup_error=error)
    return decision


def remember_filed(fingerprints: FingerprintMap, fingerprint: str, ref: TicketRef, clock: Clock) -> None:
    """After ``create`` or ``add_occurrence`` succeeded: the next repeat is a local hit."""
    fingerprints.link(fingerprint, ref, clock.now())


def occurrence_comment(fingerprint: str, seen: Occurrences, environment: Mapping[str, str], installation: str,
                       machines: int | None = None, new: Occurrences | None = None) -> str:
    """The short "+1" text ``add_occurrence`` posts: counts, first/last seen, this machine's environment.

    ``new``: the occurrences this note is about (those since the last report or note), when it is
    one of the automatic notes of detect/repeats.py. ``machines``: the distinct installations, when the
    caller knows them (the backends' ``add_occurrence`` counts them from the ticket and says so in its own
    line, trackers/installations.py). The installation is named by its per-fingerprint tag, the one in the
    ticket's marker lines, never by the raw id: tickets of one machine stay unlinkable.
    """
    lines = [f"Seen again (fingerprint {fingerprint})."]
    if new is not None:
        when = (f"at {utc_iso(new.last_seen)}" if new.count == 1 or new.first_seen == new.last_seen
                else f"from {utc_iso(new.first_seen)} to {utc_iso(new.last_seen)}")
        lines.append(f"New since the last report: {new.count} occurrence{'s' if new.count != 1 else ''}, {when}.")
    lines.append(f"Occurrences on this installation: {seen.count}, first {utc_iso(seen.first_seen)}, "
                 f"last {utc_iso(seen.last_seen)}.")
    if machines is not None:
        lines.append(f"Distinct installations reporting it: {machines}.")
    lines.append(f"Installation: {installation_tag(installation, fingerprint)}")
    lines += [f"{key}: {value}" for key, value in sorted(environment.items())]
    return "\n".join(lines)
