"""My reports, without widgets: the rows (outbox + tracker statuses + SLA + comments), tickets followed
by key, "add information", and which comments the reporter has already read.

Everything here talks to the tracker, the keyring or SQLite: it runs on the core worker only.
"New" comments are the ones not yet shown in the details pane; which ones were shown is kept in a
small JSON file in the data dir (comment ids per ticket key), so the badge survives a restart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reporter_app.fsutil import atomic_write_text

log = logging.getLogger(__name__)
SEEN_FILE = "my-reports-seen.json"
STATE_WORDS = {
    "queued": "Waiting to be sent",
    "sending": "Sending…",
    "waiting_retry": "Will retry",
    "needs_attention": "Needs attention",
}


@dataclass(frozen=True)
class CommentView:
    id: str
    author: str
    body: str
    when: str


@dataclass(frozen=True)
class Row:
    """One line of the table, computed on the worker (plain values only)."""

    report_id: str
    key: str
    url: str
    title: str
    status: str
    priority: str
    updated: str
    comments: int
    outbox_state: str
    reason: str  # why it waits, the tracker's refusal, or why the status could not be read
    backend: str = ""
    sla: str = ""
    new_comments: int = 0
    comment_list: tuple[CommentView, ...] = ()
    assignee: str = ""
    followed: bool = False  # looked up by key, not filed from this machine
    details: tuple[str, ...] = field(default=())
    spread: str = ""  # "3 occurrences on 2 machines" (TicketStatus.occurrence_summary); "" for a lone report


def when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


class SeenComments:
    """Comment ids already shown, per ticket key."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SEEN_FILE

    def load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): [str(i) for i in v] for k, v in data.items()} if isinstance(data, dict) else {}

    def mark(self, key: str, ids: list[str]) -> None:
        data = self.load()
        data[key] = sorted(set(data.get(key, [])) | set(ids))
        atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True))


def _comments(ticket: Any) -> tuple[CommentView, ...]:
    return tuple(CommentView(c.id, c.author, c.body, when(c.created_at)) for c in (ticket.comments if ticket else ()))


def load_rows(ctx: Any) -> list[Row]:
    """Core worker: outbox rows joined with the tracker's statuses, their SLA, and tickets followed by key."""
    from reporter_app.status import collect_statuses
    from reporter_app.tracking.commands import sla_for_status_rows

    tracker, tracker_error = None, ""
    try:
        tracker = ctx.tracker()
    except Exception as exc:  # missing credentials etc.: still list the outbox, say why statuses are missing
        tracker_error = str(exc)
    statuses = list(reversed(collect_statuses(ctx.outbox, tracker, tracker_error=tracker_error)))
    try:
        slas = sla_for_status_rows(ctx, statuses)
    except Exception as exc:  # the SLA column is a bonus: never lose the list for it
        log.error("SLA unavailable: %s", exc)
        slas = {}
    seen = SeenComments(ctx.paths.data_dir).load()
    rows = []
    for status in statuses:
        entry, ticket = status.entry, status.ticket
        state = entry.state.value if entry else ""
        reason = entry.last_error if entry and state != "filed" else status.error
        if state == "waiting_retry" and entry and entry.next_attempt_at:
            reason = f"{reason} (next try {when(entry.next_attempt_at)})".strip()
        comments = _comments(ticket)
        rows.append(Row(
            report_id=entry.id if entry else "", key=status.key,
            url=(ticket.ref.url if ticket else (entry.ticket_url if entry else "")) or "",
            title=(entry.title if entry else "") or (ticket.title if ticket else ""),
            status=ticket.status_name if ticket else STATE_WORDS.get(state, state or "unknown"),
            priority=ticket.priority if ticket else "",
            updated=when(ticket.updated_at if ticket and ticket.updated_at else (entry.updated_at if entry else None)),
            comments=len(comments), outbox_state=state, reason=reason,
            backend=ticket.ref.backend if ticket else (tracker.name if tracker else ""),
            sla=slas[status.key].short() if status.key in slas else "",
            new_comments=sum(1 for c in comments if c.id not in set(seen.get(status.key, []))),
            comment_list=comments, assignee=ticket.assignee if ticket else "",
            spread=ticket.occurrence_summary if ticket else "",
        ))
    return rows + _followed_rows(ctx, tracker, {row.key for row in rows if row.key}, seen)


def _followed_rows(ctx: Any, tracker: Any, known: set[str], seen: dict[str, list[str]]) -> list[Row]:
    """Tickets support staff looked up by key: listed after one's own, with the tracker's fresh status."""
    from reporter_app.trackers.base import TicketRef
    from reporter_app.tracking.service import Tracking

    try:
        tracking = Tracking(ctx)
    except Exception as exc:  # noqa: BLE001 - no tracking store: one's own reports are still listed
        log.error("tracking store unavailable: %s", exc)
        return []
    try:
        tickets = [t for t in tracking.tickets() if not t.report_id and t.key not in known]
        fresh = {}
        if tickets and tracker is not None:
            try:
                fresh = tracker.statuses([TicketRef(t.backend, t.key, t.url) for t in tickets])
            except Exception as exc:  # noqa: BLE001 - shown from the last look instead
                log.info("followed tickets: %s", exc)
        rows = []
        for ticket in tickets:
            status = fresh.get(ticket.key)
            comments = _comments(status)
            rows.append(Row(
                report_id="", key=ticket.key, url=ticket.url, title=ticket.title,
                status=status.status_name if status else ticket.snapshot.status_name,
                priority=ticket.priority, updated=when(status.updated_at if status else ticket.snapshot.updated_at),
                comments=len(comments), outbox_state="", reason=ticket.last_error, backend=ticket.backend,
                sla=tracking.sla(ticket).short() if ticket.priority else "",
                new_comments=sum(1 for c in comments if c.id not in set(seen.get(ticket.key, []))),
                comment_list=comments, assignee=status.assignee if status else "", followed=True,
                spread=status.occurrence_summary if status else "",
            ))
        return rows
    finally:
        tracking.close()


def look_up(ctx: Any, key: str) -> str:
    """Core worker: follow a ticket by key (support staff); raises FollowError with a one-line reason."""
    from reporter_app.tracking.commands import describe_ticket
    from reporter_app.tracking.service import Tracking

    tracking = Tracking(ctx)
    try:
        ticket = tracking.follow(key.strip())
        return "\n".join([f"{ticket.key}: {ticket.title}", *describe_ticket(ticket, tracking.sla(ticket))])
    finally:
        tracking.close()


def add_information(ctx: Any, row: Row, text: str) -> None:
    """Core worker: a comment on the row's ticket, signed with the reporter's name."""
    from reporter_app.trackers.base import TicketRef

    reporter = ctx.reporter()
    author = reporter.name or reporter.email
    ctx.tracker().comment(TicketRef(row.backend or ctx.backend, row.key, row.url), text, author=author)
