"""When a detected error should reach a person: rules, thresholds, cooldown, snooze, mute, rate limit.

Pure logic with an injected clock: :class:`AlertPolicy` is told about each error event (with its
fingerprint) and answers with an :class:`AlertDecision`. Rules come from config; the first rule
that matches an event (by fingerprint, else by pattern) decides, else the default rule.

- ``occurrences`` within ``window_minutes``: how many times before anyone is bothered.
- ``cooldown_minutes``: after an alert, the same fingerprint stays quiet this long (repeats are
  still counted, so the next prompt can say "happened 40 times").
- snooze (until a time) and mute (until unmuted) are per fingerprint, chosen by the user. With a
  :class:`SilenceStore` they outlive a restart: the choice is made in memory at once (it may come
  from the GUI thread) and written by :meth:`AlertPolicy.sync`, which the watching thread calls
  each round; ``sync`` also picks up changes another process made (``reporter-app fingerprint
  --unmute``).
- ``action``: ``prompt`` (default: a pre-filled form) or ``auto`` (file without asking). Automatic
  filings are rate-limited globally; over the limit they become prompts, never silently dropped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from reporter_app.clock import Clock, parse_utc_iso, utc_iso
from reporter_app.detect.events import ErrorEvent
from reporter_app.fsutil import atomic_write_text, exclusive_lock

log = logging.getLogger(__name__)

SILENCES_FILE = "silenced.json"
_SILENCES_VERSION = 1


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


# ---------------------------------------------------------------- snoozes and mutes, kept on disk


class SilenceKind(StrEnum):
    SNOOZE = "snooze"  # quiet until a time
    MUTE = "mute"  # quiet until unmuted


@dataclass(frozen=True)
class Silence:
    """The user's "not now" (snooze) or "never" (mute) for one fingerprint."""

    fingerprint: str
    kind: SilenceKind
    since: datetime
    until: datetime | None = None  # the end of a snooze; None for a mute
    title: str = ""  # what the error was, so a list of silenced fingerprints means something

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def to_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "kind": self.kind.value, "since": utc_iso(self.since),
                "until": utc_iso(self.until) if self.until is not None else None, "title": self.title}

    @classmethod
    def from_json(cls, data: Any) -> Silence:
        """Raises ValueError (or KeyError/TypeError) when ``data`` is not one we wrote."""
        kind = SilenceKind(data["kind"])
        until = data.get("until")
        if (kind is SilenceKind.SNOOZE) != (until is not None):
            raise ValueError(f"a {kind.value} {'needs' if until is None else 'has no'} 'until'")
        fingerprint, title = data["fingerprint"], data.get("title", "")
        if not isinstance(fingerprint, str) or not fingerprint or not isinstance(title, str):
            raise ValueError("fingerprint and title are strings")
        return cls(fingerprint=fingerprint, kind=kind, since=parse_utc_iso(data["since"]),
                   until=parse_utc_iso(until) if until is not None else None, title=title)


Silences = dict[str, Silence]


