"""A Redmine issue (plus its journals) as a normalised TicketStatus.

Status names vary per installation, so the default workflow's names are mapped and anything
else falls back on the status's `is_closed` flag. "Reopened" is not a Redmine status: it is
read from the journals, when the last status change went from a done status back to an open one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reporter_app.clock import parse_utc_iso
from reporter_app.trackers.attribution import split_author
from reporter_app.trackers.base import Comment, TicketRef, TicketState, TicketStatus
from reporter_app.trackers.installations import count_installations
from reporter_app.trackers.redmine_meta import Metadata
from reporter_app.trackers.redmine_text import OCCURRENCE_PREFIX

STATE_BY_NAME = {
    "new": TicketState.NEW,
    "in progress": TicketState.IN_PROGRESS,
    "feedback": TicketState.IN_PROGRESS,  # waiting on the reporter: still being worked on
    "resolved": TicketState.RESOLVED,
    "closed": TicketState.CLOSED,
    "rejected": TicketState.CLOSED,
}
DONE = (TicketState.RESOLVED, TicketState.CLOSED)


def state_of(name: str, is_closed: bool) -> TicketState:
    known = STATE_BY_NAME.get(name.strip().lower())
    if known is not None:
        return known
    return TicketState.CLOSED if is_closed else TicketState.IN_PROGRESS


def ticket_status(ref: TicketRef, issue: Mapping[str, Any], journals: list[dict[str, Any]],
                  meta: Metadata) -> TicketStatus:
    status = issue.get("status") or {}
    status_id = int(status.get("id", 0))
    known = meta.statuses.get(status_id)
    name = str(status.get("name") or (known.name if known else ""))
    is_closed = bool(status.get("is_closed", known.is_closed if known else False))
    state = state_of(name, is_closed)
    if state not in DONE and _reopened(journals, meta):
        state = TicketState.REOPENED
    comments: list[Comment] = []
    occurrences = 1
    description = str(issue.get("description") or "").replace("\r\n", "\n")
    installations = count_installations([description, *(str(j.get("notes") or "") for j in journals)])
    for journal in journals:
        notes = str(journal.get("notes") or "").strip()
        if not notes:
            continue
        if notes.startswith(OCCURRENCE_PREFIX):
            occurrences += 1
            continue
        user = journal.get("user") or {}
        author, body = str(user.get("name", "")), notes.replace("\r\n", "\n")
        if user.get("id") == meta.user_id:
            # Notes through our key: news only when they name someone (a colleague sharing the key);
            # the poller then leaves out the reporter's own by name.
            text, named = split_author(body)
            if named is None:
                continue
            author, body = named, text
        comments.append(Comment(id=str(journal.get("id", "")), author=author, body=body,
                                created_at=_time(journal.get("created_on"))))
    return TicketStatus(
        ref=ref, state=state, status_name=name,
        assignee=str((issue.get("assigned_to") or {}).get("name", "")),
        comments=comments,
        fixed_in=str((issue.get("fixed_version") or {}).get("name", "")),
        updated_at=_time(issue.get("updated_on")),
        title=str(issue.get("subject", "")),
        priority=str((issue.get("priority") or {}).get("name", "")),
        occurrences=occurrences,
        description=description,
        created_at=_time(issue.get("created_on")),
        installations=installations.seen, installations_exact=installations.exact,
    )


def _reopened(journals: list[dict[str, Any]], meta: Metadata) -> bool:
    last: tuple[str, str] | None = None
    for journal in journals:  # Redmine returns them oldest first
        for detail in journal.get("details") or []:
            if detail.get("property") == "attr" and detail.get("name") == "status_id":
                last = (str(detail.get("old_value") or ""), str(detail.get("new_value") or ""))
    if last is None:
        return False
    return _state_of_id(last[0], meta) in DONE and _state_of_id(last[1], meta) not in DONE


def _state_of_id(status_id: str, meta: Metadata) -> TicketState | None:
    info = meta.statuses.get(int(status_id)) if status_id.isdigit() else None
    return state_of(info.name, info.is_closed) if info else None


def _time(value: object) -> Any:
    try:
        return parse_utc_iso(str(value)) if value else None
    except ValueError:
        return None
