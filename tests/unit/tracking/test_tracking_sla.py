"""SLA clocks with an injected `now`: calendar targets, business days across weekends, holidays and DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reporter_app.config import load_config
from reporter_app.paths import resolve_paths
from reporter_app.tracking.business_hours import BusinessCalendar, calendar_from_config, calendar_from_settings
from reporter_app.tracking.sla import ClockState, SlaPolicy, format_span

from .conftest import T0

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_3PM = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def test_p1_defaults_due_met_and_breached():
    policy = SlaPolicy()
    running = policy.evaluate_times("P1", T0, T0 + timedelta(minutes=20))
    assert running.first_response.state == ClockState.DUE
    assert running.first_response.text() == "due in 40m"
    assert running.resolution.text() == "due in 23h 40m"
    assert running.short() == "response due in 40m"
    late = policy.evaluate_times("P1", T0, T0 + hours(3))
    assert late.first_response.text() == "breached 2h ago" and late.breached
    met = policy.evaluate_times("P1", T0, T0 + hours(3), first_response_at=T0 + timedelta(minutes=45))
    assert met.first_response.state == ClockState.MET
    assert met.first_response.text() == "met (took 45m)"
    assert met.short() == "resolution due in 21h"
    slow = policy.evaluate_times("P1", T0, T0 + hours(30), first_response_at=T0 + hours(1.5),
                                 resolved_at=T0 + hours(25))
    assert slow.first_response.text() == "breached by 30m (took 1h 30m)"
    assert slow.resolution.text() == "breached by 1h (took 1d 1h)"
    assert slow.resolution.took == hours(25)


def test_p2_resolution_is_three_calendar_days():
    summary = SlaPolicy().evaluate_times("P2", FRIDAY_3PM, FRIDAY_3PM)
    assert summary.resolution.deadline == FRIDAY_3PM + timedelta(days=3)  # weekends count for calendar targets


def test_resolving_without_a_comment_is_also_a_first_response():
    summary = SlaPolicy().evaluate_times("P1", T0, T0 + hours(5), resolved_at=T0 + timedelta(minutes=30))
    assert summary.first_response.state == ClockState.MET


def test_p4_has_no_targets_and_an_unknown_filing_time_says_so():
    p4 = SlaPolicy().evaluate_times("P4", T0, T0 + timedelta(days=90))
    assert (p4.first_response.state, p4.resolution.state, p4.short()) == (
        ClockState.NO_TARGET, ClockState.NO_TARGET, "-")
    assert SlaPolicy().evaluate_times("", T0, T0).first_response.state == ClockState.NO_TARGET
    unknown = SlaPolicy().evaluate_times("P1", None, T0)
    assert unknown.first_response.state == ClockState.UNKNOWN and not unknown.breached


def test_p3_two_business_days_skip_the_weekend():
    deadline = SlaPolicy().evaluate_times("P3", FRIDAY_3PM, FRIDAY_3PM).first_response.deadline
    assert deadline == datetime(2026, 1, 13, 15, 0, tzinfo=UTC)  # Tuesday, same time
    on_monday = SlaPolicy().evaluate_times("P3", FRIDAY_3PM, datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    assert on_monday.first_response.text() == "due in 1d 6h"


def test_business_hours_count_only_opening_time():
    calendar = calendar_from_settings("09:00-17:00", zone="Europe/Berlin")
    policy = SlaPolicy(calendar=calendar)
    friday_4pm_berlin = datetime(2026, 1, 9, 16, 0, tzinfo=BERLIN)
    deadline = policy.evaluate_times("P3", friday_4pm_berlin, friday_4pm_berlin).first_response.deadline
    # 16 working hours: Friday 16-17, Monday 9-17, Tuesday 9-16.
    assert deadline == datetime(2026, 1, 13, 16, 0, tzinfo=BERLIN)
    saturday = datetime(2026, 1, 10, 11, 0, tzinfo=BERLIN)
    assert policy.deadline(saturday, policy.target("P3").first_response) == datetime(2026, 1, 13, 17, 0, tzinfo=BERLIN)
    # Calendar targets stay around the clock even with business hours set.
    assert policy.deadline(friday_4pm_berlin, policy.target("P1").first_response) == friday_4pm_berlin + hours(1)


def test_business_hours_across_a_dst_change():
    calendar = calendar_from_settings("09:00-17:00", zone="Europe/Berlin")
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN)  # CET; Sunday the 29th is CEST
    deadline = calendar.add(friday, calendar.day_length * 2)
    assert deadline == datetime(2026, 3, 31, 16, 0, tzinfo=BERLIN)
    assert deadline.astimezone(UTC).hour == 14


def test_holidays_and_elapsed_business_time():
    calendar = calendar_from_settings("09:00-17:00", days=["mon", "tue", "wed", "thu", "fri"], zone="UTC",
                                      holidays=["2026-01-12"])
    friday_4pm = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
    assert calendar.add(friday_4pm, hours(2)) == datetime(2026, 1, 13, 10, 0, tzinfo=UTC)
    assert calendar.elapsed(friday_4pm, datetime(2026, 1, 13, 10, 0, tzinfo=UTC)) == hours(2)
    assert calendar.elapsed(friday_4pm, friday_4pm - hours(1)) == timedelta(0)


@pytest.mark.parametrize(("hours_text", "problem"), [
    ("9-17", "not business hours"), ("17:00-09:00", "open before close"), ("09:00-25:00", "open before close")])
def test_bad_business_hours(hours_text, problem):
    with pytest.raises(ValueError, match=problem):
        calendar_from_settings(hours_text)


def test_bad_calendar_settings():
    with pytest.raises(ValueError, match="weekday"):
        calendar_from_settings(days=["funday"])
    with pytest.raises(ValueError, match="time zone"):
        calendar_from_settings(zone="Mars/Olympus")
    with pytest.raises(ValueError, match="holidays"):
        calendar_from_settings(holidays=["25.12.2026"])
    with pytest.raises(ValueError, match="business day"):
        BusinessCalendar(weekdays=frozenset())


class FakeConfig:
    def __init__(self, values):
        self.values = values

    def get(self, key):
        if key not in self.values:
            raise KeyError(key)
        return self.values[key]


def test_calendar_from_config_reads_optional_keys_and_ignores_undeclared_ones():
    assert calendar_from_config(FakeConfig({})) == BusinessCalendar()
    calendar = calendar_from_config(FakeConfig({"sla.business_hours": "08:30-16:30", "sla.time_zone": "Europe/Berlin",
                                                "sla.business_days": ["mon", "tue"], "sla.holidays": ["2026-01-05"]}))
    assert (calendar.opens_minute, calendar.closes_minute, calendar.weekdays) == (510, 990, frozenset({0, 1}))
    assert calendar.holidays == frozenset({date(2026, 1, 5)})
    with pytest.raises(ValueError, match=r"\[sla\] business calendar"):
        calendar_from_config(FakeConfig({"sla.business_hours": "nine to five"}))


def test_targets_come_from_the_config(tmp_path):
    config = load_config(resolve_paths(tmp_path, env={}), env={},
                         overrides=["sla.P2.first_response=30m", "sla.P4.resolution=1w"])
    policy = SlaPolicy.from_config(config)
    assert policy.target("P2").first_response.delta == timedelta(minutes=30)
    assert policy.target("P3").first_response.business_days == 2
    assert policy.target("P4").resolution.delta == timedelta(weeks=1)
    assert policy.target("P1").resolution.delta == hours(24)


@pytest.mark.parametrize(("span", "text"), [
    (timedelta(seconds=42), "42s"), (timedelta(minutes=5), "5m"), (hours(3), "3h"), (hours(3.5), "3h 30m"),
    (timedelta(days=2), "2d"), (timedelta(days=2, hours=4, minutes=9), "2d 4h"), (-hours(1), "1h")])
def test_format_span(span, text):
    assert format_span(span) == text
