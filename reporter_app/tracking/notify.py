"""Changes grouped into tray notices: pure, so the wording is tested without a tray.

A burst is one notice: all changes to one ticket in one poll (an engineer who assigns, comments
and moves a ticket in one go) make a single notice, most important line first. When several
tickets change at once, beyond `max_notices` they collapse into one summary, because a stack
of popups is read as noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reporter_app.tracking.changes import ChangeKind, TicketChange

# Most important first: what the notice's headline says.
IMPORTANCE = (ChangeKind.REOPENED, ChangeKind.FIXED_IN, ChangeKind.CLOSED, ChangeKind.RESOLVED, ChangeKind.STATUS,
              ChangeKind.COMMENT, ChangeKind.ASSIGNEE)
EXCERPT_CHARS = 140


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    keys: tuple[str, ...]  # ticket keys, in order
    report_ids: tuple[str, ...]  # what a click opens in My reports ("" for a ticket followed by key)
    kinds: tuple[ChangeKind, ...]
    change_ids: tuple[int, ...]


def describe(change: TicketChange) -> str:
    """One line for one change, in the reporter's words."""
    key = change.key
    if change.kind == ChangeKind.REOPENED:
        return f"{key} was reopened" + (f" ({change.new})" if change.new else "")
    if change.kind == ChangeKind.FIXED_IN:
        return f"{key} is fixed in version {change.new}: update to get it"
    if change.kind == ChangeKind.RESOLVED:
        return f"{key} was resolved" + (f" ({change.new})" if change.new and change.new != "Resolved" else "")
    if change.kind == ChangeKind.CLOSED:
        return f"{key} was closed" + (f" ({change.new})" if change.new and change.new != "Closed" else "")
    if change.kind == ChangeKind.STATUS:
        return f"{key} is now {change.new or 'changed'}"
    if change.kind == ChangeKind.ASSIGNEE:
        return f"{key} is assigned to {change.new}" if change.new else f"{key} is no longer assigned"
    return f"{change.author or 'Someone'} commented on {key}: {excerpt(change.text)}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def group_notices(changes: Iterable[TicketChange], max_notices: int = 3) -> list[Notice]:
    by_ticket: dict[tuple[str, str], list[TicketChange]] = {}
    for change in changes:
        by_ticket.setdefault((change.backend, change.key), []).append(change)
    notices = [_ticket_notice(group) for group in by_ticket.values()]
    if len(notices) <= max_notices:
        return notices
    return [Notice(
        title=f"{len(notices)} of your tickets changed",
        body="\n".join(n.body.splitlines()[0] for n in notices),
        keys=tuple(k for n in notices for k in n.keys),
        report_ids=tuple(r for n in notices for r in n.report_ids),
        kinds=tuple(k for n in notices for k in n.kinds),
        change_ids=tuple(i for n in notices for i in n.change_ids),
    )]


def _ticket_notice(group: list[TicketChange]) -> Notice:
    ordered = sorted(group, key=lambda c: (IMPORTANCE.index(c.kind), c.at, c.id))
    first = ordered[0]
    title = f"{first.key}: {first.title}" if first.title else first.key
    return Notice(title=title, body="\n".join(describe(c) for c in ordered), keys=(first.key,),
                  report_ids=(first.report_id,), kinds=tuple(c.kind for c in ordered),
                  change_ids=tuple(c.id for c in ordered))
