"""Fail any test that logs a WARNING or worse through :mod:`logging` unless the test declared it.

A pytest plugin (registered by ``tests/conftest.py``), in the spirit of qutebrowser's: an unexpected warning in the
log is a bug, or a test that does not say what it expects. Declare expected records either way:

.. code-block:: python

    @pytest.mark.expect_log_warning(match=r"retrying in \\d+ s", logger="reporter_app.outbox")
    def test_retry(...): ...

    def test_bad_config(log_guard):
        with log_guard.expected(match="unknown key") as records:
            load_config(...)
        assert records[0].levelno == logging.WARNING

Both are strict by default: an expectation that no record matched fails the test too (``strict=False`` makes it
optional). ``match`` is a regex searched in the formatted message; ``logger`` matches that logger and its children;
``level`` (e.g. ``logging.ERROR``) restricts it to one level. A bare ``@pytest.mark.expect_log_warning`` allows any.

Records are collected by a handler on the root logger during setup, call and teardown, from any thread. Loggers with
``propagate = False`` (or a ``logging.config.dictConfig`` that replaces the root handlers) are not seen.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

MARKER = "expect_log_warning"


@dataclass
class Expectation:
    match: str | None = None
    logger: str | None = None
    level: int | None = None
    strict: bool = True
    origin: str = ""
    records: list[logging.LogRecord] = field(default_factory=list)

    def matches(self, record: logging.LogRecord) -> bool:
        if self.level is not None and record.levelno != self.level:
            return False
        if self.logger is not None and not (
            record.name == self.logger or record.name.startswith(self.logger + ".")
        ):
            return False
        if self.match is not None and not re.search(self.match, record.getMessage()):
            return False
        return True

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in (("match", self.match), ("logger", self.logger)) if v is not None]
        if self.level is not None:
            parts.append(f"level={logging.getLevelName(self.level)}")
        return f"{self.origin}({', '.join(parts)})"


def _format(record: logging.LogRecord) -> str:
    return f"{record.levelname} {record.name}: {record.getMessage()}  ({record.pathname}:{record.lineno})"


class LogGuard(logging.Handler):
    """Collects WARNING+ records of one test and sorts them into expected and unexpected."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._lock_ = threading.Lock()
        self.marker_expectations: list[Expectation] = []
        self._active: list[Expectation] = []
        self.unexpected: list[logging.LogRecord] = []
        self._reported = 0

    # logging.Handler
    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_:
            for exp in [*reversed(self._active), *self.marker_expectations]:
                if exp.matches(record):
                    exp.records.append(record)
                    return
            self.unexpected.append(record)

    @contextmanager
    def expected(
        self, match: str | None = None, logger: str | None = None, level: int | None = None, strict: bool = True
    ) -> Iterator[list[logging.LogRecord]]:
        """Allow matching WARNING+ records inside the block; yields the list of records it allowed."""
        exp = Expectation(match, logger, level, strict, origin="log_guard.expected")
        with self._lock_:
            self._active.append(exp)
        try:
            yield exp.records
        finally:
            with self._lock_:
                self._active.remove(exp)
        if exp.strict and not exp.records:
            pytest.fail(f"expected a WARNING-or-worse log record for {exp.describe()}, none was logged", pytrace=False)

    def install(self) -> None:
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)

    def check_unexpected(self, when: str) -> None:
        with self._lock_:
            new = self.unexpected[self._reported :]
            self._reported = len(self.unexpected)
        if new:
            lines = "\n  ".join(_format(r) for r in new)
            pytest.fail(
                f"unexpected log record(s) at WARNING or above during {when}:\n  {lines}\n"
                f"(declare them with @pytest.mark.{MARKER}(match=..., logger=...) or `with log_guard.expected(...)`)",
                pytrace=False,
            )

    def check_marker_expectations(self) -> None:
        missing = [e for e in self.marker_expectations if e.strict and not e.records]
        if missing:
            pytest.fail(
                "expected WARNING-or-worse log record(s) never logged: "
                + "; ".join(e.describe() for e in missing)
                + " (strict=False makes an expectation optional)",
                pytrace=False,
            )


_guard_key = pytest.StashKey[LogGuard]()


def _guard(item: pytest.Item) -> LogGuard:
    guard = item.stash.get(_guard_key, None)
    if guard is None:
        guard = LogGuard()
        for mark in item.iter_markers(MARKER):
            if mark.args:
                raise pytest.UsageError(f"{item.nodeid}: use keywords with @pytest.mark.{MARKER}(match=..., logger=...)")
            kwargs = dict(mark.kwargs)
            if not kwargs:  # bare marker: anything goes, nothing is required
                kwargs = {"strict": False}
            guard.marker_expectations.append(Expectation(**kwargs, origin=f"@pytest.mark.{MARKER}"))
        item.stash[_guard_key] = guard
    return guard


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(match=None, logger=None, level=None, strict=True): the test logs WARNING+ records like these "
        "(tests.support.log_guard)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    guard = _guard(item)
    guard.install()
    result = yield
    guard.check_unexpected("setup")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    guard = _guard(item)
    guard.install()
    result = yield
    guard.check_unexpected("the test")
    guard.check_marker_expectations()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    guard = _guard(item)
    guard.install()
    try:
        result = yield
    finally:
        guard.uninstall()
    guard.check_unexpected("teardown")
    return result


@pytest.fixture
def log_guard(request: pytest.FixtureRequest) -> LogGuard:
    """This test's guard: ``with log_guard.expected(match=..., logger=...) as records: ...``."""
    return _guard(request.node)
