"""The diff between two looks at a ticket: which changes, and which are not news."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reporter_app.trackers.base import Comment, TicketState
from reporter_app.tracking.changes import ChangeKind, Identity, Snapshot, diff, is_stale

from .conftest import T0, status

ME = Identity.of("Ada Tester", "ada@example.com")


def kinds(old: Snapshot, new, me: Identity = ME) -> list[ChangeKind]:
    return [c.kind for c in diff(old, new, me, T0)]


def test_a_freshly_filed_ticket_seen_new_is_no_news():
    assert kinds(Snapshot(), status()) == []


def test_status_name_change_within_a_state_is_a_status_change():
    old = Snapshot.of(status(state=TicketState.IN_PROGRESS, name="In Progress"))
    assert kinds(old, status(state=TicketState.IN_PROGRESS, name="Feedback")) == [ChangeKind.STATUS]


@pytest.mark.parametrize(("before", "after", "expected"), [
    (TicketState.NEW, TicketState.IN_PROGRESS, ChangeKind.STATUS),
    (TicketState.IN_PROGRESS, TicketState.RESOLVED, ChangeKind.RESOLVED),
    (TicketState.RESOLVED, TicketState.CLOSED, ChangeKind.CLOSED),
    (TicketState.CLOSED, TicketState.REOPENED, ChangeKind.REOPENED),
    (TicketState.RESOLVED, TicketState.IN_PROGRESS, ChangeKind.REOPENED),  # a tracker without "Reopened"
    (TicketState.IN_PROGRESS, TicketState.REOPENED, ChangeKind.REOPENED),
])
def test_state_changes(before, after, expected):
    old = Snapshot.of(status(state=before, name=before.value))
    changes = diff(old, status(state=after, name=after.value), ME, T0)
    assert [c.kind for c in changes] == [expected]
    assert (changes[0].old, changes[0].new) == (before.value, after.value)


def test_comments_by_others_are_news_and_the_reporters_own_are_not():
    comments = (Comment("1", "Bob Engineer", "Can you attach the log?", T0 - timedelta(minutes=5)),
                Comment("2", "ada tester", "Attached.", T0 - timedelta(minutes=1)),
                Comment("3", "ADA@example.com", "Also this.", T0))
    changes = diff(Snapshot(), status(comments=comments), ME, T0)
    assert [(c.kind, c.author, c.new, c.at) for c in changes] == [
        (ChangeKind.COMMENT, "Bob Engineer", "1", T0 - timedelta(minutes=5))]


def test_a_seen_comment_is_not_news_again_even_when_the_tracker_stops_listing_it():
    first = status(comments=(Comment("1", "Bob", "hi"),))
    seen = Snapshot.of(first)
    later = status(comments=(Comment("2", "Bob", "again"),))
    assert [c.new for c in diff(seen, later, ME, T0)] == ["2"]
    assert Snapshot.of(later, seen.comment_ids).comment_ids == {"1", "2"}


def test_a_comment_from_the_future_is_dated_when_seen():
    change = diff(Snapshot(), status(comments=(Comment("1", "Bob", "x", T0 + timedelta(hours=1)),)), ME, T0)[0]
    assert change.at == T0


def test_assignee_and_fixed_in():
    old = Snapshot.of(status(assignee="bob"))
    changes = diff(old, status(assignee="carol", fixed_in="2.4.1"), ME, T0)
    assert [(c.kind, c.old, c.new) for c in changes] == [(ChangeKind.ASSIGNEE, "bob", "carol"),
                                                        (ChangeKind.FIXED_IN, "", "2.4.1")]
    # Unassigning is news; a version taken away again is not worth a popup.
    assert kinds(Snapshot.of(status(assignee="bob", fixed_in="2.4")), status()) == [ChangeKind.ASSIGNEE]


def test_an_older_answer_than_the_last_look_is_stale():
    old = Snapshot.of(status(updated_at=T0))
    assert is_stale(old, status(updated_at=T0 - timedelta(seconds=1)))
    assert not is_stale(old, status(updated_at=T0))
    assert not is_stale(Snapshot(), status(updated_at=T0))
