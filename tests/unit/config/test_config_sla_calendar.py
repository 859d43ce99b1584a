"""The [sla] business calendar keys: defaults, validation with the clock's own parser, and what the SLA reads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from reporter_app.config import ConfigError, load_config
from reporter_app.tracking.business_hours import calendar_from_config


def test_defaults_are_whole_weekdays_in_utc(paths):
    cfg = load_config(paths, env={})
    assert cfg.get("sla.business_hours") == "" and cfg.get("sla.time_zone") == ""
    assert list(cfg.get("sla.business_days")) == ["mon", "tue", "wed", "thu", "fri"]
    assert list(cfg.get("sla.holidays")) == []
    calendar = calendar_from_config(cfg)
    friday_3pm = datetime(2026, 1, 9, 15, 0, tzinfo=timezone.utc)
    assert calendar.add(friday_3pm, calendar.day_length * 2) == datetime(2026, 1, 13, 15, 0, tzinfo=timezone.utc)


def test_a_configured_calendar_reaches_the_sla_clock(paths, user_file):
    user_file('[sla]\nbusiness_hours = "09:00-17:00"\nbusiness_days = ["mon", "tue", "wed", "thu", "fri"]\n'
              'time_zone = "Europe/Berlin"\nholidays = ["2026-01-12"]\n')
    cfg = load_config(paths, env={})
    calendar = calendar_from_config(cfg)
    # Friday 16:00 Berlin (15:00 UTC), 2 business days of 8 h; Monday is a holiday: due Wednesday 16:00 Berlin.
    start = datetime(2026, 1, 9, 15, 0, tzinfo=timezone.utc)
    assert calendar.add(start, calendar.day_length * 2) == datetime(2026, 1, 14, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("line", "key", "words"), [
    ('business_hours = "9-5"', "sla.business_hours", "not business hours"),
    ('business_hours = "17:00-09:00"', "sla.business_hours", "open before close"),
    ('business_days = ["mon", "funday"]', "sla.business_days", "unknown weekday"),
    ("business_days = []", "sla.business_days", "no business days"),
    ('time_zone = "Mars/Olympus"', "sla.time_zone", "unknown time zone"),
    ('holidays = ["2026-13-01"]', "sla.holidays", "dates like"),
    ("holidays = \"2026-12-25\"", "sla.holidays", ""),
])
def test_bad_calendar_values_name_the_key(paths, user_file, line, key, words):
    user_file(f"[sla]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert caught.value.key == key
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_calendar_from_the_environment(paths):
    cfg = load_config(paths, env={"REPORTER_APP_SLA_TIME_ZONE": "America/New_York"})
    assert cfg.get("sla.time_zone") == "America/New_York"
