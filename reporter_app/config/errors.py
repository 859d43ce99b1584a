"""What goes wrong in a config, said in one line a user can act on.

A `ConfigError` names where the value came from (file and line, environment variable, or the
command line), the key, the problem, what was expected and the closest known name. The loader
collects every problem it finds; the first is raised, the rest ride along in `all_errors` so
`config check` can list them all in one go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any


class ConfigError(Exception):
    def __init__(
        self,
        problem: str,
        *,
        where: str = "",
        key: str = "",
        expected: str = "",
        suggestion: str = "",
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where  # "<file>:<line>", "<file>", "environment NAME" or "command line"
        self.key = key
        self.expected = expected
        self.suggestion = suggestion
        self.all_errors: tuple[ConfigError, ...] = (self,)

    def __str__(self) -> str:
        head = ": ".join(part for part in (self.where, self.key, self.problem) if part)
        tail = ""
        if self.expected:
            tail += f"; expected {self.expected}"
        if self.suggestion:
            tail += f"; did you mean '{self.suggestion}'?"
        return head + tail


class ValueProblem(ValueError):
    """A value is wrong, before we know where it came from; the loader adds the location."""

    def __init__(self, problem: str, expected: str = "", suggestion: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.expected = expected
        self.suggestion = suggestion


def closest(word: str, candidates: Iterable[str]) -> str:
    """The known name a typo most likely meant, or "" when nothing is close enough to help."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else ""


def describe(value: Any) -> str:
    """A value as a user wrote it, with its TOML type: "string 'abc'", "integer 5"."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"date/time {value.isoformat()}"
    return type(value).__name__
