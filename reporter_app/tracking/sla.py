"""SLA clocks: per priority a first-response and a resolution target, "due in" or "breached".

Targets come from `[sla.P1]`..`[sla.P4]` (config `Config.sla()`); the defaults are P1 1h/24h,
P2 4h/3d, P3 2bd/14d, P4 none. A clock starts when the ticket was filed. The first response is
the first comment or transition by someone other than the reporter; resolution is reaching
resolved/closed (a reopen restarts the wait, measured still from filing). Everything takes
`now` as an argument: the callers own the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from reporter_app.clock import utc_iso
from reporter_app.config.schema import Duration, SlaTarget, parse_duration
from reporter_app.model import Priority
from reporter_app.tracking.business_hours import BusinessCalendar, calendar_from_config
from reporter_app.tracking.store import TrackedTicket

DEFAULT_TARGETS: dict[str, SlaTarget] = {
    level: SlaTarget(parse_duration(first), parse_duration(resolution))
    for level, (first, resolution) in {"P1": ("1h", "24h"), "P2": ("4h", "3d"), "P3": ("2bd", "14d"),
                                       "P4": ("", "")}.items()
}
NO_TARGET = SlaTarget(None, None)


class ClockState(StrEnum):
    NO_TARGET = "no_target"  # P4 by default, or no priority known
    UNKNOWN = "unknown"  # the filing time is not known (a ticket followed by key)
    DUE = "due"  # running, deadline ahead
    BREACHED = "breached"  # running or stopped, after the deadline
    MET = "met"  # stopped before the deadline


@dataclass(frozen=True)
class SlaClock:
    name: str  # "first_response" | "resolution"
    target: Duration | None
    state: ClockState
    filed_at: datetime | None = None
    deadline: datetime | None = None
    stopped_at: datetime | None = None  # the response or resolution; None while running
    now: datetime | None = None

    @property
    def took(self) -> timedelta | None:
        """Wall time from filing to the stop (for stats); None while running or without a filing time."""
        if self.stopped_at is None or self.filed_at is None:
            return None
        return self.stopped_at - self.filed_at

    def text(self) -> str:
        """What My reports and `reporter-app status` show."""
        if self.state == ClockState.NO_TARGET:
            return "no target"
        if self.state == ClockState.UNKNOWN:
            return "unknown (filing time not known)"
        assert self.deadline is not None and self.filed_at is not None
        if self.stopped_at is not None:
            late = self.stopped_at - self.deadline
            verdict = "met" if self.state == ClockState.MET else f"breached by {format_span(late)}"
            return f"{verdict} (took {format_span(self.stopped_at - self.filed_at)})"
        assert self.now is not None
        if self.state == ClockState.DUE:
            return f"due in {format_span(self.deadline - self.now)}"
        return f"breached {format_span(self.now - self.deadline)} ago"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target.text if self.target else None, "state": self.state.value,
                "deadline": utc_iso(self.deadline) if self.deadline else None,
                "stopped_at": utc_iso(self.stopped_at) if self.stopped_at else None, "text": self.text()}


@dataclass(frozen=True)
class SlaSummary:
    priority: str
    first_response: SlaClock
    resolution: SlaClock

    def short(self) -> str:
        """One column: the clock that matters now (a running one, else the resolution), and a late answer."""
        text = "-" if self.resolution.state == ClockState.NO_TARGET else f"resolution {self.resolution.text()}"
        for clock in (self.first_response, self.resolution):
            if clock.stopped_at is None and clock.state in (ClockState.DUE, ClockState.BREACHED):
                label = "response" if clock.name == "first_response" else "resolution"
                text = f"{label} {clock.text()}"
                break
        if self.first_response.state == ClockState.BREACHED and self.first_response.stopped_at is not None:
            text += "; first response was late"
        return text

    @property
    def breached(self) -> bool:
        return ClockState.BREACHED in (self.first_response.state, self.resolution.state)

    def to_json(self) -> dict[str, Any]:
        return {"priority": self.priority or None, "first_response": self.first_response.to_json(),
                "resolution": self.resolution.to_json(), "breached": self.breached, "summary": self.short()}


class SlaPolicy:
    def __init__(self, targets: Mapping[str, SlaTarget] | None = None,
                 calendar: BusinessCalendar | None = None) -> None:
        self.targets = dict(DEFAULT_TARGETS if targets is None else targets)
        self.calendar = calendar or BusinessCalendar()

    @classmethod
    def from_config(cls, config: Any) -> SlaPolicy:
        return cls({p.value: config.sla(p) for p in Priority}, calendar_from_config(config))

    def target(self, priority: str) -> SlaTarget:
        return self.targets.get(priority, NO_TARGET)

    def deadline(self, start: datetime, duration: Duration) -> datetime:
        if duration.business_days:
            return self.calendar.add(start, self.calendar.day_length * duration.business_days)
        return start + duration.delta

    def evaluate(self, ticket: TrackedTicket, now: datetime) -> SlaSummary:
        return self.evaluate_times(ticket.priority, ticket.filed_at, now, first_response_at=ticket.first_response_at,
                                   resolved_at=ticket.resolved_at)

    def evaluate_times(self, priority: str, filed_at: datetime | None, now: datetime, *,
                       first_response_at: datetime | None = None,
                       resolved_at: datetime | None = None) -> SlaSummary:
        target = self.target(priority)
        # A resolution without any comment still answered the reporter.
        responded = first_response_at or resolved_at
        return SlaSummary(priority=priority,
                          first_response=self._clock("first_response", target.first_response, filed_at,
                                                     responded, now),
                          resolution=self._clock("resolution", target.resolution, filed_at, resolved_at, now))

    def _clock(self, name: str, target: Duration | None, filed_at: datetime | None, stopped_at: datetime | None,
               now: datetime) -> SlaClock:
        if target is None:
            return SlaClock(name, None, ClockState.NO_TARGET)
        if filed_at is None:
            return SlaClock(name, target, ClockState.UNKNOWN)
        deadline = self.deadline(filed_at, target)
        if stopped_at is not None:
            state = ClockState.MET if stopped_at <= deadline else ClockState.BREACHED
        else:
            state = ClockState.DUE if now <= deadline else ClockState.BREACHED
        return SlaClock(name, target, state, filed_at=filed_at, deadline=deadline, stopped_at=stopped_at, now=now)


def format_span(span: timedelta) -> str:
    """"45m", "3h 20m", "2d 4h": two units at most, enough to act on."""
    seconds = int(abs(span).total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"
