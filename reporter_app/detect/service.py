"""Detection wired to the product: watched logs -> alert decisions -> pre-filled reports.

:class:`DetectionService` follows the ``[[logs]]`` files and journals chosen by ``[detect]``, gives each error
event its fingerprint, asks the :class:`AlertPolicy` whether anyone should hear about it, and
turns each alert into a :class:`Detection`: a pre-filled :class:`Draft` (title from the
exception's first line, the trace in the description) and :class:`Evidence` holding the trace
with the lines before it as a log attachment, all scrubbed before anything leaves this module.

Two steps, because they belong on different threads in the GUI (ui/error_watch.py):

- :meth:`DetectionService.detect`: read the logs and decide. Files and CPU only; the watcher thread.
- :meth:`DetectionService.resolve`: look the fingerprint up (local map, then ``Tracker.find``) and,
  for an ``auto`` decision, queue the report with ``ctx.submit``. Tracker and outbox work; the
  GUI runs it on the core worker with every other ``AppContext`` call.

A repeat of an error that has a ticket is no alert: ``detect`` counts it into a "+1" note
(detect/repeats.py) and :meth:`DetectionService.post_repeats` (core worker) queues the notes due.

The sender merges a report whose fingerprint already has a ticket into that ticket (a "+1"), so
``auto`` never files the same root cause twice; the policy's ``auto_max`` rate-limits filing.
No Qt here: the CLI and the tests drive it directly (:meth:`poll`, :meth:`run`).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reporter_app.app import AppContext, Draft
from reporter_app.bundle import BundleError
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
    SilenceStore,
    classify,
)
from reporter_app.detect.dedup import (
    DedupDecision,
    FingerprintMap,
    Occurrences,
    lookup,
    occurrence_comment,
)
from reporter_app.detect.events import ErrorEvent, EventDetector
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.detect.repeats import RepeatBatch, RepeatLedger
from reporter_app.detect.templater import split_header
from reporter_app.detect.journal import JournalSource
from reporter_app.detect.watch import LogWatcher
from reporter_app.model import Impact
from reporter_app.outbox import OutboxError
from reporter_app.trackers.base import Tracker

log = logging.getLogger(__name__)

TITLE_MAX = 120
REPEAT_WAKE_MIN_S = 0.05  # wake just after a window of held repeats ends
REPEAT_RETRY_S = 1.0
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
    occurrence_interval_minutes: float = 10.0  # at most one automatic "+1" note per fingerprint this often

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
            occurrence_interval_minutes=float(config.get("detect.occurrence_interval_minutes")),
        )

    def policy(self, clock: Clock, store: SilenceStore | None = None) -> AlertPolicy:
        return AlertPolicy(clock, rules=self.rules, default=self.default, auto_max=self.auto_max_per_hour,
                           auto_window_minutes=AUTO_WINDOW_MINUTES, store=store, describe=error_title)


def watched_sources(logs: list[LogSource], names: tuple[str, ...],
                    platform: str = sys.platform) -> tuple[list[LogSource], list[str]]:
    """The sources to follow (files, and journals on Linux), and a warning per source that can't be followed."""
    by_name = {source.name: source for source in logs}
    warnings: list[str] = []
    has_journal = platform.startswith("linux")
    chosen: list[LogSource] = []
    for name in names or [s.name for s in logs]:
        source = by_name.get(name)
        if source is None:
            warnings.append(f"detect.sources: no [[logs]] entry named {name!r}")
        elif source.path:
            chosen.append(source)
        elif not has_journal:
            if names:  # asked for by name: say why nothing comes of it
                warnings.append(f"detect.sources: {name!r} is a journal source; the journal exists only on Linux")
        else:
            try:
                JournalSource(source.journal, source.journal_file)
            except ValueError as exc:
                warnings.append(f"[[logs]] {name!r}: {exc}")
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
                          for source in self.sources if source.path}
        self._journals = {source.name: JournalSource(source.journal, source.journal_file)
                          for source in self.sources if source.journal}
        single_lines = self.settings.single_lines
        self.watcher = watcher or LogWatcher(list(self._patterns.values()), journals=self._journals.values(),
                                             detector_factory=lambda: EventDetector(single_lines=single_lines))
        # Snoozes and mutes outlive a restart (silenced.json in the data dir); sync() in detect() saves them.
        self.policy = self.settings.policy(self.clock, SilenceStore.in_data_dir(ctx.paths.data_dir, self.clock))
        self.fingerprints = FingerprintMap.in_data_dir(ctx.paths.data_dir)
        self.fingerprints.keep_open()  # one or two writes per error event: see keep_open
        self.repeats = RepeatLedger(self.fingerprints,
                                    timedelta(minutes=self.settings.occurrence_interval_minutes))
        self._followed: set[str] = set()  # fingerprints known to have a repeat window (saves a query each)
        self._tracker = tracker or ctx.tracker
        self._scrubber = make_scrubber(ctx.config)

    # ------------------------------------------------------------ step 1: detect (files, CPU)

    def detect(self) -> list[Detection]:
        """New error events since the last call that should reach someone (the policy decides).

        A repeat of an error that has a ticket is not a detection: it is counted towards that
        ticket's next "+1" note (detect/repeats.py), as are the repeats the policy holds back after
        an alert (cooldown, snooze, an open prompt), which wait for the ticket the alert may become.
        """
        detections: list[Detection] = []
        self.policy.sync()  # the snoozes and mutes chosen since the last round, and those changed by the CLI
        for watched in self.watcher.poll():
            event = watched.event
            if event.kind == "line" and not self.settings.single_lines:
                continue
            fingerprint = fingerprint_event(event)
            now = self.clock.now()
            try:
                seen: Occurrences | None = self.fingerprints.record_occurrence(fingerprint, now)
                ticket = self.fingerprints.ticket_for(fingerprint)
            except Exception as exc:  # noqa: BLE001 - the counts only enrich the report; detection goes on
                log.error("could not count an occurrence of %s: %s", fingerprint, exc)
                seen, ticket = None, None
            ignored = self.policy.rule_for(event, fingerprint).action == "ignore"
            if ticket is not None and not ignored:
                self._repeat(fingerprint, event, now, seen)
                log.info("error %s in %s: a repeat of %s, no prompt", fingerprint, watched.path, ticket.key)
                continue
            decision = self.policy.observe(event, fingerprint)
            log.info("error %s in %s: %s (%s)", fingerprint, watched.path, decision.action, decision.reason)
            if decision.notify:
                detection = self._detection(watched.path, event, fingerprint, decision, seen)
                self._follow(fingerprint, event, detection.draft.title)
                detections.append(detection)
            elif not ignored and self._follows(fingerprint):
                self._repeat(fingerprint, event, now, seen)
        self._close_due()
        return detections

    # ------------------------------------------------------------ repeats (files and SQLite: the watcher thread)

    def _follow(self, fingerprint: str, event: ErrorEvent, title: str) -> None:
        if fingerprint in self._followed:
            return
        impact = Impact.MAJOR.value if classify(event) is not Severity.ERROR else ""
        try:
            self.repeats.follow(fingerprint, title, impact)
        except Exception as exc:  # noqa: BLE001 - the alert itself must still reach the reporter
            log.error("repeats of %s will not be counted: %s", fingerprint, exc)
            return
        self._followed.add(fingerprint)

    def _follows(self, fingerprint: str) -> bool:
        if fingerprint in self._followed:
            return True
        try:
            known = self.repeats.follows(fingerprint)  # an alert raised before a restart
        except Exception as exc:  # noqa: BLE001
            log.error("could not read the repeats of %s: %s", fingerprint, exc)
            return False
        if known:
            self._followed.add(fingerprint)
        return known

    def _repeat(self, fingerprint: str, event: ErrorEvent, at: datetime, seen: Occurrences | None) -> None:
        if seen is None:
            return  # the map could not count it (logged): nothing consistent to add to
        if fingerprint not in self._followed:
            evidence = Evidence()  # only for the scrubber's counts, which a title-only use throws away
            self._follow(fingerprint, event, self._scrub(error_title(event), evidence))
        try:
            self.repeats.add(fingerprint, at, seen.count)
        except Exception as exc:  # noqa: BLE001 - one lost "+1" must not stop the watching
            log.error("repeat of %s not recorded: %s", fingerprint, exc)

    def _close_due(self) -> None:
        try:
            self.repeats.close_due(self.clock.now())
        except Exception as exc:  # noqa: BLE001 - retried on the next round
            log.error("held repeats not closed: %s", exc)

    def repeats_ready(self) -> bool:
        """Notes waiting only to be queued (their ticket exists): the GUI then runs :meth:`post_repeats`."""
        try:
            return self.repeats.has_ready()
        except Exception as exc:  # noqa: BLE001
            log.error("could not read the waiting repeats: %s", exc)
            return False

    def _source_of(self, path: str) -> str:
        for name, journal in self._journals.items():
            if path == journal.key:
                return name
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
        """Local map, then the tracker (a hit is remembered); a tracker that can't be reached is reported."""
        return lookup(fingerprint, self.fingerprints, self._tracker, self.clock)

    def resolve(self, detection: Detection) -> Resolution:
        """The dedup offer for the form; for ``auto``, the report queued (the sender merges a known one)."""
        dedup = self.lookup(detection.fingerprint)
        seen = detection.occurrences
        # A repeat (known here, or queued by `auto` before its ticket exists) becomes a "+1" note, which
        # quotes the description's start: lead with the counts and this installation.
        if seen is not None and (dedup.duplicate or seen.count > 1):
            summary = occurrence_comment(detection.fingerprint, seen, _environment(), self.ctx.installation_id())
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

    def post_repeats(self) -> list[str]:
        """Queue each closed group of repeats whose fingerprint has a ticket as a "+1" report.

        Outbox work: the core worker in the GUI. Returns the queued report ids. A group that could
        not be queued stays and is tried again next time; one already written is not written twice.
        """
        queued: list[str] = []
        self._close_due()  # a window that ended since the watcher's last round counts too
        try:
            ready = self.repeats.ready()
        except Exception as exc:  # noqa: BLE001 - retried on the next round
            log.error("could not read the waiting repeats: %s", exc)
            return queued
        for item in ready:
            batch = item.batch
            if not (self.ctx.paths.reports_dir / batch.report_id).exists():
                try:
                    self.ctx.submit(self._repeat_draft(batch), Evidence())
                except (OSError, ValueError, BundleError, OutboxError) as exc:
                    log.error("the \"+1\" for %s on %s was not queued: %s", batch.fingerprint, item.ticket.key, exc)
                    break  # the disk or the outbox is failing: the rest waits too, in order
            # else: written before a crash; the outbox finds the bundle (rebuild_from_bundles) if it lacks the row
            self.repeats.mark_queued(batch.seq)
            queued.append(batch.report_id)
            log.info("%d repeat(s) of %s queued as a \"+1\" on %s", batch.span.count, batch.fingerprint,
                     item.ticket.key)
        return queued

    def _repeat_draft(self, batch: RepeatBatch) -> Draft:
        span = batch.span
        known = self.fingerprints.occurrences(batch.fingerprint)
        first = min(known.first_seen, span.first_seen) if known is not None else span.first_seen
        text = occurrence_comment(batch.fingerprint, Occurrences(span.total, first, span.last_seen), _environment(),
                                  self.ctx.installation_id(),
                                  new=Occurrences(span.count, span.first_seen, span.last_seen))
        return Draft(title=batch.title or f"Error {batch.fingerprint} seen again", description=text,
                     impact=Impact(batch.impact) if batch.impact else None, fingerprint=batch.fingerprint,
                     merge_duplicates=True, report_id=batch.report_id)

    # ------------------------------------------------------------ headless loop

    def poll(self) -> list[Resolution]:
        resolutions = [self.resolve(detection) for detection in self.detect()]
        self.post_repeats()
        return resolutions

    def run(self, should_stop: Callable[[], bool]) -> Iterator[Resolution]:
        while not should_stop():
            yield from self.poll()
            self.wait()

    def wait(self) -> None:
        self.watcher.wait(self.next_timeout())

    def next_timeout(self) -> float:
        """The watcher's, but no later than the end of the first window holding repeats (its note is due)."""
        timeout = self.watcher.next_timeout()
        try:
            closes = self.repeats.next_close()
        except Exception:  # noqa: BLE001 - reported by the round that uses the ledger
            closes = None
        if closes is not None:
            delay = (closes - self.clock.now()).total_seconds()
            # Already due after a round that closes due windows: the ledger is failing (logged); don't spin on it.
            timeout = min(timeout, delay + REPEAT_WAKE_MIN_S if delay > 0 else REPEAT_RETRY_S)
        return timeout

    # ------------------------------------------------------------ user choices

    # Called on the GUI thread: the policy changes in memory; the watcher, woken, saves it off that thread.

    def snooze(self, fingerprint: str, minutes: float) -> None:
        self.policy.snooze(fingerprint, minutes)
        self.watcher.wake()

    def mute(self, fingerprint: str) -> None:
        self.policy.mute(fingerprint)
        self.watcher.wake()

    def wake(self) -> None:
        """End the current :meth:`wait` now (from any thread), e.g. to stop the watching loop at once."""
        self.watcher.wake()

    def close(self) -> None:
        self.policy.sync()
        self.watcher.close()
        self.fingerprints.close()


def _environment() -> dict[str, str]:
    """What the "+1" says about this machine: versions and OS, nothing that identifies a person."""
    import platform

    from reporter_app import __version__

    return {"reporter-app": __version__, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}
