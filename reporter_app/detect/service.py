"""Detection wired to the product: watched logs -> alert decisions -> pre-filled reports.

:class:`DetectionService` follows the ``[[logs]]`` files chosen by ``[detect]``, gives each error
event its fingerprint, asks the :class:`AlertPolicy` whether anyone should hear about it, and
turns each alert into a :class:`Detection`: a pre-filled :class:`Draft` (title from the
exception's first line, the trace in the description) and :class:`Evidence` holding the trace
with the lines before it as a log attachment, all scrubbed before anything leaves this module.

Two steps, because they belong on different threads in the GUI (ui/error_watch.py):

- :meth:`DetectionService.detect`: read the logs and decide. Files and CPU only; the watcher thread.
- :meth:`DetectionService.resolve`: look the fingerprint up (local map, then ``Tracker.find``) and,
  for an ``auto`` decision, queue the report with ``ctx.submit``. Tracker and outbox work; the
  GUI runs it on the core worker with every other ``AppContext`` call.

The sender merges a report whose fingerprint already has a ticket into that ticket (a "+1"), so
``auto`` never files the same root cause twice; the policy's ``auto_max`` rate-limits filing.
No Qt here: the CLI and the tests drive it directly (:meth:`poll`, :meth:`run`).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reporter_app.app import AppContext, Draft
from reporter_app.clock import Clock, utc_iso
from reporter_app.collect import (
    Evidence,
    LogEvidence,
    collect_logs,
    collect_system,
    make_scrubber,
)
from reporter_app.config import LogSource
from reporter_app.detect.alerts import (
    AlertAction,
    AlertDecision,
    AlertPolicy,
    AlertRule,
    Severity,
)
from reporter_app.detect.dedup import (
    DedupDecision,
    FingerprintMap,
    Occurrences,
    decide,
    installation_id,
    occurrence_comment,
)
from reporter_app.detect.events import ErrorEvent, EventDetector
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.detect.templater import split_header
from reporter_app.detect.watch import LogWatcher
from reporter_app.model import Impact
from reporter_app.trackers.base import Tracker, TrackerError

log = logging.getLogger(__name__)

TITLE_MAX = 120
AUTO_WINDOW_MINUTES = 60.0  # detect.auto_max_per_hour counts filings in this window


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class DetectSettings:
    """``[detect]`` and ``[[detect.rules]]`` as the policy needs them."""

    enabled: bool = False
    auto: bool = False
    sources: tuple[str, ...] = ()
    single_lines: bool = True
    default: AlertRule = field(default_factory=lambda: AlertRule(name="default"))
    rules: tuple[AlertRule, ...] = ()
    auto_max_per_hour: int = 3

    @classmethod
    def from_config(cls, config: Any) -> DetectSettings:
        auto = bool(config.get("detect.auto"))
        default = AlertRule(
            name="default",
            occurrences=int(config.get("detect.occurrences")),
            window_minutes=float(config.get("detect.window_minutes")),
            cooldown_minutes=float(config.get("detect.cooldown_minutes")),
            action="auto" if auto else "prompt",
        )
        rules = tuple(
            AlertRule(
                name=str(entry["name"]),
                fingerprint=str(entry.get("fingerprint") or ""),
                pattern=str(entry.get("pattern") or ""),
                # A field a rule leaves out follows [detect] (the loader keeps absent optional fields absent).
                occurrences=int(entry.get("occurrences", default.occurrences)),
                window_minutes=float(entry.get("window_minutes", default.window_minutes)),
                cooldown_minutes=float(entry.get("cooldown_minutes", default.cooldown_minutes)),
                action=str(entry.get("action") or default.action),
            )
            for entry in config.get("detect.rules") or []
        )
        return cls(
            enabled=bool(config.get("detect.enabled")),
            auto=auto,
            sources=tuple(str(s) for s in config.get("detect.sources") or ()),
            single_lines=bool(config.get("detect.single_lines")),
            default=default,
            rules=rules,
            auto_max_per_hour=int(config.get("detect.auto_max_per_hour")),
        )

    def policy(self, clock: Clock) -> AlertPolicy:
        return AlertPolicy(clock, rules=self.rules, default=self.default, auto_max=self.auto_max_per_hour,
                           auto_window_minutes=AUTO_WINDOW_MINUTES)


def watched_sources(logs: list[LogSource], names: tuple[str, ...]) -> tuple[list[LogSource], list[str]]:
    """The file sources to follow, and a warning per name in ``detect.sources`` that can't be followed."""
    by_name = {source.name: source for source in logs}
    warnings: list[str] = []
    if not names:
        return [s for s in logs if s.path], warnings
    chosen: list[LogSource] = []
    for name in names:
        source = by_name.get(name)
        if source is None:
            warnings.append(f"detect.sources: no [[logs]] entry named {name!r}")
        elif not source.path:
            warnings.append(f"detect.sources: {name!r} is a journal source; only files are watched")
        else:
            chosen.append(source)
    return chosen, warnings


