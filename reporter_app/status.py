"""What happened to my reports: outbox rows joined with the tracker's ticket status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reporter_app.clock import utc_iso
from reporter_app.outbox import Outbox, OutboxEntry, OutboxState
from reporter_app.trackers.base import TicketRef, TicketStatus, Tracker, TrackerError


@dataclass(frozen=True)
class ReportStatus:
    entry: OutboxEntry | None
    ticket: TicketStatus | None
    error: str = ""  # why the ticket's status could not be read

    @property
    def key(self) -> str:
        if self.ticket:
            return self.ticket.ref.key
        return self.entry.ticket_key if self.entry else ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.entry:
            data.update(id=self.entry.id, title=self.entry.title, outbox_state=self.entry.state.value,
                        attempts=self.entry.attempts, last_error=self.entry.last_error,
                        next_attempt_at=utc_iso(self.entry.next_attempt_at) if self.entry.next_attempt_at else None,
                        created_at=utc_iso(self.entry.created_at))
        data["ticket"] = self.key or None
        data["url"] = (self.ticket.ref.url if self.ticket else (self.entry.ticket_url if self.entry else "")) or None
        if self.ticket:
            t = self.ticket
            data.update(status=t.status_name, state=t.state.value, assignee=t.assignee, priority=t.priority,
                        comments=len(t.comments), fixed_in=t.fixed_in, occurrences=t.occurrences,
                        updated_at=utc_iso(t.updated_at) if t.updated_at else None)
            data.setdefault("title", t.title)
        if self.error:
            data["status_error"] = self.error
        return data


def collect_statuses(outbox: Outbox, tracker: Tracker | None, ticket: str | None = None,
                     tracker_error: str = "") -> list[ReportStatus]:
    entries = outbox.entries()
    if ticket:
        chosen = [e for e in entries if e.ticket_key == ticket or e.id == ticket or e.id.startswith(ticket)]
        refs = [TicketRef(backend=tracker.name if tracker else "", key=ticket)] if not chosen else []
    else:
        chosen, refs = entries, []
    refs += [TicketRef(backend=e.backend, key=e.ticket_key, url=e.ticket_url)
             for e in chosen if e.state == OutboxState.FILED and e.ticket_key]
    found: dict[str, TicketStatus] = {}
    error = tracker_error
    if tracker is not None and refs:
        try:
            found = tracker.statuses(refs)
        except TrackerError as exc:
            error = exc.message
    rows = [ReportStatus(entry=e, ticket=found.get(e.ticket_key), error=error if e.ticket_key else "")
            for e in chosen]
    if ticket and not chosen:
        rows.append(ReportStatus(entry=None, ticket=found.get(ticket), error=error))
    return rows
