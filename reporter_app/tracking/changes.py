"""What the reporter last saw of a ticket, and what is new since: a pure diff, no I/O.

The tracker only gives the current state (`TicketStatus`); the history we report is the
difference between two looks. So a change is "observed" at the time of the look that saw it,
except a comment, which carries its own time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reporter_app.trackers.base import TicketState, TicketStatus

DONE_STATES = (TicketState.RESOLVED, TicketState.CLOSED)


class ChangeKind(StrEnum):
    """Stable ids: they are persisted in the store's history."""

    STATUS = "status"  # any other state or status-name change
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    COMMENT = "comment"
    ASSIGNEE = "assignee"
    FIXED_IN = "fixed_in"


STATE_CHANGES = (ChangeKind.STATUS, ChangeKind.RESOLVED, ChangeKind.CLOSED, ChangeKind.REOPENED)


@dataclass(frozen=True)
class Identity:
    """Who "the reporter" is on the tracker: their own comments are not news, nor a first response."""

    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *names: str) -> Identity:
        return cls(frozenset(n.strip().casefold() for n in names if n and n.strip()))

    def is_me(self, author: str) -> bool:
        return author.strip().casefold() in self.names


@dataclass(frozen=True)
class Snapshot:
    """The last look at a ticket. `state is None`: never looked at (a ticket we just filed)."""

    state: TicketState | None = None
    status_name: str = ""
    assignee: str = ""
    comment_ids: frozenset[str] = frozenset()
    fixed_in: str = ""
    updated_at: datetime | None = None

    @classmethod
    def of(cls, status: TicketStatus, seen_ids: Iterable[str] = ()) -> Snapshot:
        # Union with what was seen before: a tracker that pages comments must not make old ones new again.
        ids = frozenset(seen_ids) | {c.id for c in status.comments}
        return cls(state=status.state, status_name=status.status_name, assignee=status.assignee,
                   comment_ids=ids, fixed_in=status.fixed_in, updated_at=status.updated_at)


@dataclass(frozen=True)
class TicketChange:
    backend: str
    key: str
    kind: ChangeKind
    at: datetime  # when it happened (a comment's own time) or when it was first seen
    old: str = ""
    new: str = ""
    author: str = ""  # comments only
    text: str = ""  # comment body
    title: str = ""
    url: str = ""
    report_id: str = ""  # "" for a ticket followed by key (support lookup)
    id: int = 0  # row id in the store's history, set once persisted


def is_stale(old: Snapshot, status: TicketStatus) -> bool:
    """An answer older than what we already saw (another process looked later): ignore it."""
    return bool(old.updated_at and status.updated_at and status.updated_at < old.updated_at)


def diff(old: Snapshot, status: TicketStatus, me: Identity, observed_at: datetime) -> list[TicketChange]:
    ref = status.ref

    def change(kind: ChangeKind, old_value: str, new_value: str) -> TicketChange:
        return TicketChange(backend=ref.backend, key=ref.key, kind=kind, at=observed_at, old=old_value,
                            new=new_value, title=status.title, url=ref.url)

    changes: list[TicketChange] = []
    kind = _state_change(old, status)
    if kind is not None:
        changes.append(change(kind, old.status_name or (old.state or TicketState.NEW).value, status.status_name))
    if status.assignee != old.assignee:
        changes.append(change(ChangeKind.ASSIGNEE, old.assignee, status.assignee))
    if status.fixed_in and status.fixed_in != old.fixed_in:
        changes.append(change(ChangeKind.FIXED_IN, old.fixed_in, status.fixed_in))
    for comment in status.comments:
        if comment.id in old.comment_ids or me.is_me(comment.author):
            continue
        at = comment.created_at if comment.created_at and comment.created_at <= observed_at else observed_at
        changes.append(TicketChange(backend=ref.backend, key=ref.key, kind=ChangeKind.COMMENT, at=at,
                                    new=comment.id, author=comment.author, text=comment.body,
                                    title=status.title, url=ref.url))
    return changes


def _state_change(old: Snapshot, status: TicketStatus) -> ChangeKind | None:
    before = old.state or TicketState.NEW  # a ticket we just filed is new
    after = status.state
    if after == TicketState.REOPENED and before != TicketState.REOPENED:
        return ChangeKind.REOPENED
    if before in DONE_STATES and after not in DONE_STATES:
        return ChangeKind.REOPENED  # trackers without a "Reopened" status just go back to open
    if after != before:
        return ChangeKind.RESOLVED if after == TicketState.RESOLVED else (
            ChangeKind.CLOSED if after == TicketState.CLOSED else ChangeKind.STATUS)
    # Same state, other name ("In Progress" -> "Feedback"); an unknown old name is the filing baseline.
    if old.status_name and status.status_name != old.status_name:
        return ChangeKind.STATUS
    return None