# ---------------------------------------------------------------- what comes out


@dataclass
class Detection:
    """One alert: what the form is pre-filled with, or what ``auto`` files."""

    source: str  # the [[logs]] name
    path: str
    event: ErrorEvent
    fingerprint: str
    decision: AlertDecision
    occurrences: Occurrences | None
    draft: Draft
    evidence: Evidence

    @property
    def title(self) -> str:
        return self.draft.title

    @property
    def auto(self) -> bool:
        return self.decision.action is AlertAction.FILE


@dataclass
class Resolution:
    detection: Detection
    dedup: DedupDecision
    report_id: str = ""  # set when filed automatically (queued in the outbox)
    error: str = ""  # automatic filing failed: the GUI prompts instead, nothing is dropped

    @property
    def filed(self) -> bool:
        return bool(self.report_id)


# ---------------------------------------------------------------- text


_PY_TRACEBACK = re.compile(r"^(?:Traceback \(most recent call last\)|During handling of the above exception"
                           r"|The above exception was the direct cause|\s*\+[-+]+)")


def error_title(event: ErrorEvent) -> str:
    """The exception's first line: the line a person would paste into a search box."""
    if event.kind == "line":
        _, message = split_header(event.first_line)
        return _shorten(message or event.first_line)
    lines = event.trace_lines
    if event.language == "python":
        # The exception line is the first unindented line after the frames of the last traceback
        # (a multi-line message continues below it; chained tracebacks come before it).
        title = ""
        previous_indented = False
        for line in lines:
            indented = line[:1].isspace()
            if not indented and line.strip() and previous_indented and not _PY_TRACEBACK.match(line):
                title = line
            previous_indented = indented
        if title:
            return _shorten(title)
    return _shorten(next((line for line in lines if line.strip()), event.first_line).strip())


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


# ---------------------------------------------------------------- the service


