"""Error events from a stream of log lines: multi-line stack traces and single ERROR/FATAL lines.

:class:`EventDetector` is fed one line at a time (by the watcher, or from a file) and returns the
events that are complete. A trace usually ends only when a line arrives that does not fit, so the
last event of a quiet log is held until the next line or :meth:`EventDetector.flush`; the watcher
flushes after a short idle time so a crash is reported without waiting for more output.

A logged error immediately followed by its trace (``log.exception("payment failed")``, a Java
``ERROR ... - request failed`` line above ``java.lang...Exception``) is one event: the ERROR line
is its first line and ``trace_start`` says where the trace itself begins.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from reporter_app.detect.traces import ALL_RULES, Start, Step, TraceRules

# Level words as loggers print them: upper case anywhere near the start, lower case only in the
# shapes that mean a level ("[error]", "level=error", "<E>"), so "0 errors" stays quiet.
_LEVEL_CRITICAL = re.compile(
    r"\b(?:FATAL|CRITICAL|CRIT|EMERG(?:ENCY)?|ALERT|PANIC|SEVERE)\b"
    r"|\[(?:fatal|crit|critical|alert|emerg)\]"
    r"|\blevel=\"?(?:fatal|critical|crit|panic)\b"
    r"|\"level\"\s*:\s*\"(?:fatal|critical|crit|panic)\""
    r"|PHP Fatal error:"
)
_LEVEL_ERROR = re.compile(
    r"\b(?:ERROR|ERR|E)\b(?!\s*[=:]\s*(?:0|none|null)\b)"
    r"|\[(?:error|err)\]"
    r"|\blevel=\"?(?:error|err)\b"
    r"|\"level\"\s*:\s*\"(?:error|err)\""
)
# "E" alone is Android/glog's error level, but only as the leading field ("E0105 ...", "E/Tag").
_SHORT_E = re.compile(r"\bE\b")
_GLOG_ERROR = re.compile(r"^[EF]\d{4} |^\S*\s*[EF]/\w")
_LEVEL_SCAN_CHARS = 160  # the level sits in the header; a message that mentions ERROR is not an error line
_MAX_TRACE_LINES = 2000  # a runaway "trace" is cut and emitted rather than buffered forever
_CONTEXT_LINES = 5


@dataclass(frozen=True)
class ErrorEvent:
    """One error: a whole stack trace (kind ``trace``) or one log line (kind ``line``)."""

    kind: str  # "trace" | "line"
    lines: tuple[str, ...]
    line_number: int  # 1-based number of the first line in the stream
    language: str = ""  # "python", "jvm", "go", "php", "ruby", "dart"; "" for a single line
    severity: str = "error"  # "error" | "critical"
    crash: bool = False  # uncaught: a panic, an "Unhandled exception", a PHP fatal error
    trace_start: int = 0  # index in ``lines`` where the trace proper begins (after a logged ERROR line)
    context_before: tuple[str, ...] = ()

    @property
    def first_line(self) -> str:
        return self.lines[0]

    @property
    def last_line(self) -> str:
        return self.lines[-1]

    @property
    def last_line_number(self) -> int:
        return self.line_number + len(self.lines) - 1

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def trace_lines(self) -> tuple[str, ...]:
        return self.lines[self.trace_start :]


def line_severity(line: str) -> str | None:
    """``critical``, ``error`` or None: the level a log line announces in its header."""
    head = line[:_LEVEL_SCAN_CHARS]
    if _LEVEL_CRITICAL.search(head):
        return "critical"
    match = _LEVEL_ERROR.search(head)
    if match is None and _GLOG_ERROR.match(head):
        return "error"
    if match is None:
        return None
    if _SHORT_E.fullmatch(match.group(0)):
        return "error" if _GLOG_ERROR.match(head) else None
    return "error"


@dataclass
class _OpenTrace:
    rules: TraceRules
    start: Start
    state: str
    line_number: int
    lines: list[str]
    tentative: list[str] = field(default_factory=list)
    confirmed: bool = False
    header: str | None = None  # a logged ERROR line just above the trace


class EventDetector:
    """Feed lines, collect finished events. Never raises on odd input; lines may be any text."""

    def __init__(self, rules: Iterable[TraceRules] = ALL_RULES, single_lines: bool = True) -> None:
        self._rules = tuple(rules)
        self._single_lines = single_lines
        self._trace: _OpenTrace | None = None
        self._pending_error: tuple[int, str, str] | None = None  # (line number, line, severity)
        self._line_number = 0
        self._context: deque[str] = deque(maxlen=_CONTEXT_LINES)
        self._queue: deque[tuple[int, str]] = deque()

    def feed(self, line: str) -> list[ErrorEvent]:
        self._line_number += 1
        out: list[ErrorEvent] = []
        self._queue.append((self._line_number, line.rstrip("\r\n")))
        self._drain(out)
        return out

    def feed_many(self, lines: Iterable[str]) -> Iterator[ErrorEvent]:
        for line in lines:
            yield from self.feed(line)

    def flush(self) -> list[ErrorEvent]:
        """End whatever is open (end of file, or the log went quiet): a trace ends at its last sure line."""
        out: list[ErrorEvent] = []
        # Closing may hand back held lines, which may open (and need closing of) another trace.
        while self._trace is not None:
            self._close_trace(out)
            self._drain(out)
        self._emit_pending_error(out)
        return out

    @property
    def busy(self) -> bool:
        """Something is held back waiting for the next line (the watcher flushes after an idle delay)."""
        return self._trace is not None or self._pending_error is not None

    # ----------------------------------------------------------------- internals

    def _drain(self, out: list[ErrorEvent]) -> None:
        # A queue, not recursion: lines handed back by a trace that ended are looked at again in order.
        while self._queue:
            number, line = self._queue.popleft()
            self._process(number, line, out)

    def _replay(self, numbered: list[tuple[int, str]]) -> None:
        self._queue.extendleft(reversed(numbered))

    def _process(self, number: int, line: str, out: list[ErrorEvent]) -> None:
        trace = self._trace
        if trace is None:
            self._process_fresh(number, line, out)
            return
        step, state = trace.rules.step(trace.state, line)
        if step is Step.CONTINUE or step is Step.END_WITH:
            trace.lines.extend(trace.tentative)
            trace.tentative.clear()
            trace.lines.append(line)
            trace.confirmed = True
            trace.state = state
            if step is Step.END_WITH or len(trace.lines) >= _MAX_TRACE_LINES:
                self._close_trace(out)
            return
        if step is Step.TENTATIVE and len(trace.lines) + len(trace.tentative) < _MAX_TRACE_LINES:
            trace.tentative.append(line)
            trace.state = state
            return
        # The trace ended before this line; this line (after any held ones) is looked at afresh.
        self._replay([(number, line)])
        self._close_trace(out)

    def _process_fresh(self, number: int, line: str, out: list[ErrorEvent]) -> None:
        for rules in self._rules:
            start = rules.start(line)
            if start is not None:
                header = None
                if self._pending_error is not None and self._pending_error[0] == number - 1:
                    header = self._pending_error[1]
                    self._pending_error = None
                else:
                    self._emit_pending_error(out)
                self._trace = _OpenTrace(
                    rules=rules, start=start, state=start.state, line_number=number, lines=[line],
                    confirmed=start.confirmed, header=header,
                )
                return
        self._plain_line(number, line, out)

    def _plain_line(self, number: int, line: str, out: list[ErrorEvent]) -> None:
        self._emit_pending_error(out)
        severity = line_severity(line) if self._single_lines else None
        if severity is not None:
            # Held for one line: a trace may follow and belong to it.
            self._pending_error = (number, line, severity)
            return
        self._remember(line)

    def _emit_pending_error(self, out: list[ErrorEvent]) -> None:
        if self._pending_error is None:
            return
        number, line, severity = self._pending_error
        self._pending_error = None
        out.append(ErrorEvent(kind="line", lines=(line,), line_number=number, severity=severity,
                              crash=False, context_before=tuple(self._context)))
        self._remember(line)

    def _close_trace(self, out: list[ErrorEvent]) -> None:
        """End the open trace; lines it held without proof are handed back to the queue."""
        trace = self._trace
        assert trace is not None
        self._trace = None
        first = trace.line_number
        if not trace.confirmed:
            # Never proven to be a trace: its first line is an ordinary line (maybe an ERROR line).
            if trace.header is not None:
                self._pending_error = (first - 1, trace.header, line_severity(trace.header) or "error")
            rest = [*trace.lines[1:], *trace.tentative]
            self._replay([(first + offset, again) for offset, again in enumerate(rest, start=1)])
            self._plain_line(first, trace.lines[0], out)
            return
        self._replay([(first + len(trace.lines) + offset, again) for offset, again in enumerate(trace.tentative)])
        lines = list(trace.lines)
        trace_start = 0
        severity = "critical" if trace.start.fatal else "error"
        if trace.header is not None:
            lines.insert(0, trace.header)
            first -= 1
            trace_start = 1
            if line_severity(trace.header) == "critical":
                severity = "critical"
        out.append(ErrorEvent(kind="trace", lines=tuple(lines), line_number=first,
                              language=trace.rules.language, severity=severity, crash=trace.start.fatal,
                              trace_start=trace_start, context_before=tuple(self._context)))
        for kept in lines[-_CONTEXT_LINES:]:
            self._remember(kept)

    def _remember(self, line: str) -> None:
        self._context.append(line)


def detect_events(lines: Iterable[str], single_lines: bool = True) -> list[ErrorEvent]:
    """All error events in ``lines`` (a whole file, a captured excerpt), in order."""
    detector = EventDetector(single_lines=single_lines)
    events = list(detector.feed_many(lines))
    events.extend(detector.flush())
    return events
