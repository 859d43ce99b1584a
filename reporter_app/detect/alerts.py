"""When a detected error should reach a person: rules, thresholds, cooldown, snooze, mute, rate limit.

Pure logic with an injected clock: :class:`AlertPolicy` is told about each error event (with its
fingerprint) and answers with an :class:`AlertDecision`. Rules come from config; the first rule
that matches an event (by fingerprint, else by pattern) decides, else the default rule.

- ``occurrences`` within ``window_minutes``: how many times before anyone is bothered.
- ``cooldown_minutes``: after an alert, the same fingerprint stays quiet this long (repeats are
  still counted, so the next prompt can say "happened 40 times").
- snooze (until a time) and mute (until unmuted) are per fingerprint, chosen by the user.
- ``action``: ``prompt`` (default: a pre-filled form) or ``auto`` (file without asking). Automatic
  filings are rate-limited globally; over the limit they become prompts, never silently dropped.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from reporter_app.clock import Clock
from reporter_app.detect.events import ErrorEvent


class AlertAction(StrEnum):
    NONE = "none"  # nothing to show (below threshold, cooling down, snoozed, muted)
    PROMPT = "prompt"  # show the pre-filled form
    FILE = "file"  # file automatically


class Severity(StrEnum):
    CRASH = "crash"  # uncaught: panic, unhandled exception, PHP fatal
    FATAL = "fatal"  # FATAL / CRITICAL / EMERG level
    ERROR = "error"


@dataclass(frozen=True)
class AlertRule:
    name: str
    fingerprint: str = ""  # exact fingerprint this rule is about; or
    pattern: str = ""  # a regular expression searched in the event's text
    occurrences: int = 1
    window_minutes: float = 10.0
    cooldown_minutes: float = 30.0
    action: str = "prompt"  # "prompt" | "auto" | "ignore"

    def matches(self, event: ErrorEvent, fingerprint: str) -> bool:
        if self.fingerprint:
            return self.fingerprint == fingerprint
        if self.pattern:
            try:
                return re.search(self.pattern, event.text) is not None
            except re.error:
                return False  # config validation reports it; a bad rule never stops detection
        return True


DEFAULT_RULE = AlertRule(name="default")


@dataclass(frozen=True)
class AlertDecision:
    action: AlertAction
    reason: str
    fingerprint: str
    rule: str
    severity: Severity
    p1_eligible: bool
    count_in_window: int
    suppressed_since_last: int  # repeats swallowed by cooldown since the last alert

    @property
    def notify(self) -> bool:
        return self.action is not AlertAction.NONE


def classify(event: ErrorEvent) -> Severity:
    if event.crash:
        return Severity.CRASH
    if event.severity == "critical":
        return Severity.FATAL
    return Severity.ERROR


@dataclass
class _State:
    seen: deque[datetime] = field(default_factory=deque)
    last_alert: datetime | None = None
    suppressed: int = 0


class AlertPolicy:
    def __init__(self, clock: Clock, rules: tuple[AlertRule, ...] = (), default: AlertRule = DEFAULT_RULE,
                 auto_max: int = 3, auto_window_minutes: float = 60.0) -> None:
        self._clock = clock
        self.rules = rules
        self.default = default
        self.auto_max = auto_max
        self.auto_window = timedelta(minutes=auto_window_minutes)
        self._states: dict[str, _State] = {}
        self._snoozed: dict[str, datetime] = {}
        self._muted: set[str] = set()
        self._auto_filed: deque[datetime] = deque()

    # ------------------------------------------------------------- user choices

    def snooze(self, fingerprint: str, minutes: float) -> datetime:
        until = self._clock.now() + timedelta(minutes=minutes)
        self._snoozed[fingerprint] = until
        return until

    def mute(self, fingerprint: str) -> None:
        self._muted.add(fingerprint)

    def unmute(self, fingerprint: str) -> None:
        self._muted.discard(fingerprint)
        self._snoozed.pop(fingerprint, None)

    def is_muted(self, fingerprint: str) -> bool:
        return fingerprint in self._muted

    # ------------------------------------------------------------- decisions

    def rule_for(self, event: ErrorEvent, fingerprint: str) -> AlertRule:
        by_fingerprint = [r for r in self.rules if r.fingerprint and r.matches(event, fingerprint)]
        if by_fingerprint:
            return by_fingerprint[0]
        for rule in self.rules:
            if not rule.fingerprint and rule.matches(event, fingerprint):
                return rule
        return self.default

    def observe(self, event: ErrorEvent, fingerprint: str) -> AlertDecision:
        now = self._clock.now()
        rule = self.rule_for(event, fingerprint)
        severity = classify(event)
        state = self._states.setdefault(fingerprint, _State())
        window = timedelta(minutes=rule.window_minutes)
        state.seen.append(now)
        while state.seen and now - state.seen[0] > window:
            state.seen.popleft()
        count = len(state.seen)

        def decide(action: AlertAction, reason: str) -> AlertDecision:
            return AlertDecision(action=action, reason=reason, fingerprint=fingerprint, rule=rule.name,
                                 severity=severity, p1_eligible=severity is not Severity.ERROR,
                                 count_in_window=count, suppressed_since_last=state.suppressed)

        if rule.action == "ignore":
            return decide(AlertAction.NONE, f"rule {rule.name!r} ignores it")
        if fingerprint in self._muted:
            return decide(AlertAction.NONE, "muted")
        snoozed_until = self._snoozed.get(fingerprint)
        if snoozed_until is not None:
            if now < snoozed_until:
                state.suppressed += 1
                return decide(AlertAction.NONE, f"snoozed until {snoozed_until:%H:%M}")
            del self._snoozed[fingerprint]
        if count < rule.occurrences:
            return decide(AlertAction.NONE, f"{count} of {rule.occurrences} in {rule.window_minutes:g} min")
        if state.last_alert is not None and now - state.last_alert < timedelta(minutes=rule.cooldown_minutes):
            state.suppressed += 1
            return decide(AlertAction.NONE, "cooling down after the last alert")
        action = AlertAction.PROMPT
        reason = f"{count} in {rule.window_minutes:g} min (rule {rule.name!r})"
        if rule.action == "auto":
            while self._auto_filed and now - self._auto_filed[0] > self.auto_window:
                self._auto_filed.popleft()
            if len(self._auto_filed) < self.auto_max:
                self._auto_filed.append(now)
                action = AlertAction.FILE
            else:
                reason += f"; automatic filing limit ({self.auto_max} per {self.auto_window}) reached, asking instead"
        decision = decide(action, reason)
        state.last_alert = now
        state.suppressed = 0
        return decision