class SilenceStore:
    """Snoozes and mutes in ``silenced.json`` (data dir): read at start, rewritten atomically on a change.

    Every read drops the snoozes that have ended. A file that cannot be parsed is renamed to
    ``silenced.json.corrupt-<time>`` with one warning, and reading goes on with nothing silenced:
    a damaged file never stops the app. Changes are read-modify-write under a lock file, so the
    app and ``reporter-app fingerprint --unmute`` never undo each other's change.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self._clock = clock
        self._seen: tuple[int, int, int] | None = None  # the file as last read or written (mtime, size, inode)

    @classmethod
    def in_data_dir(cls, data_dir: Path, clock: Clock) -> SilenceStore:
        return cls(data_dir / SILENCES_FILE, clock)

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def load(self) -> Silences:
        """The active snoozes and mutes (empty when there is no file yet)."""
        if not self.path.exists():
            self._seen = None
            return {}
        with exclusive_lock(self._lock_path):
            return self._read()

    def update(self, change: Callable[[Silences], None]) -> Silences:
        """Apply ``change`` to what is on disk now, write it back atomically; returns the result."""
        with exclusive_lock(self._lock_path):
            silences = self._read()
            change(silences)
            now = self._clock.now()
            document = {"version": _SILENCES_VERSION,
                        "silenced": [s.to_json() for s in sorted(silences.values(), key=lambda s: s.fingerprint)
                                     if s.active(now)]}
            atomic_write_text(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            self._seen = self._signature()
        return {fp: s for fp, s in silences.items() if s.active(now)}

    def changed(self) -> bool:
        """Whether the file changed since we last read or wrote it (another process's change)."""
        return self._signature() != self._seen

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> Silences:
        self._seen = self._signature()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("version") != _SILENCES_VERSION:
                raise ValueError(f"not a version {_SILENCES_VERSION} snooze/mute file")
            entries = [Silence.from_json(item) for item in document["silenced"]]
        except (ValueError, KeyError, TypeError) as exc:
            self._set_aside(exc)
            return {}
        now = self._clock.now()
        return {s.fingerprint: s for s in entries if s.active(now)}

    def _set_aside(self, problem: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{self._clock.now():%Y%m%dT%H%M%SZ}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            log.warning("snoozes and mutes in %s are unreadable (%s) and could not be set aside (%s); "
                        "nothing is snoozed or muted", self.path, problem, exc)
            return
        self._seen = None
        log.warning("snoozes and mutes in %s are unreadable (%s); the file was set aside as %s and nothing is "
                    "snoozed or muted now", self.path, problem, aside.name)


# ---------------------------------------------------------------- the policy


@dataclass
class _State:
    seen: deque[datetime] = field(default_factory=deque)
    last_alert: datetime | None = None
    suppressed: int = 0
    title: str = ""  # the last event's description, remembered for a snooze or mute


def _put(silence: Silence) -> Callable[[Silences], None]:
    def change(silences: Silences) -> None:
        silences[silence.fingerprint] = silence

    return change


def _drop(fingerprint: str) -> Callable[[Silences], None]:
    def change(silences: Silences) -> None:
        silences.pop(fingerprint, None)

    return change


def _first_line(event: ErrorEvent) -> str:
    return event.first_line


class AlertPolicy:
    """``store``: where snoozes and mutes persist (None: memory only). ``describe``: an event's
    one-line description, kept with a snooze or mute."""

    def __init__(self, clock: Clock, rules: tuple[AlertRule, ...] = (), default: AlertRule = DEFAULT_RULE,
                 auto_max: int = 3, auto_window_minutes: float = 60.0, store: SilenceStore | None = None,
                 describe: Callable[[ErrorEvent], str] = _first_line) -> None:
        self._clock = clock
        self.rules = rules
        self.default = default
        self.auto_max = auto_max
        self.auto_window = timedelta(minutes=auto_window_minutes)
        self._describe = describe
        self._states: dict[str, _State] = {}
        self._auto_filed: deque[datetime] = deque()
        # The GUI thread chooses, the watching thread observes and syncs: both go through this lock.
        self._lock = threading.Lock()
        self._store = store
        self._silences: Silences = store.load() if store is not None else {}
        self._unsaved: list[Callable[[Silences], None]] = []  # choices made since the last sync, in order
        self._save_error = ""

    # ------------------------------------------------------------- user choices

    def snooze(self, fingerprint: str, minutes: float, title: str = "") -> datetime:
        now = self._clock.now()
        until = now + timedelta(minutes=minutes)
        self._choose(_put(Silence(fingerprint, SilenceKind.SNOOZE, now, until, title or self._title(fingerprint))))
        return until

    def mute(self, fingerprint: str, title: str = "") -> None:
        self._choose(_put(Silence(fingerprint, SilenceKind.MUTE, self._clock.now(), None,
                                  title or self._title(fingerprint))))

    def unmute(self, fingerprint: str) -> None:
        """Ends a mute or a snooze."""
        self._choose(_drop(fingerprint))

    def is_muted(self, fingerprint: str) -> bool:
        silence = self._silences.get(fingerprint)
        return silence is not None and silence.kind is SilenceKind.MUTE

    def silences(self) -> list[Silence]:
        """Active snoozes and mutes, by fingerprint."""
        now = self._clock.now()
        with self._lock:
            return sorted((s for s in self._silences.values() if s.active(now)), key=lambda s: s.fingerprint)

    def _title(self, fingerprint: str) -> str:
        state = self._states.get(fingerprint)
        return state.title if state is not None else ""

    def _choose(self, change: Callable[[Silences], None]) -> None:
        # Memory only (this may be the GUI thread); sync() writes it.
        with self._lock:
            change(self._silences)
            if self._store is not None:
                self._unsaved.append(change)

    def sync(self) -> None:
        """Write the choices made since the last call, and read the file again if another process changed it.

        Disk work: call it off the GUI thread. A failed write is logged once and tried again next time;
        the choice holds in memory meanwhile.
        """
        store = self._store
        if store is None:
            return
        with self._lock:
            unsaved = list(self._unsaved)
        if not unsaved and not store.changed():
            return

        def replay(silences: Silences) -> None:
            for change in unsaved:
                change(silences)

        try:
            fresh = store.update(replay) if unsaved else store.load()
        except OSError as exc:
            if str(exc) != self._save_error:
                log.error("snoozes and mutes not saved to %s: %s", store.path, exc)
                self._save_error = str(exc)
            return
        self._save_error = ""
        with self._lock:
            del self._unsaved[: len(unsaved)]
            for change in self._unsaved:  # chosen while we were writing: kept, written next time
                change(fresh)
            self._silences = fresh

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
        state.title = self._describe(event)
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
        silence = self._silences.get(fingerprint)
        if silence is not None and silence.kind is SilenceKind.MUTE:
            return decide(AlertAction.NONE, "muted")
        if silence is not None and silence.until is not None:
            if now < silence.until:
                state.suppressed += 1
                return decide(AlertAction.NONE, f"snoozed until {silence.until:%H:%M}")
            with self._lock:  # over: forgotten here; the file drops it on its next read
                if self._silences.get(fingerprint) is silence:
                    del self._silences[fingerprint]
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
