"""Alert rules: thresholds in a window, cooldown, snooze, mute, severity, rate-limited auto filing."""

from __future__ import annotations

from reporter_app.clock import FakeClock
from reporter_app.detect.alerts import (
    AlertAction,
    AlertPolicy,
    AlertRule,
    Severity,
    classify,
)
from reporter_app.detect.events import ErrorEvent

LINE = ErrorEvent(kind="line", lines=("ERROR db timeout",), line_number=1)
FATAL = ErrorEvent(kind="line", lines=("FATAL out of memory",), line_number=1, severity="critical")
CRASH = ErrorEvent(kind="trace", lines=("panic: x", "goroutine 1 [running]:"), line_number=1, language="go",
                   severity="critical", crash=True)


def test_default_prompts_once_then_cools_down() -> None:
    clock = FakeClock()
    policy = AlertPolicy(clock)
    assert policy.observe(LINE, "fp").action is AlertAction.PROMPT
    clock.advance(60)
    second = policy.observe(LINE, "fp")
    assert second.action is AlertAction.NONE and "cooling" in second.reason
    clock.advance(31 * 60)
    third = policy.observe(LINE, "fp")
    assert third.action is AlertAction.PROMPT and third.suppressed_since_last == 1


def test_n_occurrences_within_m_minutes() -> None:
    clock = FakeClock()
    policy = AlertPolicy(clock, rules=(AlertRule("db", pattern="timeout", occurrences=3, window_minutes=5),))
    assert not policy.observe(LINE, "fp").notify
    clock.advance(4 * 60)
    assert not policy.observe(LINE, "fp").notify
    clock.advance(2 * 60)  # the first one left the window
    assert not policy.observe(LINE, "fp").notify
    clock.advance(30)
    decision = policy.observe(LINE, "fp")
    assert decision.notify and decision.count_in_window == 3 and decision.rule == "db"


def test_fingerprint_rule_beats_pattern_rule() -> None:
    policy = AlertPolicy(FakeClock(), rules=(AlertRule("any", pattern="ERROR", action="ignore"),
                                             AlertRule("this one", fingerprint="fp1")))
    assert policy.observe(LINE, "fp1").rule == "this one"
    assert policy.observe(LINE, "fp2").action is AlertAction.NONE


def test_snooze_and_mute() -> None:
    clock = FakeClock()
    policy = AlertPolicy(clock, default=AlertRule("default", cooldown_minutes=0))
    policy.snooze("fp", minutes=10)
    assert "snoozed" in policy.observe(LINE, "fp").reason
    clock.advance(11 * 60)
    assert policy.observe(LINE, "fp").notify
    policy.mute("fp")
    assert policy.observe(LINE, "fp").reason == "muted"
    policy.unmute("fp")
    assert policy.observe(LINE, "fp").notify


def test_severity_and_p1_eligibility() -> None:
    assert classify(CRASH) is Severity.CRASH and classify(FATAL) is Severity.FATAL and classify(LINE) is Severity.ERROR
    policy = AlertPolicy(FakeClock())
    assert policy.observe(CRASH, "a").p1_eligible
    assert policy.observe(FATAL, "b").p1_eligible
    assert not policy.observe(LINE, "c").p1_eligible


def test_auto_files_until_rate_limit_then_asks() -> None:
    clock = FakeClock()
    policy = AlertPolicy(clock, default=AlertRule("default", action="auto"), auto_max=2, auto_window_minutes=60)
    actions = [policy.observe(LINE, f"fp{i}").action for i in range(3)]
    assert actions == [AlertAction.FILE, AlertAction.FILE, AlertAction.PROMPT]
    clock.advance(61 * 60)
    assert policy.observe(LINE, "fp9").action is AlertAction.FILE


def test_bad_pattern_never_raises() -> None:
    policy = AlertPolicy(FakeClock(), rules=(AlertRule("broken", pattern="("),))
    assert policy.observe(LINE, "fp").rule == "default"
