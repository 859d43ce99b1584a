"""Gathers the evidence for a report from the capture collectors, each in its own guard.

Everything returned here is already scrubbed: nothing unscrubbed reaches disk or the form.
A collector that fails records why in `errors` and the report still goes out.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime
from pathlib import Path
from typing import Any

from capture.guard import guarded

from reporter_app import __version__

log = logging.getLogger(__name__)


@dataclass
class LogEvidence:
    name: str
    text: str
    line_count: int
    note: str = ""


@dataclass
class Evidence:
    system: dict[str, Any] = field(default_factory=dict)
    screenshot_png: bytes | None = None
    screenshot_meta: dict[str, Any] = field(default_factory=dict)
    logs: list[LogEvidence] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    redactions: Counter[str] = field(default_factory=Counter)
    errors: dict[str, str] = field(default_factory=dict)
    # Screen replay the reporter chose to attach: capture.replay_encode.ReplaySelection (`.encode(max_bytes)`).
    replay: Any = None


def make_scrubber(config: Any) -> Any:
    from capture.scrub import DEFAULT_RULES, Scrubber, ScrubRule

    extra = [ScrubRule(name=str(r["name"]), pattern=str(r["pattern"])) for r in (config.get("privacy.rules") or [])]
    home = str(Path.home()) if config.get("privacy.scrub_home") else None
    return Scrubber([*DEFAULT_RULES, *extra], emails=bool(config.get("privacy.scrub_emails")),
                    ips=bool(config.get("privacy.scrub_ips")), home=home)


def collect_system(config: Any, scrubber: Any, evidence: Evidence) -> None:
    from capture.system import collect_system as collect

    data_dir = config.paths.data_dir
    allow = list(config.get("capture.env_allowlist") or [])
    system: dict[str, Any] = guarded(
        "system", lambda: collect(data_dir, allow, app_version=__version__, scrubber=scrubber), evidence.errors, {})
    # Window titles and environment values may hold secrets too; the scrubber is idempotent.
    evidence.system = _scrub_values(system, scrubber, evidence.redactions)


def collect_logs(config: Any, scrubber: Any, evidence: Evidence, now: datetime | None = None) -> None:
    from capture.logs import LogSourceSpec, read_recent

    for source in config.logs:
        spec = LogSourceSpec(name=source.name, path=source.path, journal=source.journal,
                             journal_file=source.journal_file, lines=source.lines,
                             minutes=source.minutes, max_bytes=source.max_bytes,
                             max_line_length=source.max_line_length)
        excerpt = guarded(f"logs.{source.name}", partial(read_recent, spec, now), evidence.errors, None)
        if excerpt is None:
            continue
        result = scrubber.scrub(excerpt.text)
        evidence.redactions.update(result.counts)
        evidence.logs.append(LogEvidence(name=source.name, text=result.text, line_count=excerpt.line_count,
                                         note=excerpt.note))


def collect_screenshot(config: Any, evidence: Evidence) -> None:
    mode = str(config.get("capture.screenshot"))
    if mode == "none":
        evidence.errors["screenshot"] = "turned off in the configuration (capture.screenshot = \"none\")"
        return
    from capture.screenshot import encode_png, grab

    shot = guarded("screenshot", lambda: grab(mode), evidence.errors, None)
    if shot is None:
        return
    evidence.screenshot_meta = {"width": shot.width, "height": shot.height, "left": shot.left, "top": shot.top,
                                "monitor": shot.monitor_index, "scale": shot.scale, "mode": shot.mode}
    evidence.screenshot_png = guarded("screenshot", lambda: encode_png(shot), evidence.errors, None)


def collect_headless(config: Any, *, screenshot: bool) -> Evidence:
    """What `reporter-app report` gathers without a form: system, logs, and a screenshot if asked."""
    evidence = Evidence()
    scrubber = guarded("scrubber", lambda: make_scrubber(config), evidence.errors, None)
    if scrubber is None:
        # Without a scrubber nothing that may hold secrets is collected; the report still goes out.
        evidence.errors.setdefault("logs", "not collected: the secret scrubber could not be set up")
        return evidence
    if screenshot:
        collect_screenshot(config, evidence)
    else:
        evidence.errors["screenshot"] = "not requested (--no-screenshot)"
    collect_system(config, scrubber, evidence)
    collect_logs(config, scrubber, evidence)
    collect_foreground_activity(config, evidence)
    return evidence


def collect_foreground_activity(config: Any, evidence: Evidence) -> None:
    """Without the tray app there is no history of window changes: record the window in front at capture time.

    The running app keeps the real timeline (capture.activity.ActivityRecorder) and puts it in its reports.
    """
    if int(config.get("capture.activity_events") or 0) <= 0:
        return
    foreground = (evidence.system or {}).get("foreground")
    if not foreground:
        return
    from reporter_app.clock import SystemClock, utc_iso

    evidence.activity = [{"at": utc_iso(SystemClock().now()), "title": str(foreground.get("title") or ""),
                          "process": str(foreground.get("process") or ""),
                          "window_class": str(foreground.get("window_class") or "")}]


def _scrub_values(value: Any, scrubber: Any, counts: Counter[str]) -> Any:
    if isinstance(value, str):
        result = scrubber.scrub(value)
        counts.update(result.counts)
        return result.text
    if isinstance(value, dict):
        return {k: _scrub_values(v, scrubber, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_values(v, scrubber, counts) for v in value]
    return value
