from __future__ import annotations

from capture.guard import describe_error, guarded


def test_success_passes_through() -> None:
    errors: dict[str, str] = {}
    assert guarded("x", lambda: 42, errors, 0) == 42
    assert errors == {}


def test_failure_is_recorded_and_fallback_returned() -> None:
    errors: dict[str, str] = {}

    def broken() -> int:
        raise PermissionError("no access to /var/log/app.log\nsecond line")

    assert guarded("logs.app", broken, errors, -1) == -1
    assert errors == {"logs.app": "PermissionError: no access to /var/log/app.log"}


def test_one_broken_collector_does_not_stop_others() -> None:
    errors: dict[str, str] = {}
    results = [guarded(f"c{i}", (lambda i=i: 1 / i), errors, None) for i in range(3)]
    assert results == [None, 1.0, 0.5]
    assert list(errors) == ["c0"]


def test_describe_error_without_message() -> None:
    assert describe_error(KeyError()) == "KeyError"
