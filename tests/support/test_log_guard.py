"""The log guard fails tests on undeclared WARNING+ records (run in a separate pytest process via pytester)."""

from __future__ import annotations

import pytest

from tests.support.env import REPO_ROOT

INNER_TESTS = '''
import logging
import threading

import pytest

log = logging.getLogger("reporter_app.sample")


def test_info_is_fine():
    log.info("just saying")


def test_unexpected_warning():
    log.warning("disk almost full")


def test_unexpected_error_from_a_thread():
    t = threading.Thread(target=lambda: logging.getLogger("capture.worker").error("boom in worker"))
    t.start()
    t.join()


@pytest.mark.expect_log_warning(match="almost full", logger="reporter_app")
def test_declared_by_marker():
    log.warning("disk almost full")


@pytest.mark.expect_log_warning(match="almost full")
def test_marker_expectation_not_met():
    pass


@pytest.mark.expect_log_warning(match="almost full")
def test_marker_does_not_cover_other_records():
    log.warning("disk almost full")
    log.error("something else")


@pytest.mark.expect_log_warning
def test_bare_marker_allows_anything():
    log.critical("anything")


def test_declared_by_context_manager(log_guard):
    with log_guard.expected(match="retry") as records:
        log.warning("retry in 5 s")
    assert [r.getMessage() for r in records] == ["retry in 5 s"]


def test_context_manager_expectation_not_met(log_guard):
    with log_guard.expected(match="retry"):
        pass


@pytest.fixture
def noisy_fixture():
    logging.getLogger("fixture").warning("noisy setup")
    yield
    logging.getLogger("fixture").warning("noisy teardown")


def test_warning_in_fixture(noisy_fixture):
    pass
'''


@pytest.fixture
def outcomes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PYTHONPATH", REPO_ROOT)
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "tests.support.log_guard", "-p", "no:cacheprovider", "-rA")
    text = result.stdout.str()
    found: dict[str, str] = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED", "ERROR"):
            if line.startswith(word + " ") and "::" in line:
                name = line.split("::", 1)[1].split(" ")[0]
                found[name] = found.get(name, "") + word
    assert found, text
    found["__stdout__"] = text
    return found


def test_guard_outcomes(outcomes: dict[str, str]) -> None:
    out = outcomes.pop("__stdout__")
    assert outcomes == {
        "test_info_is_fine": "PASSED",
        "test_unexpected_warning": "FAILED",
        "test_unexpected_error_from_a_thread": "FAILED",
        "test_declared_by_marker": "PASSED",
        "test_marker_expectation_not_met": "FAILED",
        "test_marker_does_not_cover_other_records": "FAILED",
        "test_bare_marker_allows_anything": "PASSED",
        "test_declared_by_context_manager": "PASSED",
        "test_context_manager_expectation_not_met": "FAILED",
        # an error in setup (the test itself does not run), and one in teardown
        "test_warning_in_fixture": "ERRORERROR",
    }, out
    assert "unexpected log record(s) at WARNING or above during the test" in out
    assert "WARNING reporter_app.sample: disk almost full" in out
    assert "ERROR capture.worker: boom in worker" in out
    assert "during setup" in out and "noisy setup" in out
    assert "during teardown" in out and "noisy teardown" in out
