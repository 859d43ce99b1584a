"""The CLI's side of tracking: `reporter-app stats`, `reporter-app follow KEY`, SLA in `reporter-app status`.

Each verb returns an exit code (0 ok, 1 failure with one line on stderr, 2 usage) and writes its
output to `out`; `reporter_app/cli.py` wires them in.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TextIO

from reporter_app.clock import utc_iso
from reporter_app.config.schema import parse_duration
from reporter_app.status import ReportStatus
from reporter_app.tracking.service import FollowError, Tracking, TrackingContext
from reporter_app.tracking.sla import SlaSummary
from reporter_app.tracking.stats import compute_stats, format_csv, format_text
from reporter_app.tracking.store import STORE_FILE, TrackedTicket

FORMATS = ("text", "json", "csv")


def stats_command(ctx: TrackingContext, since: datetime | None, fmt: str, out: TextIO) -> int:
    if fmt not in FORMATS:
        print(f"reporter-app: unknown format {fmt!r} (use {', '.join(FORMATS)})", file=sys.stderr)
        return 2
    tracking = _tracking(ctx)
    if tracking is None:
        return 1
    try:
        tracking.refresh()  # one batched look per backend, so the figures are today's
        tickets = tracking.tickets()
        _note_failures(tickets)
        report = compute_stats(tickets, tracking.policy, ctx.clock.now(), since)
    finally:
        tracking.close()
    if fmt == "json":
        json.dump(report.to_json(), out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        out.write(format_csv(report))
    else:
        out.write(format_text(report))
    return 0


def follow_command(ctx: TrackingContext, ticket_key: str, out: TextIO) -> int:
    """Support lookup: follow any ticket by key; it is polled and notified like one's own from now on."""
    tracking = _tracking(ctx)
    if tracking is None:
        return 1
    try:
        already = tracking.store.find(ticket_key) is not None
        ticket = tracking.follow(ticket_key)
        summary = tracking.sla(ticket)
    except FollowError as exc:
        print(f"reporter-app: {exc}", file=sys.stderr)
        return 1
    finally:
        tracking.close()
    verb = "Already following" if already else "Now following"
    print(f"{verb} {ticket.key}: {ticket.title}", file=out)
    for line in describe_ticket(ticket, summary):
        print(f"  {line}", file=out)
    return 0


def sla_for_status_rows(ctx: TrackingContext, rows: Sequence[ReportStatus]) -> dict[str, SlaSummary]:
    """SLA of each filed row of `reporter-app status`, by ticket key.

    The rows' fresh ticket statuses are recorded first (as a poll would), so the first response
    and resolution times are current even when the tray app is not running; the changes stay
    undelivered for the tray to announce. Returns {} if tracking cannot be opened.
    """
    tracking = _tracking(ctx, quiet=True)
    if tracking is None:
        return {}
    try:
        tracking.sync_outbox()
        now = ctx.clock.now()
        for row in rows:
            if row.ticket is not None:
                tracking.observe(row.ticket, now)
        result: dict[str, SlaSummary] = {}
        for row in rows:
            ticket = tracking.store.find(row.key) if row.key else None
            if ticket is not None:
                result[row.key] = tracking.sla(ticket, now)
        return result
    finally:
        tracking.close()


def describe_ticket(ticket: TrackedTicket, summary: SlaSummary) -> list[str]:
    """The lines `follow` (and a ticket view) shows under the title."""
    snapshot = ticket.snapshot
    state = f"{snapshot.status_name} ({snapshot.state.value})" if snapshot.state else "not looked at yet"
    lines = [f"status: {state}" + (f", assigned to {snapshot.assignee}" if snapshot.assignee else ", unassigned")]
    if snapshot.fixed_in:
        lines.append(f"fixed in: {snapshot.fixed_in}")
    if ticket.priority:
        lines.append(f"SLA ({ticket.priority}): first response {summary.first_response.text()}; "
                     f"resolution {summary.resolution.text()}")
    else:
        lines.append("SLA: no priority known")
    if ticket.url:
        lines.append(ticket.url)
    return lines


_RELATIVE = re.compile(r"(\d+[wdhm])+")


def parse_since(text: str, now: datetime) -> datetime:
    """`--since` values: "30d" / "2w" / "12h" back from now, a date "2026-01-01" (UTC midnight), or an
    ISO date-time. Raises ValueError with a usage message."""
    value = text.strip()
    if _RELATIVE.fullmatch(value.lower()):
        duration = parse_duration(value)
        return now - (duration.delta if duration else timedelta(0))
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since {text!r}: expected like 30d, 2w, 2026-01-01 or 2026-01-01T09:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _tracking(ctx: TrackingContext, quiet: bool = False) -> Tracking | None:
    try:
        return Tracking(ctx)
    except ValueError as exc:  # the business calendar's settings
        problem = str(exc)
    except (OSError, sqlite3.Error) as exc:  # a read-only or full data dir
        problem = f"{ctx.paths.data_dir / STORE_FILE}: cannot open the tracking store: {exc}"
    if not quiet:
        print(f"reporter-app: {problem}", file=sys.stderr)
    return None


def _note_failures(tickets: list[TrackedTicket]) -> None:
    failed = [t for t in tickets if t.last_error]
    if failed:
        print(f"note: {len(failed)} ticket(s) could not be refreshed ({failed[0].last_error}); "
              f"their figures are from {utc_iso(failed[0].seen_at) if failed[0].seen_at else 'never'}",
              file=sys.stderr)
