"""Tracking wired from an AppContext: what the CLI verbs and the tray's worker use.

    tracking = Tracking(ctx)
    changes = tracking.poll()                       # worker thread; syncs the outbox, looks at what is due
    notices = group_notices(changes)                # GUI thread: show them (if status.notify)
    tracking.sla(ticket).short()                    # "response due in 40m"

Filed reports join the followed tickets on their own (`sync_outbox`); support staff add any
ticket by key (`follow`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from reporter_app.bundle import BundleError, read_bundle
from reporter_app.clock import Clock
from reporter_app.model import Reporter
from reporter_app.outbox import Outbox, OutboxEntry, OutboxState
from reporter_app.paths import AppPaths
from reporter_app.trackers.base import TicketRef, TicketStatus, Tracker, TrackerError
from reporter_app.tracking.cadence import Cadence
from reporter_app.tracking.changes import Identity, TicketChange
from reporter_app.tracking.poller import Poller, priority_of
from reporter_app.tracking.sla import SlaPolicy, SlaSummary
from reporter_app.tracking.store import TrackedTicket, TrackingStore


class TrackingContext(Protocol):
    """The part of `reporter_app.app.AppContext` tracking needs (kept narrow so tests can fake it)."""

    paths: AppPaths
    config: Any
    clock: Clock

    @property
    def backend(self) -> str: ...

    @property
    def outbox(self) -> Outbox: ...

    def tracker(self, backend: str | None = None) -> Tracker: ...

    def reporter(self) -> Reporter: ...


class FollowError(Exception):
    """A ticket cannot be followed: unknown to the tracker, or the tracker cannot be asked."""


class Tracking:
    def __init__(self, ctx: TrackingContext, store: TrackingStore | None = None) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.store = store or TrackingStore.in_data_dir(ctx.paths.data_dir)
        reporter = ctx.reporter()
        self.me = Identity.of(reporter.name, reporter.email)
        self.policy = SlaPolicy.from_config(ctx.config)
        cadence = Cadence(base_seconds=float(ctx.config.get("status.poll_interval_seconds")))
        self.poller = Poller(self.store, self.tracker_for, ctx.clock, me=self.me, cadence=cadence)

    def tracker_for(self, backend: str) -> Tracker | None:
        """Only today's backend can be asked: AppContext builds just the configured one."""
        if backend != self.ctx.backend:
            return None
        try:
            return self.ctx.tracker()
        except ValueError as exc:  # bad settings: the same message `doctor` gives
            raise TrackerError(str(exc)) from exc

    # -- following ------------------------------------------------------------------------------
    def sync_outbox(self) -> int:
        """Follow every filed report not followed yet; returns how many were added."""
        added = 0
        for entry in self.ctx.outbox.entries((OutboxState.FILED,)):
            if not entry.ticket_key or self.store.find(entry.ticket_key) is not None:
                continue
            backend, priority = _filed_backend_and_priority(entry)
            # The outbox row's last update is mark_filed: when the ticket began to exist for engineering.
            filed_at = max(entry.updated_at, entry.created_at)
            added += self.store.follow(TicketRef(backend, entry.ticket_key, entry.ticket_url), now=self.clock.now(),
                                       title=entry.title, report_id=entry.id, priority=priority, filed_at=filed_at)
        return added

    def follow(self, key: str) -> TrackedTicket:
        """Support lookup: follow any ticket by key from now on; its present state is the baseline."""
        self.sync_outbox()
        known = self.store.find(key)
        if known is not None:
            return known
        backend = self.ctx.backend
        try:
            tracker = self.tracker_for(backend)
            assert tracker is not None  # today's backend always has a tracker
            found = tracker.statuses([TicketRef(backend, key)])
        except TrackerError as exc:
            raise FollowError(f"cannot look up {key}: {exc.message}") from exc
        status = found.get(key)
        if status is None:
            raise FollowError(f"the {backend} tracker has no ticket {key!r}")
        now = self.clock.now()
        self.store.follow(status.ref, now=now, title=status.title, priority=priority_of(status, tracker),
                          filed_at=_created_at(status), baseline=status, me=self.me)
        ticket = self.store.get(status.ref.backend, status.ref.key)
        assert ticket is not None
        self.poller.apply_status(ticket, status, tracker, now)  # root cause and next look, as any look sets them
        result = self.store.get(status.ref.backend, status.ref.key)
        assert result is not None
        return result

    # -- looking --------------------------------------------------------------------------------
    def poll(self) -> list[TicketChange]:
        """The tray's timer (on a worker): every change not shown before, each exactly once."""
        self.sync_outbox()
        return self.poller.poll_due()

    def observe(self, status: TicketStatus, now: datetime | None = None) -> list[TicketChange]:
        """Record a status fetched elsewhere (`reporter-app status`); [] for a ticket not followed."""
        ticket = self.store.get(status.ref.backend, status.ref.key) or self.store.find(status.ref.key)
        if ticket is None:
            return []
        try:
            tracker = self.tracker_for(ticket.backend)
        except TrackerError:
            tracker = None  # only needed to read the priority's name; the look itself is already done
        return self.poller.apply_status(ticket, status, tracker, now or self.clock.now())

    def refresh(self, key: str | None = None) -> None:
        """Look now at every followed ticket (or one), leaving the changes for the tray to announce."""
        self.sync_outbox()
        self.store.poll_now(key=key)
        self.poller.look_due()

    # -- reading --------------------------------------------------------------------------------
    def tickets(self) -> list[TrackedTicket]:
        return self.store.tickets()

    def sla(self, ticket: TrackedTicket, now: datetime | None = None) -> SlaSummary:
        return self.policy.evaluate(ticket, now or self.clock.now())

    def close(self) -> None:
        self.store.close()


def _filed_backend_and_priority(entry: OutboxEntry) -> tuple[str, str]:
    """The backend the ticket really went to (the bundle's reported_to line) and the report's priority."""
    try:
        bundle = read_bundle(entry.bundle_path)
    except BundleError:
        return entry.backend, ""
    backend = entry.backend
    for line in bundle.reported_to():
        name, _, rest = line.partition(": ")
        if rest.split(" ", 1)[0] == entry.ticket_key:
            backend = name
    return backend, bundle.report.priority.value


def _created_at(status: TicketStatus) -> datetime | None:
    """When the tracker says the ticket was filed (None when it does not say: the SLA shows "unknown")."""
    return status.created_at if isinstance(status.created_at, datetime) else None
