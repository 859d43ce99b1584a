"""Notices: one per ticket per burst, the most important line first, a summary when many tickets change."""

from __future__ import annotations

from datetime import timedelta

from reporter_app.tracking.changes import ChangeKind, TicketChange
from reporter_app.tracking.notify import describe, excerpt, group_notices

from .conftest import T0


def change(kind, key="LOCAL-1", old="", new="", author="", text="", n=1):
    return TicketChange(backend="local", key=key, kind=kind, at=T0 + timedelta(seconds=n), old=old, new=new,
                        author=author, text=text, title="Crash on save", report_id=f"r-{key}", id=n)


def test_text_for_each_kind():
    assert describe(change(ChangeKind.STATUS, new="In Progress")) == "LOCAL-1 is now In Progress"
    assert describe(change(ChangeKind.RESOLVED, new="Resolved")) == "LOCAL-1 was resolved"
    assert describe(change(ChangeKind.CLOSED, new="Rejected")) == "LOCAL-1 was closed (Rejected)"
    assert describe(change(ChangeKind.REOPENED, new="Reopened")) == "LOCAL-1 was reopened (Reopened)"
    assert describe(change(ChangeKind.ASSIGNEE, new="bob")) == "LOCAL-1 is assigned to bob"
    assert describe(change(ChangeKind.ASSIGNEE, old="bob")) == "LOCAL-1 is no longer assigned"
    assert describe(change(ChangeKind.FIXED_IN, new="2.4.1")) == "LOCAL-1 is fixed in version 2.4.1: update to get it"
    assert describe(change(ChangeKind.COMMENT, author="Bob", text="Which\nversion?")) == \
        "Bob commented on LOCAL-1: Which version?"


def test_a_burst_on_one_ticket_is_one_notice_most_important_first():
    burst = [change(ChangeKind.ASSIGNEE, new="bob", n=1), change(ChangeKind.COMMENT, author="Bob", text="on it", n=2),
             change(ChangeKind.FIXED_IN, new="2.0", n=3), change(ChangeKind.RESOLVED, new="Resolved", n=4)]
    [notice] = group_notices(burst)
    assert notice.title == "LOCAL-1: Crash on save"
    assert notice.body.splitlines() == ["LOCAL-1 is fixed in version 2.0: update to get it", "LOCAL-1 was resolved",
                                        "Bob commented on LOCAL-1: on it", "LOCAL-1 is assigned to bob"]
    assert notice.report_ids == ("r-LOCAL-1",) and sorted(notice.change_ids) == [1, 2, 3, 4]


def test_several_tickets_get_a_notice_each_until_it_gets_noisy():
    two = [change(ChangeKind.STATUS, key="LOCAL-1", new="In Progress", n=1),
           change(ChangeKind.COMMENT, key="LOCAL-2", author="Bob", text="hi", n=2)]
    assert [n.keys for n in group_notices(two)] == [("LOCAL-1",), ("LOCAL-2",)]
    many = [change(ChangeKind.CLOSED, key=f"LOCAL-{i}", new="Closed", n=i) for i in range(5)]
    [summary] = group_notices(many, max_notices=3)
    assert summary.title == "5 of your tickets changed"
    assert len(summary.body.splitlines()) == 5 and len(summary.report_ids) == 5


def test_no_changes_no_notice_and_long_comments_are_cut():
    assert group_notices([]) == []
    assert len(excerpt("x" * 500)) == 140 and excerpt("x" * 500).endswith("…")
