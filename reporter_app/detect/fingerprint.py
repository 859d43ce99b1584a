"""Fingerprints: one stable id per root cause, ``brfp-`` + 12 hex digits of a SHA-256.

What goes into the hash is described in docs/fingerprint.md; in short, for a trace: its language,
exception types and its top in-app frames as ``module:function`` (no line numbers, addresses, ids,
install paths or message text); for a single line: its masked template. The hashed text is
versioned ("v1") so a future change of recipe can never collide with today's ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from reporter_app.detect.events import ErrorEvent, detect_events
from reporter_app.detect.frames import Frame, ParsedTrace, parse_trace
from reporter_app.detect.templater import (
    LineTemplater,
    mask,
    split_header,
    templates_for,
)

PREFIX = "brfp-"
RECIPE = "v1"
TOP_FRAMES = 5  # deep enough to tell two call paths apart, shallow enough to survive a refactor below them


def _digest(kind: str, parts: Sequence[str]) -> str:
    text = "\n".join([RECIPE, kind, *parts])
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def top_frames(trace: ParsedTrace, count: int = TOP_FRAMES) -> list[Frame]:
    frames = trace.primary_frames()
    in_app = [f for f in frames if f.in_app]
    # Without any application frame (a library failing on its own), the library frames are all we have.
    return (in_app or frames)[:count]


def trace_signature(language: str, lines: Sequence[str]) -> list[str]:
    """The exact text that is hashed for a trace (shown by ``docs/fingerprint.md`` and handy in tests)."""
    trace = parse_trace(language, lines)
    parts = [f"language {language}"]
    parts += [f"type {name}" for name in trace.exception_types]
    frames = top_frames(trace)
    parts += [f"frame {f.module}:{f.function}" for f in frames]
    if not frames or language in ("go", "dart"):
        # Nothing else names the error: a Go panic's or Dart error's message ("index out of range"), a frame-less error.
        parts += [f"message {mask(m)}" for m in trace.messages[:1]]
    return parts


def fingerprint_trace(language: str, lines: Sequence[str]) -> str:
    return _digest("trace", trace_signature(language, lines))


def line_signature(line: str) -> list[str]:
    source, content = split_header(line)
    return [f"source {source}", f"template {mask(content)}"]


def fingerprint_line(line: str) -> str:
    """A single log line: its logger name and masked template. The same on every machine."""
    return _digest("line", line_signature(line))


def fingerprint_event(event: ErrorEvent) -> str:
    if event.kind == "trace":
        return fingerprint_trace(event.language, event.trace_lines)
    return fingerprint_line(event.first_line)


def fingerprint_lines(lines: Sequence[str], templater: LineTemplater | None = None) -> list[str]:
    """One fingerprint per line, grouped by learnt templates (Drain) over all of ``lines``.

    Unlike :func:`fingerprint_line`, the groups depend on the other lines (a word that varies
    between lines of one template becomes a wildcard), which groups far better but means the same
    line can get another id in another file.
    """
    return [_digest("template", [f"source {t.source}", f"template {t.text}"]) for t in templates_for(lines, templater)]


def fingerprint_text(text: str) -> str | None:
    """For the manual form: the fingerprint of the first stack trace in pasted or attached text, if any."""
    traces = [e for e in detect_events(text.splitlines(), single_lines=False) if e.kind == "trace"]
    return fingerprint_event(traces[0]) if traces else None
