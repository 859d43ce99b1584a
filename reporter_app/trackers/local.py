"""The embedded default tracker: a folder of tickets, no server, works offline.

    <folder>/LOCAL-1/ticket.json          key, title, description, status, comments, assignee...
    <folder>/LOCAL-1/attachments/...      the bundle's files, as filed
    <folder>/LOCAL-1/occurrences/<id>.json one per "+1" (named by report id, so a retry is harmless), with the
                                           count of distinct installations ("installation" tags, as in
                                           ticket.json: trackers/installations.py)

A ticket is assembled under a temporary name and renamed to the next free key; the rename
either wins the key or fails, so several machines may share the folder without a server.
Engineers (or tests) change a ticket's status with `update()` or by editing ticket.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock, parse_utc_iso, utc_iso
from reporter_app.config.options import Option
from reporter_app.fsutil import atomic_write_text, exclusive_lock
from reporter_app.model import Report
from reporter_app.render import plain_text
from reporter_app.trackers.base import (
    CheckResult,
    Comment,
    Limits,
    RefusedError,
    TicketRef,
    TicketState,
    TicketStatus,
    Tracker,
    TrackerContext,
    TransientError,
)
from reporter_app.trackers.installations import InstallationCount, report_tag

TICKET_FILE = "ticket.json"
# The tracker's own status names, and what each means in the normalised vocabulary.
STATUS_STATES = {
    "New": TicketState.NEW,
    "In Progress": TicketState.IN_PROGRESS,
    "Resolved": TicketState.RESOLVED,
    "Closed": TicketState.CLOSED,
    "Reopened": TicketState.REOPENED,
}


class LocalTracker(Tracker):
    name = "local"
    options = (
        Option("folder", str, "", "Folder that holds the tickets; empty means <data dir>/local-tracker. "
               "May be a shared network folder."),
        Option("key_prefix", str, "LOCAL", "Ticket keys are <prefix>-1, <prefix>-2, ..."),
    )

    def __init__(self, context: TrackerContext) -> None:
        folder = str(context.settings.get("folder") or "")
        self.folder = Path(folder).expanduser() if folder else context.data_dir / "local-tracker"
        self.prefix = str(context.settings.get("key_prefix") or "LOCAL")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.prefix):
            raise ValueError(f"tracker.key_prefix {self.prefix!r} must be letters, digits and _ (e.g. LOCAL)")
        self.clock: Clock = context.clock or SystemClock()
        self._key_pattern = re.compile(rf"{re.escape(self.prefix)}-(\d+)")

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return [CheckResult("tracker", False, f"local folder {self.folder} is not writable: {exc.strerror or exc}")]
        return [CheckResult("tracker", True, f"local folder {self.folder} ({len(self._ticket_dirs())} tickets)")]

    def limits(self) -> Limits:
        return Limits()

    def find(self, key: str) -> TicketRef | None:
        for path in self._ticket_dirs():
            ticket = self._read(path)
            if ticket and key in (ticket.get("idempotency_key"), ticket.get("fingerprint")) and key:
                return self._ref(path.name)
        return None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        self._ensure_folder()
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            missing = self._copy_attachments(bundle, tmp / "attachments")
            ticket = self._new_ticket(report, missing)
            (tmp / TICKET_FILE).write_text(json.dumps(ticket, indent=2, ensure_ascii=False), encoding="utf-8")
            return self._ref(self._claim_key(tmp))
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise TransientError(f"local folder {self.folder}: {exc.strerror or exc}") from exc

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        path = self.folder / ref.key
        if not (path / TICKET_FILE).is_file():
            raise RefusedError(f"{ref.key} does not exist in {self.folder}")
        own = report_tag(report)
        seen = _installations(self._read(path) or {}, path, own, leave_out=report.id)
        occurrence = {"report_id": report.id, "at": utc_iso(report.created_at or self.clock.now()),
                      "reporter": report.reporter.name, "title": report.title, "installation": own,
                      "distinct_installations": seen.seen, "distinct_installations_exact": seen.exact}
        try:
            atomic_write_text(path / "occurrences" / f"{report.id}.json", json.dumps(occurrence, indent=2))
        except OSError as exc:
            raise TransientError(f"local folder {self.folder}: {exc.strerror or exc}") from exc

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        found: dict[str, TicketStatus] = {}
        for ref in refs:
            path = self.folder / ref.key
            ticket = self._read(path)
            if ticket is None:
                continue
            found[ref.key] = self._status(ref, path, ticket)
        return found

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        try:
            self.update(ref.key, comment=text, author=author or "reporter")
        except OSError as exc:
            raise TransientError(f"local folder {self.folder}: {exc.strerror or exc}") from exc

    # -- for engineers and tests: what a human does in a real tracker ------------------------
    def update(self, key: str, *, status: str | None = None, comment: str | None = None,
               author: str = "engineer", assignee: str | None = None, fixed_in: str | None = None) -> None:
        path = self.folder / key
        with exclusive_lock(path / ".lock"):
            ticket = self._read(path)
            if ticket is None:
                raise RefusedError(f"{key} does not exist in {self.folder}")
            now = utc_iso(self.clock.now())
            if status is not None:
                if status not in STATUS_STATES:
                    raise ValueError(f"unknown status {status!r} (known: {', '.join(STATUS_STATES)})")
                ticket["status"] = status
            if comment:
                comments = ticket.setdefault("comments", [])
                comments.append({"id": str(len(comments) + 1), "author": author, "body": comment, "created_at": now})
            if assignee is not None:
                ticket["assignee"] = assignee
            if fixed_in is not None:
                ticket["fixed_in"] = fixed_in
            ticket["updated_at"] = now
            atomic_write_text(path / TICKET_FILE, json.dumps(ticket, indent=2, ensure_ascii=False))

    # -- internals -------------------------------------------------------------------------
    def _ensure_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransientError(f"local folder {self.folder}: {exc.strerror or exc}") from exc

    def _ticket_dirs(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        dirs = [p for p in self.folder.iterdir() if self._key_pattern.fullmatch(p.name)]
        return sorted(dirs, key=lambda p: int(p.name.rsplit("-", 1)[1]))

    def _claim_key(self, tmp: Path) -> str:
        number = max((int(p.name.rsplit("-", 1)[1]) for p in self._ticket_dirs()), default=0) + 1
        while True:
            target = self.folder / f"{self.prefix}-{number}"
            try:
                if target.exists():
                    raise FileExistsError(target)
                os.rename(tmp, target)  # atomic: loses only to a ticket that is already complete
                return target.name
            except (FileExistsError, IsADirectoryError):
                number += 1
            except OSError as exc:
                if exc.errno in (39, 66, 17):  # ENOTEMPTY (Linux, macOS), EEXIST: someone took it
                    number += 1
                    continue
                raise

    def _copy_attachments(self, bundle: Bundle, target: Path) -> list[str]:
        missing: list[str] = []
        for attachment in bundle.report.attachments:
            source = bundle.file(attachment)
            if not source.is_file():
                missing.append(attachment.path)
                continue
            dest = target / attachment.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        return missing

    def _new_ticket(self, report: Report, missing: list[str]) -> dict[str, Any]:
        now = utc_iso(self.clock.now())
        description = plain_text(report)
        if missing:
            description += "\nMissing from the report on disk (not attached): " + ", ".join(missing) + "\n"
        return {
            "title": report.title,
            "description": description,
            "status": "New",
            "assignee": "",
            "fixed_in": "",
            "impact": report.impact.value,
            "reach": report.reach.value,
            "priority": report.priority.value,
            "component": report.component,
            "reporter": {"name": report.reporter.name, "email": report.reporter.email,
                         "role": report.reporter.role.value},
            "idempotency_key": report.idempotency_key,
            "fingerprint": report.fingerprint,
            "installation": report_tag(report),
            "attachments": [a.path for a in report.attachments if a.path not in missing],
            "comments": [],
            "created_at": now,
            "updated_at": now,
        }

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads((path / TICKET_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _ref(self, key: str) -> TicketRef:
        return TicketRef(backend=self.name, key=key, url=(self.folder / key).resolve().as_uri())

    def _status(self, ref: TicketRef, path: Path, ticket: dict[str, Any]) -> TicketStatus:
        name = str(ticket.get("status", "New"))
        comments = [
            Comment(id=str(c.get("id", i)), author=str(c.get("author", "")), body=str(c.get("body", "")),
                    created_at=_parse_time(c.get("created_at")))
            for i, c in enumerate(ticket.get("comments") or [])
            if isinstance(c, dict)
        ]
        occurrences_dir = path / "occurrences"
        extra = len(list(occurrences_dir.glob("*.json"))) if occurrences_dir.is_dir() else 0
        installations = _installations(ticket, path)
        return TicketStatus(
            ref=ref, state=STATUS_STATES.get(name, TicketState.IN_PROGRESS), status_name=name,
            assignee=str(ticket.get("assignee", "")), comments=comments, fixed_in=str(ticket.get("fixed_in", "")),
            updated_at=_parse_time(ticket.get("updated_at")), title=str(ticket.get("title", "")),
            priority=str(ticket.get("priority", "")), occurrences=1 + extra,
            description=str(ticket.get("description", "")), created_at=_parse_time(ticket.get("created_at")),
            installations=installations.seen, installations_exact=installations.exact,
        )


def _installations(ticket: dict[str, Any], path: Path, own: str | None = None,
                   leave_out: str = "") -> InstallationCount:
    """Distinct "installation" tags of the ticket and its occurrence files, plus `own`, the tag of the occurrence
    being added (`leave_out`: its report id, whose file a retry finds already written).

    A ticket or occurrence written before the tag existed (no "installation" key, or "") makes it a lower bound.
    """
    tags = [str(ticket.get("installation") or "")]
    folder = path / "occurrences"
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if leave_out and file.stem == leave_out:
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None  # unreadable: counted as unattributed, never guessed
        tags.append(str(data.get("installation") or "") if isinstance(data, dict) else "")
    if own is not None:
        tags.append(own)
    return InstallationCount.of(tags, unattributed=not all(tags))


def _parse_time(value: object) -> Any:
    try:
        return parse_utc_iso(str(value)) if value else None
    except ValueError:
        return None
