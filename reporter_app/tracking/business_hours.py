"""The business-hours calendar behind business-day SLA targets ("2bd").

Calendar targets ("4h", "3d") run around the clock; business-day targets count only business
time, so "2bd" is two full business days of it: with 09:00-17:00 that is 16 working hours,
and a ticket filed Friday 16:00 is due Tuesday 16:00. Without business hours configured a
business day is a whole weekday, Monday to Friday, in the calendar's time zone.

Arithmetic is done in UTC on each day's opening window, built from local wall time, so
DST days are as long as they really are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3660  # a target further away than ten years of business days is a configuration mistake
_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class BusinessCalendar:
    opens_minute: int = 0  # minutes after local midnight
    closes_minute: int = 24 * 60
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    zone: tzinfo = timezone.utc
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not 0 <= self.opens_minute < self.closes_minute <= 24 * 60:
            raise ValueError("business hours must open before they close, within one day")
        if not self.weekdays:
            raise ValueError("at least one business day per week is needed")

    @property
    def day_length(self) -> timedelta:
        return timedelta(minutes=self.closes_minute - self.opens_minute)

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening windows in UTC, from the local day that contains `start`."""
        day = start.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS * 2):
            if day.weekday() in self.weekdays and day not in self.holidays:
                yield self._at(day, self.opens_minute), self._at(day, self.closes_minute)
            day += timedelta(days=1)
        raise ValueError("no business time in the next ten years: check sla.business_days and sla.holidays")

    def add(self, start: datetime, business_time: timedelta) -> datetime:
        """The moment when `business_time` of business time has passed since `start`."""
        remaining = business_time
        for opens, closes in self.windows(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable: windows() raises first")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments (zero if `end` is not after `start`)."""
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self.windows(start):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        return total

    def _at(self, day: date, minute: int) -> datetime:
        local = datetime.combine(day + timedelta(days=minute // (24 * 60)),
                                 time((minute % (24 * 60)) // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(timezone.utc)


def parse_hours(text: str) -> tuple[int, int]:
    """"09:00-17:00" -> (540, 1020); "" -> the whole day. "24:00" may close a day."""
    if not text.strip():
        return 0, 24 * 60
    match = _HOURS.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not business hours; expected like '09:00-17:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    opens, closes = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or opens >= 24 * 60 or closes > 24 * 60 or opens >= closes:
        raise ValueError(f"{text!r} is not business hours; expected like '09:00-17:00' (open before close)")
    return opens, closes


def calendar_from_settings(hours: str = "", days: list[str] | tuple[str, ...] = WEEKDAYS[:5], zone: str = "",
                           holidays: list[str] | tuple[str, ...] = ()) -> BusinessCalendar:
    opens, closes = parse_hours(hours)
    unknown = [d for d in days if d.strip().lower()[:3] not in WEEKDAYS]
    if unknown:
        raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
    try:
        tz: tzinfo = ZoneInfo(zone) if zone.strip() else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}; use a name like 'Europe/Berlin'") from None
    try:
        off = frozenset(date.fromisoformat(d.strip()) for d in holidays)
    except ValueError:
        raise ValueError("holidays must be dates like '2026-12-25'") from None
    return BusinessCalendar(opens_minute=opens, closes_minute=closes,
                            weekdays=frozenset(WEEKDAYS.index(d.strip().lower()[:3]) for d in days),
                            zone=tz, holidays=off)


# Declared in reporter_app/config/schema.py (validated there with calendar_from_settings); a config without
# them (a test double) gets the defaults above.
CALENDAR_KEYS = {"hours": "sla.business_hours", "days": "sla.business_days", "zone": "sla.time_zone",
                 "holidays": "sla.holidays"}


def calendar_from_config(config: Any) -> BusinessCalendar:
    """The calendar from `[sla]` business_hours / business_days / time_zone / holidays, each optional."""
    values: dict[str, Any] = {}
    for name, key in CALENDAR_KEYS.items():
        try:
            value = config.get(key)
        except KeyError:
            continue
        if value not in (None, "") or name == "hours":
            values[name] = value if isinstance(value, str) else list(value)
    try:
        return calendar_from_settings(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"[sla] business calendar: {exc}") from None
