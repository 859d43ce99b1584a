"""Look at the followed tickets that are due: one batched `statuses()` per backend, diffed and persisted.

Synchronous and Qt-free on purpose: the tray app calls `poll_due()` on its worker (never on
the GUI thread) and shows the returned changes; the CLI calls it inline. Every change is in the
store before it is returned, and is returned once (`TrackingStore.take_undelivered`).

Conditional requests: `Tracker.statuses()` has no place for an ETag, so a backend that can
answer "not modified" implements `ConditionalStatuses` as well; the poller then sends the
validators it kept and skips the unchanged tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from reporter_app.clock import Clock
from reporter_app.model import Priority
from reporter_app.trackers.base import TicketRef, TicketStatus, Tracker, TrackerError, TransientError
from reporter_app.tracking.cadence import Cadence
from reporter_app.tracking.changes import Identity, TicketChange
from reporter_app.tracking.incident import root_cause_filled
from reporter_app.tracking.store import TrackedTicket, TrackingStore, Validators

# backend id -> its tracker; None when that backend is not configured any more (its tickets wait).
TrackerFor = Callable[[str], Tracker | None]


@dataclass
class ConditionalResult:
    statuses: dict[str, TicketStatus]  # changed (or validator-less) tickets, by key
    not_modified: set[str] = field(default_factory=set)  # keys the tracker said are unchanged
    validators: dict[str, Validators] = field(default_factory=dict)  # to send next time, by key


@runtime_checkable
class ConditionalStatuses(Protocol):
    def statuses_conditional(self, refs: Sequence[TicketRef],
                             validators: Mapping[str, Validators]) -> ConditionalResult: ...


class Poller:
    def __init__(self, store: TrackingStore, tracker_for: TrackerFor, clock: Clock, *, me: Identity = Identity(),
                 cadence: Cadence = Cadence(), batch_size: int = 100) -> None:
        self.store = store
        self.tracker_for = tracker_for
        self.clock = clock
        self.me = me
        self.cadence = cadence
        self.batch_size = batch_size

    def poll_due(self) -> list[TicketChange]:
        """Look at what is due; return every change not handed out before (each exactly once)."""
        self.look_due()
        return self.store.take_undelivered()

    def look_due(self) -> None:
        """Look at what is due and record the changes, leaving them for whoever announces them."""
        by_backend: dict[str, list[TrackedTicket]] = {}
        for ticket in self.store.due(self.clock.now()):
            by_backend.setdefault(ticket.backend, []).append(ticket)
        for backend, tickets in by_backend.items():
            self._poll_backend(backend, tickets)

    def _poll_backend(self, backend: str, tickets: list[TrackedTicket]) -> None:
        try:
            tracker = self.tracker_for(backend)
        except TrackerError as exc:
            self._fail(tickets, exc.message)
            return
        if tracker is None:
            self._fail(tickets, f"the {backend} tracker is not configured any more", at_most=True)
            return
        chunks = [tickets[i:i + self.batch_size] for i in range(0, len(tickets), self.batch_size)]
        for n, chunk in enumerate(chunks):
            try:
                result = self._fetch(tracker, chunk)
            except TransientError as exc:
                # Rate limited or down: nothing more to this backend this round, and not before Retry-After.
                self._fail([t for later in chunks[n:] for t in later], exc.message, retry_after=exc.retry_after)
                return
            except TrackerError as exc:  # credentials, refusal: the same for every ticket of this backend
                self._fail([t for later in chunks[n:] for t in later], exc.message)
                return
            self._apply(tracker, chunk, result)

    def _fetch(self, tracker: Tracker, chunk: list[TrackedTicket]) -> ConditionalResult:
        refs = [t.ref for t in chunk]
        if isinstance(tracker, ConditionalStatuses):
            return tracker.statuses_conditional(refs, {t.key: t.validators for t in chunk})
        return ConditionalResult(statuses=tracker.statuses(refs))

    def _apply(self, tracker: Tracker, chunk: list[TrackedTicket], result: ConditionalResult) -> None:
        now = self.clock.now()  # after the request: what we saw is true as of now
        with self.store.batch():
            self._apply_each(tracker, chunk, result, now)

    def _apply_each(self, tracker: Tracker, chunk: list[TrackedTicket], result: ConditionalResult,
                    now: datetime) -> None:
        for ticket in chunk:
            status = result.statuses.get(ticket.key)
            if ticket.key in result.not_modified:
                self.store.record_not_modified(ticket.backend, ticket.key, now=now,
                                               next_poll_at=self.cadence.next_poll_at(ticket, now))
            elif status is None:
                missing = replace(ticket, missing_since=ticket.missing_since or now)
                self.store.record_missing(ticket.backend, ticket.key, now=now,
                                          next_poll_at=self.cadence.next_poll_at(missing, now))
            else:
                self.apply_status(ticket, status, tracker, now, result.validators.get(ticket.key))

    def apply_status(self, ticket: TrackedTicket, status: TicketStatus, tracker: Tracker | None, now: datetime,
                     validators: Validators | None = None) -> list[TicketChange]:
        """Record one look at `ticket` (also for a status fetched elsewhere, like `reporter-app status`)."""
        status = replace(status, ref=replace(status.ref, backend=ticket.backend, url=status.ref.url or ticket.url))
        priority = (priority_of(status, tracker) if tracker else "") or ticket.priority
        after = replace(ticket, priority=priority, snapshot=replace(
            ticket.snapshot, state=status.state, updated_at=status.updated_at),
            closed_at=ticket.closed_at or now, failures=0, missing_since=None)
        return self.store.record(status, me=self.me, now=now, next_poll_at=self.cadence.next_poll_at(after, now),
                                 priority=priority, root_cause=root_cause_filled(status), validators=validators)

    def _fail(self, tickets: list[TrackedTicket], error: str, retry_after: float | None = None,
              at_most: bool = False) -> None:
        now = self.clock.now()
        with self.store.batch():
            self._fail_each(tickets, now, error, retry_after, at_most)

    def _fail_each(self, tickets: list[TrackedTicket], now: datetime, error: str, retry_after: float | None,
                   at_most: bool) -> None:
        for ticket in tickets:
            failing = replace(ticket, failures=ticket.failures + 1)
            due = self.cadence.next_poll_at(failing, now, retry_after)
            if at_most:
                due = now + self.cadence.interval(replace(ticket, missing_since=now), now)
            self.store.record_failure(ticket.backend, ticket.key, error=error, next_poll_at=due)


def priority_of(status: TicketStatus, tracker: Tracker) -> str:
    """P1..P4 from the tracker's priority, which engineering may have changed since filing.

    Trackers that store "P2" say so directly; Redmine says "Urgent", so a backend's
    `priority_map` (P-level -> its name) is read backwards. "" when it cannot be told.
    """
    text = status.priority.strip()
    levels = {p.value for p in Priority}
    if text.upper() in levels:
        return text.upper()
    mapping = getattr(tracker, "priority_map", None)
    if isinstance(mapping, Mapping):
        for level, name in mapping.items():
            if str(name).strip().casefold() == text.casefold() and str(level) in levels:
                return str(level)
    return ""
