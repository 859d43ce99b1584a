"""`reporter-app stats`: how fast tickets get answered and fixed, per priority, from the tracking store.

Times are wall-clock from filing (what the reporter lived through); SLA compliance is judged
against each target's own deadline, business days included. A clock still running counts for
compliance only once it is breached, so a fresh ticket does not make the team look late or good.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reporter_app.clock import utc_iso
from reporter_app.model import Priority
from reporter_app.tracking.incident import INCIDENT_PRIORITIES
from reporter_app.tracking.sla import ClockState, SlaClock, SlaPolicy, format_span
from reporter_app.tracking.store import TrackedTicket

ALL = "all"
UNKNOWN_PRIORITY = "none"


@dataclass(frozen=True)
class Spread:
    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, spans: Iterable[timedelta]) -> Spread:
        values = sorted(spans)
        if not values:
            return cls(0, None, None)
        seconds = [v.total_seconds() for v in values]
        # Nearest rank: the p90 is a time some ticket really took, not an interpolation.
        p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
        return cls(len(values), timedelta(seconds=statistics.median(seconds)), p90)

    def text(self) -> str:
        if not self.count or self.median is None or self.p90 is None:
            return "-"
        return f"{format_span(self.median)} / {format_span(self.p90)}"

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "median_seconds": _seconds(self.median), "p90_seconds": _seconds(self.p90)}


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.hits / self.total if self.total else None

    def text(self) -> str:
        return "-" if not self.total else f"{round(100 * self.hits / self.total)}% ({self.hits}/{self.total})"

    def to_json(self) -> dict[str, Any]:
        return {"hits": self.hits, "total": self.total, "rate": self.rate}


@dataclass(frozen=True)
class PriorityStats:
    priority: str  # "P1".."P4", "none", or "all"
    tickets: int
    first_response: Spread
    resolution: Spread
    first_response_sla: Ratio  # met / judged
    resolution_sla: Ratio
    reopened: Ratio  # reopened at least once / resolved at least once
    fix: Spread  # filed -> resolved, for tickets the tracker also says were released
    deploy: Spread  # resolved -> released in a version

    def to_json(self) -> dict[str, Any]:
        return {"priority": self.priority, "tickets": self.tickets,
                "first_response": self.first_response.to_json(), "resolution": self.resolution.to_json(),
                "first_response_sla": self.first_response_sla.to_json(),
                "resolution_sla": self.resolution_sla.to_json(), "reopen": self.reopened.to_json(),
                "fix": self.fix.to_json(), "deploy": self.deploy.to_json()}


@dataclass(frozen=True)
class RootCauseGap:
    key: str
    title: str
    priority: str
    status: str
    known: bool  # False: the tracker showed nothing to read a root cause from

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.key, "title": self.title, "priority": self.priority, "status": self.status,
                "readable": self.known}


@dataclass(frozen=True)
class StatsReport:
    generated_at: datetime
    since: datetime | None
    rows: list[PriorityStats]
    root_cause_gaps: list[RootCauseGap]
    left_out: int  # followed tickets without a known filing time

    def to_json(self) -> dict[str, Any]:
        return {"generated_at": utc_iso(self.generated_at), "since": utc_iso(self.since) if self.since else None,
                "priorities": [r.to_json() for r in self.rows],
                "resolved_without_root_cause": [g.to_json() for g in self.root_cause_gaps],
                "left_out_without_filing_time": self.left_out}


def compute_stats(tickets: Iterable[TrackedTicket], policy: SlaPolicy, now: datetime,
                  since: datetime | None = None) -> StatsReport:
    chosen: list[TrackedTicket] = []
    left_out = 0
    for ticket in tickets:
        if ticket.filed_at is None:
            left_out += 1
        elif since is None or ticket.filed_at >= since:
            chosen.append(ticket)
    levels = [p.value for p in Priority] + ([UNKNOWN_PRIORITY] if any(not t.priority for t in chosen) else [])
    rows = [_row(level, [t for t in chosen if (t.priority or UNKNOWN_PRIORITY) == level], policy, now)
            for level in levels]
    rows.append(_row(ALL, chosen, policy, now))
    gaps = [RootCauseGap(t.key, t.title, t.priority, t.snapshot.status_name, t.root_cause is not None)
            for t in chosen if t.priority in INCIDENT_PRIORITIES and t.is_done and t.root_cause is not True]
    return StatsReport(generated_at=now, since=since, rows=rows, root_cause_gaps=gaps, left_out=left_out)


def _row(level: str, tickets: list[TrackedTicket], policy: SlaPolicy, now: datetime) -> PriorityStats:
    summaries = [policy.evaluate(t, now) for t in tickets]
    fix, deploy = _release_spans(tickets)
    ever_resolved = [t for t in tickets if t.resolved_at or t.reopen_count]
    return PriorityStats(
        priority=level,
        tickets=len(tickets),
        first_response=Spread.of(_took(s.first_response for s in summaries)),
        resolution=Spread.of(_took(s.resolution for s in summaries)),
        first_response_sla=_compliance(s.first_response for s in summaries),
        resolution_sla=_compliance(s.resolution for s in summaries),
        reopened=Ratio(sum(1 for t in ever_resolved if t.reopen_count), len(ever_resolved)),
        fix=Spread.of(fix),
        deploy=Spread.of(deploy),
    )


def _release_spans(tickets: list[TrackedTicket]) -> tuple[list[timedelta], list[timedelta]]:
    """Fix time (filed -> resolved) and deploy time (resolved -> released), where the tracker named a version."""
    fix: list[timedelta] = []
    deploy: list[timedelta] = []
    for t in tickets:
        if t.filed_at and t.resolved_at and t.released_at:
            fix.append(t.resolved_at - t.filed_at)
            # A version named before the fix was done ships with it, not before it.
            deploy.append(max(timedelta(0), t.released_at - t.resolved_at))
    return fix, deploy


def _took(clocks: Iterable[SlaClock]) -> list[timedelta]:
    spans = []
    for clock in clocks:
        if clock.stopped_at is not None and clock.filed_at is not None:
            spans.append(max(timedelta(0), clock.stopped_at - clock.filed_at))
    return spans


def _compliance(clocks: Iterable[SlaClock]) -> Ratio:
    judged = [c for c in clocks if c.state in (ClockState.MET, ClockState.BREACHED)]
    return Ratio(sum(1 for c in judged if c.state == ClockState.MET), len(judged))


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()


# -- output ----------------------------------------------------------------------------------

_HEADERS = ("priority", "tickets", "1st response med/p90", "resolution med/p90", "response SLA", "resolution SLA",
            "reopened")


def format_text(report: StatsReport) -> str:
    scope = f"since {utc_iso(report.since)}" if report.since else "all time"
    total = report.rows[-1].tickets
    lines = [f"Tickets filed {scope}: {total}"]
    if report.left_out:
        lines.append(f"({report.left_out} followed ticket(s) without a known filing time left out)")
    table = [_HEADERS] + [(r.priority, str(r.tickets), r.first_response.text(), r.resolution.text(),
                           r.first_response_sla.text(), r.resolution_sla.text(), r.reopened.text())
                          for r in report.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADERS))]
    lines.append("")
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    released = [r for r in report.rows if r.fix.count]
    if released:
        lines += ["", "Fix vs deploy (tickets with a fixed-in version), median / p90:"]
        lines += [f"  {r.priority:<5} fix {r.fix.text()}, deploy {r.deploy.text()} ({r.fix.count} ticket(s))"
                  for r in released]
    lines.append("")
    if report.root_cause_gaps:
        lines.append("P1/P2 tickets resolved without a root cause filled in:")
        for gap in report.root_cause_gaps:
            unread = "" if gap.known else "  (the tracker shows no description to check)"
            lines.append(f"  {gap.key:<12} {gap.priority}  {gap.status:<12} {gap.title}{unread}")
    else:
        lines.append("Every resolved P1/P2 ticket has a root cause filled in.")
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("priority", "tickets", "first_response_count", "first_response_median_seconds",
               "first_response_p90_seconds", "resolution_count", "resolution_median_seconds", "resolution_p90_seconds",
               "first_response_sla_met", "first_response_sla_judged", "resolution_sla_met", "resolution_sla_judged",
               "reopened", "resolved_ever", "fix_count", "fix_median_seconds", "fix_p90_seconds",
               "deploy_median_seconds", "deploy_p90_seconds")


def format_csv(report: StatsReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        writer.writerow([r.priority, r.tickets, r.first_response.count, _cell(r.first_response.median),
                         _cell(r.first_response.p90), r.resolution.count, _cell(r.resolution.median),
                         _cell(r.resolution.p90), r.first_response_sla.hits, r.first_response_sla.total,
                         r.resolution_sla.hits, r.resolution_sla.total, r.reopened.hits, r.reopened.total,
                         r.fix.count, _cell(r.fix.median), _cell(r.fix.p90), _cell(r.deploy.median),
                         _cell(r.deploy.p90)])
    return buffer.getvalue()


def _cell(span: timedelta | None) -> str:
    return "" if span is None else str(int(span.total_seconds()))
