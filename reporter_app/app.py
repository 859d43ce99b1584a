"""The application's services, built once from paths and config and handed to the CLI and the GUI.

Nothing here is a module-level singleton: tests build an AppContext with their own home,
clock, environment and HTTP session.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capture.guard import guarded
from reporter_app import __version__
from reporter_app.bundle import Bundle, BundleWriter
from reporter_app.clock import Clock, SystemClock
from reporter_app.collect import Evidence
from reporter_app.config import Config, load_config
from reporter_app.credentials import CredentialError, get_token
from reporter_app.model import Impact, Priority, Reach, Report, Reporter, Role
from reporter_app.outbox import Outbox, OutboxEntry, OutboxError
from reporter_app.paths import AppPaths, resolve_paths
from reporter_app.fsutil import LockBusy, exclusive_lock
from reporter_app.sender import BackoffPolicy, OutboxSender, SendOutcome
from reporter_app.severity import rules_from_config, suggest_priority
from reporter_app.trackers import load_backend
from reporter_app.trackers.base import CredentialsError, Tracker, TrackerContext


_REPORT_ID = re.compile(r"[0-9a-f]{32}")  # what Report's default id (uuid4().hex) looks like


@dataclass
class Draft:
    """What the reporter typed (form or command line), before evidence is added."""

    title: str
    description: str = ""
    expected: str = ""
    steps: str = ""
    impact: Impact | None = None
    reach: Reach = Reach.JUST_ME
    priority: Priority | None = None  # None: take the suggestion
    component: str = ""
    attachments: list[Path] = field(default_factory=list)
    users_affected: int | None = None
    money_lost: bool = False
    # A detected error's fingerprint (docs/fingerprint.md); the sender merges into its ticket as a "+1"
    # unless the reporter chose "File a new report" (merge_duplicates False).
    fingerprint: str = ""
    merge_duplicates: bool = True
    # Set only by callers that must be able to tell whether they already wrote this report (detect/repeats.py
    # picks the id before writing, so a crash between the bundle and its own bookkeeping never queues it twice).
    report_id: str = ""


@dataclass
class AppContext:
    paths: AppPaths
    config: Config
    clock: Clock = field(default_factory=SystemClock)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    session: Any = None  # requests.Session, created on first use by HTTP backends
    _outbox: Outbox | None = None
    _trackers: dict[str, Tracker] = field(default_factory=dict)

    @classmethod
    def load(cls, home: str | None = None, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None,
             clock: Clock | None = None) -> AppContext:
        env = dict(os.environ if env is None else env)
        paths = resolve_paths(home, env)
        config = load_config(paths, env, overrides)
        return cls(paths=paths, config=config, clock=clock or SystemClock(), env=env)

    @property
    def backend(self) -> str:
        return str(self.config.get("tracker.backend"))

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.paths.outbox_db, self.paths.reports_dir, clock=self.clock)
        return self._outbox

    def tracker(self, backend: str | None = None) -> Tracker:
        """The configured backend. A report queued before the backend was changed goes to today's:
        the queue belongs to the user, not to yesterday's setting."""
        name = self.backend
        if name not in self._trackers:
            cls = load_backend(name)
            settings = self.config.section("tracker")
            token = None
            if any(option.secret for option in cls.options):
                try:
                    token = get_token(name, str(settings.get("url", "")), self.env)
                except CredentialError as exc:
                    raise CredentialsError(str(exc)) from exc
            if self.session is None and name != "local":
                import requests

                self.session = requests.Session()
                self.session.headers["User-Agent"] = f"reporter-app/{__version__}"
            context = TrackerContext(settings=settings, data_dir=self.paths.data_dir, token=token,
                                     session=self.session, clock=self.clock)
            self._trackers[name] = cls(context)  # type: ignore[call-arg]
        return self._trackers[name]

    def send_pending(self, **kwargs: Any) -> list[SendOutcome] | None:
        """Send what is due, as the one worker; None when another process (the tray app) is the worker."""
        if self.outbox.read_only:  # nothing could be claimed or recorded: say so in our error, not the lock file's
            raise OutboxError(f"{self.paths.data_dir}: Read-only file system: queued reports cannot be sent")
        try:
            with exclusive_lock(self.paths.data_dir / "outbox.lock", blocking=False):
                # Holding the lock proves no live process is mid-send: rows left `sending` were interrupted.
                self.outbox.recover_interrupted()
                self.outbox.rebuild_from_bundles()
                return self.sender(**kwargs).send_due()
        except LockBusy:
            return None

    def sender(self, **kwargs: Any) -> OutboxSender:
        policy = BackoffPolicy(base_seconds=float(self.config.get("outbox.base_backoff_seconds")),
                               max_seconds=float(self.config.get("outbox.max_backoff_seconds")))
        from reporter_app.detect.dedup import FingerprintMap

        if "fingerprints" not in kwargs:
            try:
                kwargs["fingerprints"] = FingerprintMap.in_data_dir(self.paths.data_dir)
            except (OSError, sqlite3.Error) as exc:
                # The map only saves a lookup (tracker.find covers it): a full or read-only disk must not stop
                # the queue from going out, nor crash the worker with an error that is not ours.
                logging.getLogger(__name__).error("fingerprint map unavailable, sending without it: %s", exc)
                kwargs["fingerprints"] = None
        return OutboxSender(self.outbox, self.tracker, clock=self.clock, policy=policy, **kwargs)

    def reporter(self) -> Reporter:
        return Reporter(name=str(self.config.get("reporter.name") or ""),
                        email=str(self.config.get("reporter.email") or ""),
                        role=Role(self.config.get("reporter.role")))

    def build_report(self, draft: Draft, evidence: Evidence) -> Report:
        # Headless reports may leave impact out; the form always asks.
        impact = draft.impact or Impact(self.config.get("report.default_impact") or Impact.MINOR)
        suggestion = suggest_priority(impact, draft.reach, users_affected=draft.users_affected,
                                      money_lost=draft.money_lost,
                                      rules=rules_from_config(self.config.get("priority.rules")))
        reporter = self.reporter()
        if draft.report_id and not _REPORT_ID.fullmatch(draft.report_id):
            # It names the bundle's folder: never a path, never a surprise.
            raise ValueError(f"report id {draft.report_id!r} is not 32 lowercase hex digits")
        # Only roles allowed to triage may override the suggested priority.
        chosen = draft.priority if (draft.priority and reporter.role.may_triage) else suggestion.priority
        reason = suggestion.reason if chosen == suggestion.priority else "set by the reporter"
        return Report(
            title=draft.title.strip(), description=draft.description, expected=draft.expected, steps=draft.steps,
            impact=impact, reach=draft.reach, priority=chosen, priority_reason=reason, component=draft.component,
            users_affected=draft.users_affected, money_lost=draft.money_lost,
            reporter=reporter, created_at=self.clock.now(), app_version=__version__,
            system=evidence.system, activity=evidence.activity, redactions=dict(evidence.redactions),
            collector_errors=dict(evidence.errors),
            fingerprint=draft.fingerprint, merge_duplicates=draft.merge_duplicates,
            installation_id=self.installation_id(), id=draft.report_id or uuid.uuid4().hex,
        )

    def installation_id(self) -> str:
        """This data dir's random installation id (made on first use): lets a ticket count distinct machines.
        A data dir that cannot keep it gives "": the report still goes out, only uncounted."""
        from reporter_app.detect.dedup import installation_id

        try:
            return installation_id(self.paths.data_dir)
        except OSError as exc:
            logging.getLogger(__name__).error("no installation id in %s: %s", self.paths.data_dir, exc)
            return ""

    def submit(self, draft: Draft, evidence: Evidence) -> tuple[Bundle, OutboxEntry]:
        """Write the bundle (atomically) and queue it. Sending is the outbox worker's job."""
        if not draft.title.strip():
            raise ValueError("a report needs a title")
        missing = [str(p) for p in draft.attachments if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"attachment not found: {', '.join(missing)}")
        replay = self._encode_replay(evidence)  # before the report is built: a failure is recorded in it
        report = self.build_report(draft, evidence)
        writer = BundleWriter(self.paths.reports_dir, report)
        if replay is not None:
            writer.add_bytes("replay.webm", replay.data, kind="replay", content_type=replay.content_type,
                             note=replay.note)
        if evidence.screenshot_png is not None:
            writer.add_bytes("screenshot.png", evidence.screenshot_png, kind="screenshot", content_type="image/png")
        for excerpt in evidence.logs:
            writer.add_bytes(f"logs/{_safe_name(excerpt.name)}.txt", excerpt.text.encode("utf-8"), kind="log",
                             content_type="text/plain; charset=utf-8", note=excerpt.note)
        used: set[str] = set()
        for path in draft.attachments:
            name = _unique(_safe_name(Path(path).name), used)
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            writer.add_file(f"attachments/{name}", Path(path), kind="file", content_type=content_type)
        bundle = writer.commit()
        return bundle, self.outbox.enqueue(bundle, self.backend)

    def _encode_replay(self, evidence: Evidence) -> Any:
        """The screen replay as a video that fits the tracker's attachment limit; None (and why) on failure."""
        if evidence.replay is None:
            return None
        limit = guarded("replay", lambda: self.tracker().limits().max_attachment_bytes, {}, None)
        return guarded("replay", lambda: evidence.replay.encode(limit), evidence.errors, None)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return cleaned or "file"


def _unique(name: str, used: set[str]) -> str:
    stem, dot, suffix = name.partition(".")
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}{dot}{suffix}"
    used.add(candidate)
    return candidate
