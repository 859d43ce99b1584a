"""The poller against an in-memory tracker: batching, cadence, rate limits, conditional requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from reporter_app.trackers.base import (
    CredentialsError,
    TicketRef,
    TicketState,
    TicketStatus,
    TransientError,
)
from reporter_app.tracking.cadence import Cadence
from reporter_app.tracking.changes import ChangeKind, Identity
from reporter_app.tracking.poller import ConditionalResult, Poller, priority_of
from reporter_app.tracking.store import Validators

from .conftest import T0, status


class MemoryTracker:
    """Just `statuses()`: the tickets it knows, and every call it got."""

    name = "local"

    def __init__(self) -> None:
        self.tickets: dict[str, TicketStatus] = {}
        self.calls: list[list[str]] = []
        self.fail: Exception | None = None

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        keys = [r.key for r in refs]
        self.calls.append(keys)
        if self.fail is not None:
            raise self.fail
        return {k: self.tickets[k] for k in keys if k in self.tickets}


class ConditionalTracker(MemoryTracker):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Validators]] = []

    def statuses_conditional(self, refs: Sequence[TicketRef],
                             validators: Mapping[str, Validators]) -> ConditionalResult:
        self.sent.append(dict(validators))
        self.calls.append([r.key for r in refs])
        changed = {r.key: self.tickets[r.key] for r in refs
                   if validators.get(r.key, Validators()).etag != f"v-{self.tickets[r.key].status_name}"}
        return ConditionalResult(statuses=changed,
                                 not_modified={r.key for r in refs} - set(changed),
                                 validators={k: Validators(etag=f"v-{s.status_name}") for k, s in changed.items()})


def follow(store, key, priority="P3"):
    store.follow(TicketRef("local", key, ""), now=T0, report_id=f"r-{key}", priority=priority, filed_at=T0)


@pytest.fixture
def tracker():
    return MemoryTracker()


@pytest.fixture
def poller(store, tracker, clock):
    return Poller(store, lambda backend: tracker, clock, me=Identity.of("Ada Tester"), cadence=Cadence(300))


def test_each_change_is_returned_once(store, tracker, poller, clock):
    follow(store, "LOCAL-1")
    tracker.tickets["LOCAL-1"] = status("LOCAL-1")
    assert poller.poll_due() == []
    clock.advance(600)
    tracker.tickets["LOCAL-1"] = status("LOCAL-1", TicketState.IN_PROGRESS, "In Progress", assignee="bob")
    changes = poller.poll_due()
    assert [c.kind for c in changes] == [ChangeKind.STATUS, ChangeKind.ASSIGNEE]
    clock.advance(600)
    assert poller.poll_due() == []


def test_500_tickets_cost_at_most_one_look_each_per_interval(store, tracker, poller, clock):
    for n in range(500):
        follow(store, f"LOCAL-{n}", priority="P3")
        tracker.tickets[f"LOCAL-{n}"] = status(f"LOCAL-{n}", updated_at=T0)
    for _ in range(60):  # an hour of a one-minute timer; the base interval is five minutes
        poller.poll_due()
        clock.advance(60)
    looks = [key for call in tracker.calls for key in call]
    intervals = 3600 // 300
    assert max(looks.count(f"LOCAL-{n}") for n in range(500)) <= intervals
    # ... and the looks ride in batches: five requests per round, twelve rounds.
    assert all(len(call) <= 100 for call in tracker.calls)
    assert len(tracker.calls) <= 5 * intervals


def test_one_batched_request_per_backend_round(store, tracker, poller):
    for n in range(250):
        follow(store, f"LOCAL-{n}")
        tracker.tickets[f"LOCAL-{n}"] = status(f"LOCAL-{n}")
    poller.poll_due()
    assert [len(c) for c in tracker.calls] == [100, 100, 50]
    assert poller.poll_due() == [] and len(tracker.calls) == 3  # nothing due right after


def test_retry_after_is_honoured_for_the_whole_backend(store, tracker, poller, clock):
    for n in range(150):
        follow(store, f"LOCAL-{n}")
    tracker.fail = TransientError("429 Too Many Requests", retry_after=1800)
    poller.poll_due()
    assert len(tracker.calls) == 1  # no second batch after a 429
    tracker.fail = None
    clock.advance(1799)
    poller.poll_due()
    assert len(tracker.calls) == 1
    clock.advance(1)
    poller.poll_due()
    assert len(tracker.calls) == 3


def test_persistent_failures_back_off_and_are_recorded(store, tracker, poller, clock):
    follow(store, "LOCAL-1")
    tracker.fail = CredentialsError("401 Unauthorized")
    poller.poll_due()
    ticket = store.get("local", "LOCAL-1")
    assert ticket.last_error == "401 Unauthorized" and ticket.failures == 1
    assert ticket.next_poll_at - clock.now() == timedelta(seconds=600)


def test_a_ticket_the_tracker_forgot_is_kept_and_looked_at_daily(store, tracker, poller, clock):
    follow(store, "LOCAL-1")
    poller.poll_due()
    ticket = store.get("local", "LOCAL-1")
    assert ticket.missing_since == T0 and ticket.next_poll_at == T0 + timedelta(days=1)


def test_tickets_of_a_backend_no_longer_configured_wait(store, clock):
    follow(store, "LOCAL-1")
    Poller(store, lambda backend: None, clock).poll_due()
    assert "not configured" in store.get("local", "LOCAL-1").last_error


def test_conditional_requests_send_validators_and_skip_unchanged(store, clock):
    tracker = ConditionalTracker()
    poller = Poller(store, lambda backend: tracker, clock, cadence=Cadence(300))
    follow(store, "LOCAL-1")
    tracker.tickets["LOCAL-1"] = status("LOCAL-1", TicketState.IN_PROGRESS, "In Progress")
    assert [c.kind for c in poller.poll_due()] == [ChangeKind.STATUS]
    clock.advance(3600)
    assert poller.poll_due() == []
    assert tracker.sent[-1] == {"LOCAL-1": Validators(etag="v-In Progress")}
    ticket = store.get("local", "LOCAL-1")
    assert ticket.seen_at == clock.now() and ticket.validators.etag == "v-In Progress"


def test_priority_follows_the_tracker(store, tracker, poller, clock):
    follow(store, "LOCAL-1", priority="P3")
    tracker.tickets["LOCAL-1"] = status("LOCAL-1", priority="P1")
    poller.poll_due()
    assert store.get("local", "LOCAL-1").priority == "P1"


def test_priority_of_reads_a_backends_priority_map_backwards():
    class Redmineish:
        priority_map = {"P1": "Immediate", "P2": "Urgent"}

    assert priority_of(status(priority="urgent"), Redmineish()) == "P2"  # type: ignore[arg-type]
    assert priority_of(status(priority="p4"), Redmineish()) == "P4"  # type: ignore[arg-type]
    assert priority_of(status(priority="Normal"), Redmineish()) == ""  # type: ignore[arg-type]


def test_cadence_looks_often_at_fresh_urgent_tickets_and_rarely_at_old_closed_ones(store, tracker, clock):
    cadence = Cadence(300)
    follow(store, "LOCAL-1", priority="P1")
    fresh = store.get("local", "LOCAL-1")
    assert cadence.interval(fresh, T0) == timedelta(seconds=150)
    assert cadence.interval(replace(fresh, priority="P4"), T0) == timedelta(seconds=600)
    week_later = T0 + timedelta(days=8)
    assert cadence.interval(replace(fresh, priority="P3"), week_later) == timedelta(seconds=1200)
    closed = replace(fresh, priority="P3", snapshot=replace(fresh.snapshot, state=TicketState.CLOSED),
                     closed_at=T0)
    assert cadence.interval(closed, T0 + timedelta(hours=1)) == timedelta(hours=1)
    assert cadence.interval(closed, T0 + timedelta(days=40)) == timedelta(days=1)
    assert cadence.next_poll_at(fresh, T0, retry_after=3600) == T0 + timedelta(hours=1)