class DetectionService:
    """Follows the watched logs; see the module docstring for the two steps and their threads.

    ``watcher``: injected by tests (``use_inotify=False``, a fake monotonic clock); by default one
    :class:`LogWatcher` over every watched source.
    """

    def __init__(self, ctx: AppContext, *, clock: Clock | None = None, watcher: LogWatcher | None = None,
                 settings: DetectSettings | None = None, tracker: Callable[[], Tracker] | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or ctx.clock
        self.settings = settings or DetectSettings.from_config(ctx.config)
        self.sources, self.warnings = watched_sources(ctx.config.logs, self.settings.sources)
        for warning in self.warnings:
            log.warning("%s", warning)
        self._patterns = {source.name: os.path.expandvars(os.path.expanduser(source.path))
                          for source in self.sources}
        single_lines = self.settings.single_lines
        self.watcher = watcher or LogWatcher(list(self._patterns.values()),
                                             detector_factory=lambda: EventDetector(single_lines=single_lines))
        self.policy = self.settings.policy(self.clock)
        self.fingerprints = FingerprintMap.in_data_dir(ctx.paths.data_dir)
        self._tracker = tracker or ctx.tracker
        self._scrubber = make_scrubber(ctx.config)

    # ------------------------------------------------------------ step 1: detect (files, CPU)

    def detect(self) -> list[Detection]:
        """New error events since the last call that should reach someone (the policy decides)."""
        detections: list[Detection] = []
        for watched in self.watcher.poll():
            event = watched.event
            if event.kind == "line" and not self.settings.single_lines:
                continue
            fingerprint = fingerprint_event(event)
            try:
                seen: Occurrences | None = self.fingerprints.record_occurrence(fingerprint, self.clock.now())
            except Exception as exc:  # noqa: BLE001 - the counts only enrich the report; detection goes on
                log.error("could not count an occurrence of %s: %s", fingerprint, exc)
                seen = None
            decision = self.policy.observe(event, fingerprint)
            log.info("error %s in %s: %s (%s)", fingerprint, watched.path, decision.action, decision.reason)
            if not decision.notify:
                continue
            detections.append(self._detection(watched.path, event, fingerprint, decision, seen))
        return detections

    def _source_of(self, path: str) -> str:
        for name, pattern in self._patterns.items():
            if path == pattern or fnmatch.fnmatch(path, pattern):
                return name
        return os.path.basename(path) or "log"

    def _scrub(self, text: str, evidence: Evidence) -> str:
        result = self._scrubber.scrub(text)
        evidence.redactions.update(result.counts)
        return str(result.text)

    def _detection(self, path: str, event: ErrorEvent, fingerprint: str, decision: AlertDecision,
                   seen: Occurrences | None) -> Detection:
        source = self._source_of(path)
        evidence = Evidence()
        excerpt = [*event.context_before, *event.lines]
        evidence.logs.append(LogEvidence(
            name=f"detected-{source}", text=self._scrub("\n".join(excerpt) + "\n", evidence),
            line_count=len(excerpt),
            note=(f"the error and the {len(event.context_before)} lines before it" if event.context_before
                  else "the error as logged"),
        ))
        # No line number: the detector counts from where watching began, not from the top of the file.
        about = [f"reporter-app detected this error in the log {source!r} ({path})."]
        about.append(f"Severity: {decision.severity.value}"
                     + (" (P1-eligible)" if decision.p1_eligible else "") + f"; fingerprint {fingerprint}.")
        if seen is not None:
            about.append(f"Seen {seen.count} time(s) on this machine, first {utc_iso(seen.first_seen)}, "
                         f"last {utc_iso(seen.last_seen)}.")
        if decision.suppressed_since_last:
            about.append(f"{decision.suppressed_since_last} repeat(s) were held back since the last alert.")
        description = self._scrub("\n".join(about) + "\n\n" + event.text, evidence)
        draft = Draft(
            title=self._scrub(error_title(event), evidence), description=description,
            # The reporter's view of impact is theirs to give; a crash is at least "works with a workaround".
            impact=Impact.MAJOR if decision.severity is not Severity.ERROR else None,
            fingerprint=fingerprint, merge_duplicates=True,
        )
        return Detection(source=source, path=path, event=event, fingerprint=fingerprint, decision=decision,
                         occurrences=seen, draft=draft, evidence=evidence)

    # ------------------------------------------------------------ step 2: resolve (tracker, outbox)

    def lookup(self, fingerprint: str) -> DedupDecision:
        """Local map, then the tracker; a tracker that can't be reached is reported, never fatal."""
        try:
            tracker: Tracker | None = self._tracker()
        except (TrackerError, ValueError) as exc:
            decision = decide(fingerprint, self.fingerprints, None)
            message = exc.message if isinstance(exc, TrackerError) else str(exc)
            return DedupDecision(decision.fingerprint, decision.existing, decision.found_in, decision.status_name,
                                 message, decision.occurrences)
        return decide(fingerprint, self.fingerprints, tracker)

    def resolve(self, detection: Detection) -> Resolution:
        """The dedup offer for the form; for ``auto``, the report queued (the sender merges a known one)."""
        dedup = self.lookup(detection.fingerprint)
        seen = detection.occurrences
        # A repeat (known here, or queued by `auto` before its ticket exists) becomes a "+1" note, which
        # quotes the description's start: lead with the counts and this installation.
        if seen is not None and (dedup.duplicate or seen.count > 1):
            summary = occurrence_comment(detection.fingerprint, seen, _environment(),
                                         installation_id(self.ctx.paths.data_dir))
            detection.draft.description = summary + "\n\n" + detection.draft.description
        resolution = Resolution(detection, dedup)
        if not detection.auto:
            return resolution
        evidence = detection.evidence
        # Filed without a form: the system details and the configured log tails (with the lines
        # after the error) come along, as they would with the hotkey.
        collect_system(self.ctx.config, self._scrubber, evidence)
        collect_logs(self.ctx.config, self._scrubber, evidence)
        try:
            _bundle, entry = self.ctx.submit(detection.draft, evidence)
        except (OSError, ValueError) as exc:
            log.error("automatic report of %s not saved: %s", detection.fingerprint, exc)
            resolution.error = str(exc)
        else:
            resolution.report_id = entry.id
        return resolution

    # ------------------------------------------------------------ headless loop

    def poll(self) -> list[Resolution]:
        return [self.resolve(detection) for detection in self.detect()]

    def run(self, should_stop: Callable[[], bool]) -> Iterator[Resolution]:
        while not should_stop():
            yield from self.poll()
            self.wait()

    def wait(self) -> None:
        self.watcher.wait(self.watcher.next_timeout())

    # ------------------------------------------------------------ user choices

    def snooze(self, fingerprint: str, minutes: float) -> None:
        self.policy.snooze(fingerprint, minutes)

    def mute(self, fingerprint: str) -> None:
        self.policy.mute(fingerprint)

    def close(self) -> None:
        self.watcher.close()


def _environment() -> dict[str, str]:
    """What the "+1" says about this machine: versions and OS, nothing that identifies a person."""
    import platform

    from reporter_app import __version__

    return {"reporter-app": __version__, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}
