"""Per-language state machines that say where a multi-line stack trace starts, continues and ends.

Each language is a :class:`TraceRules`: ``start(line)`` says whether a line can open a trace (and in
which state), ``step(state, line)`` says what the next line does to an open one. Traces rarely
announce their end, so most end when a line does not fit; lines that *might* belong (a blank line
before "During handling of the above exception...") are held as tentative and only kept when the
trace goes on. A start that needs confirmation (a Java "...Exception: msg" line is just a log line
unless frames follow) stays unconfirmed until a line proves it.

Patterns are anchored and linear (no nested quantifiers) so arbitrary text can't make them slow.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum


class Step(Enum):
    CONTINUE = "continue"  # the line belongs; tentative lines before it do too; the trace is confirmed
    TENTATIVE = "tentative"  # the line belongs only if the trace goes on after it
    END_WITH = "end_with"  # the line is the trace's last line
    END = "end"  # the trace ended before this line (and before any tentative lines)


@dataclass(frozen=True)
class Start:
    language: str
    state: str
    confirmed: bool
    fatal: bool  # an uncaught crash (panic, "Unhandled exception"), not an error that was logged


class TraceRules(ABC):
    language = ""

    @abstractmethod
    def start(self, line: str) -> Start | None:
        """Whether `line` opens a trace of this language, and in which state."""

    @abstractmethod
    def step(self, state: str, line: str) -> tuple[Step, str]:
        """What `line` does to an open trace in `state`: continue, end before it, end with it; and the next state."""


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# --------------------------------------------------------------------------- Python

_PY_START = _c(r"^\s*(?:\+ )?(?:Exception Group )?Traceback \(most recent call last\):\s*$")
_PY_INDENTED = _c(r"^(?:\s+\S|\s*[|+][ -])")
# "ValueError: x", "pkg.mod.Error", "error: [Errno 111] ...", "KeyboardInterrupt"
_PY_EXC = _c(r"^[A-Za-z_][\w.]*(?::.*)?$")
_PY_CHAIN = _c(
    r"^\s*(?:During handling of the above exception, another exception occurred:"
    r"|The above exception was the direct cause of the following exception:)\s*$"
)
_BLANK = _c(r"^\s*$")


class PythonRules(TraceRules):
    language = "python"

    def start(self, line: str) -> Start | None:
        if _PY_START.match(line):
            return Start(self.language, "frames", confirmed=True, fatal=False)
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if state == "frames":
            if _PY_INDENTED.match(line):
                return Step.CONTINUE, "frames"
            if _PY_EXC.match(line):
                return Step.CONTINUE, "exception"
            return Step.END, ""
        if state == "exception":
            # A chained exception follows after a blank line; anything else ends the trace here.
            if _BLANK.match(line):
                return Step.TENTATIVE, "blank1"
            if _PY_CHAIN.match(line):
                return Step.TENTATIVE, "chain"
            return Step.END, ""
        if state == "blank1":
            return (Step.TENTATIVE, "chain") if _PY_CHAIN.match(line) else (Step.END, "")
        if state in ("chain", "blank2"):
            if _PY_START.match(line):
                return Step.CONTINUE, "frames"
            if _BLANK.match(line) and state == "chain":
                return Step.TENTATIVE, "blank2"
            return Step.END, ""
        return Step.END, ""


# --------------------------------------------------------------------------- JVM, JavaScript, .NET

# Java/Kotlin/Scala, Node/V8 and .NET print the same shape: a "Type: message" line, then "at" frames.
_JVM_START = _c(r"(?:Exception|Error|Throwable|V8 errors stack trace)(?::|\s*$)")
_JVM_FRAME = _c(r"^\s+(?:eval )?at\s")
_JVM_CAUSE = _c(r"^\s*(?:Caused by|Suppressed):")
_JVM_MORE = _c(r"^\s*\.\.\. \d+ (?:more|common frames omitted)\s*$")
_DOTNET_END = _c(r"^\s*--- End of .*---\s*$")
_JVM_NESTED = _c(r"^\s*nested exception is:\s*$")
_FATAL_WORDS = _c(r"(?i)\b(?:fatal|uncaught|unhandled|crash(?:ed)?)\b|Exception in thread ")


class JvmRules(TraceRules):
    language = "jvm"

    def start(self, line: str) -> Start | None:
        if _JVM_START.search(line) and not _JVM_FRAME.match(line):
            return Start(self.language, "header", confirmed=False, fatal=bool(_FATAL_WORDS.search(line)))
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if _JVM_FRAME.match(line) or _JVM_MORE.match(line) or _DOTNET_END.match(line):
            return Step.CONTINUE, "frames"
        if _JVM_CAUSE.match(line):
            return Step.CONTINUE, "header"
        if state in ("header", "nested_type"):
            if _JVM_NESTED.match(line):
                return Step.TENTATIVE, "nested"
            if _BLANK.match(line) and state == "header":
                return Step.TENTATIVE, "nested_type"
        if state == "nested" and line.strip():
            return Step.TENTATIVE, "header"
        return Step.END, ""


# --------------------------------------------------------------------------- Go

_GO_PANIC = _c(r"\bpanic(?: serving \S+?)?: |^fatal error: |^(?:SIGQUIT|SIGABRT|SIGSEGV|SIGBUS): ")
_GO_ROUTINE = _c(r"^goroutine \d+ \[[^\]]*\]:\s*$")
_GO_PREAMBLE = _c(r"^(?:\[signal |\s*panic: |PC=|\s*\[recovered\]|r\w*\s+0x|\w+\s+0x[0-9a-f]+$)")
_GO_FUNC = _c(r"^(?:created by \S|\S+\(.*\)(?: \{.*\})?\s*$|\.\.\.\d* ?additional frames elided\.\.\.)")
_GO_FILE = _c(r"^\s+\S")


class GoRules(TraceRules):
    language = "go"

    def start(self, line: str) -> Start | None:
        if _GO_PANIC.search(line):
            return Start(self.language, "panic", confirmed=False, fatal=True)
        if _GO_ROUTINE.match(line):
            return Start(self.language, "func", confirmed=True, fatal=False)
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if _GO_ROUTINE.match(line) and state in ("panic", "blank", "func"):
            return Step.CONTINUE, "func"
        if state == "panic":
            if _BLANK.match(line) or _GO_PREAMBLE.match(line):
                return Step.TENTATIVE, "panic"
            return Step.END, ""
        if state == "func":
            if _GO_FUNC.match(line):
                return Step.CONTINUE, "file"
            if _BLANK.match(line):
                return Step.TENTATIVE, "blank"
            return Step.END, ""
        if state == "file":
            if _GO_FILE.match(line):
                return Step.CONTINUE, "func"
            if _GO_FUNC.match(line):  # a frame without its file line (elided)
                return Step.CONTINUE, "file"
            if _BLANK.match(line):
                return Step.TENTATIVE, "blank"
            return Step.END, ""
        if state == "blank" and _BLANK.match(line):
            return Step.TENTATIVE, "blank"
        return Step.END, ""


# --------------------------------------------------------------------------- PHP

_PHP_START = _c(
    r"PHP (?:Fatal error|Parse error|Catchable fatal error|Warning|Notice):"
    r"|exception '[^']+' with message '|Fatal error: Uncaught "
)
_PHP_TRACE = _c(r"^Stack trace:\s*$")
_PHP_FRAME = _c(r"^#\d+ ")
_PHP_THROWN = _c(r"^\s+thrown in ")


class PhpRules(TraceRules):
    language = "php"

    def start(self, line: str) -> Start | None:
        if _PHP_START.search(line):
            fatal = "atal error" in line or "Uncaught" in line
            return Start(self.language, "head", confirmed=False, fatal=fatal)
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if state == "head":
            return (Step.CONTINUE, "frames") if _PHP_TRACE.match(line) else (Step.END, "")
        if _PHP_FRAME.match(line):
            return Step.CONTINUE, "frames"
        if _PHP_THROWN.match(line):
            return Step.END_WITH, ""
        return Step.END, ""


# --------------------------------------------------------------------------- Ruby

_RAILS_START = _c(r"(?:Error|Exception) \(.*\):\s*$")
_RB_FRAME = _c(r"^\s+\S.*?\.rb:\d+:in [`']")
_RB_PLAIN_START = _c(r"^\S.*?\.rb:\d+:in [`'].*\([A-Z][\w:]*\)\s*$")
_RB_FROM = _c(r"^\s+from \S.*?:\d+:in [`']")


class RubyRules(TraceRules):
    language = "ruby"

    def start(self, line: str) -> Start | None:
        if _RAILS_START.search(line):
            return Start(self.language, "rails_head", confirmed=False, fatal=False)
        if _RB_PLAIN_START.match(line):
            return Start(self.language, "plain", confirmed=False, fatal=True)
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if state == "rails_head" and _BLANK.match(line):
            return Step.TENTATIVE, "rails_blank"
        if state in ("rails_head", "rails_blank", "rails") and _RB_FRAME.match(line):
            return Step.CONTINUE, "rails"
        if state == "plain" and _RB_FROM.match(line):
            return Step.CONTINUE, "plain"
        return Step.END, ""


# --------------------------------------------------------------------------- Dart

_DART_START = _c(r"^Unhandled exception:\s*$")
_DART_FRAME = _c(r"^#\d+\s+\S.*\(.*\)\s*$")
_DART_ASYNC = _c(r"^<asynchronous suspension>\s*$")
_DART_MAX_MESSAGE_LINES = 12


class DartRules(TraceRules):
    language = "dart"

    def start(self, line: str) -> Start | None:
        if _DART_START.match(line):
            return Start(self.language, "message0", confirmed=False, fatal=True)
        return None

    def step(self, state: str, line: str) -> tuple[Step, str]:
        if _DART_FRAME.match(line):
            return Step.CONTINUE, "stack"
        if state == "stack":
            return (Step.CONTINUE, "stack") if _DART_ASYNC.match(line) else (Step.END, "")
        # The message (with a code excerpt and caret for some errors) comes before the first frame.
        seen = int(state.removeprefix("message"))
        if seen < _DART_MAX_MESSAGE_LINES:
            return Step.TENTATIVE, f"message{seen + 1}"
        return Step.END, ""


# Most specific first: the JVM rule's "...Error:" would also match a PHP or Go header line.
ALL_RULES: tuple[TraceRules, ...] = (PythonRules(), DartRules(), PhpRules(), GoRules(), RubyRules(), JvmRules())
RULES_BY_LANGUAGE = {rules.language: rules for rules in ALL_RULES}
