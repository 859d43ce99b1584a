"""The store: one transaction per look, SLA facts derived from the changes, each change handed out once."""

from __future__ import annotations

from datetime import timedelta

from reporter_app.trackers.base import Comment, TicketRef, TicketState
from reporter_app.tracking.changes import ChangeKind, Identity
from reporter_app.tracking.store import TrackingStore

from .conftest import T0, status

ME = Identity.of("Ada Tester")
REF = TicketRef("local", "LOCAL-1", "file:///t/LOCAL-1")


def look(store: TrackingStore, st, at, me=ME):
    return store.record(st, me=me, now=at, next_poll_at=at + timedelta(minutes=5))


def test_follow_once_and_read_back(store):
    assert store.follow(REF, now=T0, title="Crash", report_id="r1", priority="P2", filed_at=T0)
    assert not store.follow(REF, now=T0 + timedelta(hours=1))
    ticket = store.get("local", "LOCAL-1")
    assert ticket is not None and store.find("LOCAL-1") == ticket
    assert (ticket.title, ticket.report_id, ticket.priority, ticket.filed_at, ticket.state) == (
        "Crash", "r1", "P2", T0, None)
    assert [t.key for t in store.due(T0)] == ["LOCAL-1"]  # a new follow is looked at right away


def test_changes_are_recorded_once_and_delivered_once(store):
    store.follow(REF, now=T0, report_id="r1", priority="P2", filed_at=T0)
    moved = status(state=TicketState.IN_PROGRESS, name="In Progress", assignee="bob", updated_at=T0)
    first = look(store, moved, T0 + timedelta(minutes=5))
    assert [c.kind for c in first] == [ChangeKind.STATUS, ChangeKind.ASSIGNEE]
    assert all(c.report_id == "r1" and c.id for c in first)
    # Another process looking at the same answer records nothing new.
    assert look(store, moved, T0 + timedelta(minutes=6)) == []
    assert [c.id for c in store.take_undelivered()] == [c.id for c in first]
    assert store.take_undelivered() == []
    assert [c.kind for c in store.history("local", "LOCAL-1")] == [ChangeKind.STATUS, ChangeKind.ASSIGNEE]


def test_a_stale_answer_changes_nothing(store):
    store.follow(REF, now=T0, filed_at=T0)
    look(store, status(state=TicketState.RESOLVED, name="Resolved", updated_at=T0 + timedelta(hours=1)),
         T0 + timedelta(hours=1))
    assert look(store, status(updated_at=T0), T0 + timedelta(hours=2)) == []
    assert store.get("local", "LOCAL-1").state == TicketState.RESOLVED


def test_first_response_is_the_first_comment_by_someone_else(store):
    store.follow(REF, now=T0, filed_at=T0, priority="P1")
    own = Comment("1", "Ada Tester", "more detail", T0 + timedelta(minutes=10))
    look(store, status(comments=(own,), updated_at=T0 + timedelta(minutes=10)), T0 + timedelta(minutes=15))
    assert store.get("local", "LOCAL-1").first_response_at is None
    answer = Comment("2", "Bob", "looking", T0 + timedelta(minutes=20))
    look(store, status(comments=(own, answer), updated_at=T0 + timedelta(minutes=20)), T0 + timedelta(minutes=30))
    assert store.get("local", "LOCAL-1").first_response_at == T0 + timedelta(minutes=20)


def test_a_transition_is_a_first_response_dated_by_the_tickets_update(store):
    store.follow(REF, now=T0, filed_at=T0)
    look(store, status(state=TicketState.IN_PROGRESS, name="In Progress", updated_at=T0 + timedelta(minutes=7)),
         T0 + timedelta(minutes=10))
    assert store.get("local", "LOCAL-1").first_response_at == T0 + timedelta(minutes=7)


def test_an_implausible_update_time_falls_back_on_the_look(store):
    store.follow(REF, now=T0, filed_at=T0)
    look(store, status(state=TicketState.IN_PROGRESS, name="In Progress", updated_at=T0 - timedelta(days=3)),
         T0 + timedelta(minutes=10))
    assert store.get("local", "LOCAL-1").first_response_at == T0 + timedelta(minutes=10)


def test_resolution_reopen_and_release_facts(store):
    store.follow(REF, now=T0, filed_at=T0)
    t1, t2, t3, t4 = (T0 + timedelta(hours=h) for h in (1, 2, 3, 4))
    look(store, status(state=TicketState.RESOLVED, name="Resolved", fixed_in="2.0", updated_at=t1), t1)
    ticket = store.get("local", "LOCAL-1")
    assert (ticket.resolved_at, ticket.released_at, ticket.reopen_count) == (t1, t1, 0)
    look(store, status(state=TicketState.REOPENED, name="Reopened", fixed_in="2.0", updated_at=t2), t2)
    ticket = store.get("local", "LOCAL-1")
    assert (ticket.resolved_at, ticket.reopen_count) == (None, 1)
    look(store, status(state=TicketState.CLOSED, name="Closed", fixed_in="2.0", updated_at=t3), t3)
    ticket = store.get("local", "LOCAL-1")
    assert (ticket.resolved_at, ticket.closed_at, ticket.released_at) == (t3, t3, t1)
    look(store, status(state=TicketState.CLOSED, name="Closed", fixed_in="2.0", updated_at=t3), t4)
    assert store.get("local", "LOCAL-1").closed_at == t3


def test_a_lookup_baseline_is_not_news_but_gives_estimated_facts(store):
    seen = status(state=TicketState.RESOLVED, name="Resolved", assignee="bob", updated_at=T0,
                  comments=(Comment("1", "Bob", "fixed", T0 - timedelta(hours=2)),))
    store.follow(seen.ref, now=T0 + timedelta(hours=1), baseline=seen, me=ME)
    ticket = store.get("local", "LOCAL-1")
    assert ticket.first_response_at == T0 - timedelta(hours=2) and ticket.resolved_at == T0
    assert ticket.filed_at is None and ticket.title == "Crash on save"
    assert look(store, seen, T0 + timedelta(hours=2)) == []


def test_failures_missing_and_poll_now(store):
    store.follow(REF, now=T0, filed_at=T0)
    store.record_failure("local", "LOCAL-1", error="timeout", next_poll_at=T0 + timedelta(minutes=10))
    ticket = store.get("local", "LOCAL-1")
    assert (ticket.failures, ticket.last_error, store.due(T0)) == (1, "timeout", [])
    store.record_missing("local", "LOCAL-1", now=T0, next_poll_at=T0 + timedelta(days=1))
    assert store.get("local", "LOCAL-1").missing_since == T0
    assert store.next_due_at() == T0 + timedelta(days=1)
    assert store.poll_now() == 1 and len(store.due(T0)) == 1
    look(store, status(), T0)
    ticket = store.get("local", "LOCAL-1")
    assert (ticket.failures, ticket.last_error, ticket.missing_since) == (0, "", None)


def test_the_store_survives_reopening(tmp_path):
    path = tmp_path / "t.sqlite3"
    first = TrackingStore(path)
    first.follow(REF, now=T0, filed_at=T0)
    first.close()
    second = TrackingStore(path)
    assert second.get("local", "LOCAL-1") is not None
    second.close()
