"""Automated error detection: events from log lines, fingerprints, templates, watcher, alert rules, dedup.

Entry points for the CLI and UI:

- ``detect_events(lines)`` / ``EventDetector``: error events (whole stack traces, ERROR/FATAL lines).
- ``fingerprint_event(event)``, ``fingerprint_trace(language, lines)``, ``fingerprint_text(text)``:
  ``brfp-<12 hex>`` ids (recipe in docs/fingerprint.md).
- ``LogWatcher``: follows log files and yields events.
- ``AlertPolicy``: whether an event prompts, files automatically, or stays quiet.
- ``FingerprintMap`` + ``decide``: "already reported as KEY (status)" before filing.
- ``commands.fingerprint_file``: ``reporter-app fingerprint [--lines] FILE``.

Heavy pieces (SQLite, inotify) are imported from their modules, not here.
"""

from __future__ import annotations

from reporter_app.detect.events import ErrorEvent, EventDetector, detect_events
from reporter_app.detect.fingerprint import (
    fingerprint_event,
    fingerprint_line,
    fingerprint_lines,
    fingerprint_text,
    fingerprint_trace,
)

__all__ = [
    "ErrorEvent",
    "EventDetector",
    "detect_events",
    "fingerprint_event",
    "fingerprint_line",
    "fingerprint_lines",
    "fingerprint_text",
    "fingerprint_trace",
]
