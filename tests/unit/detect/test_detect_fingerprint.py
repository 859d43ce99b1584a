"""Fingerprints: same bug -> same id across runs, machines and Python versions; other bug -> other id."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import (
    fingerprint_event,
    fingerprint_line,
    fingerprint_text,
    fingerprint_trace,
    trace_signature,
)

REAL_LOG = Path(__file__).resolve().parents[4] / "shared/datasets/stacktraces/tdhopper_exception/real_log.log"


def py_trace(root: str, line: int, message: str, exc: str = "app.errors.PaymentError") -> list[str]:
    return [
        "Traceback (most recent call last):",
        f'  File "{root}/lib/python3.11/site-packages/flask/app.py", line {line + 900}, in dispatch',
        "    return handler()",
        f'  File "{root}/srv/shop/app/views.py", line {line}, in checkout',
        "    pay(order)",
        f'  File "{root}/srv/shop/app/payments.py", line {line + 7}, in pay',
        "    raise PaymentError(order.id)",
        f"{exc}: {message}",
    ]


def test_same_bug_on_other_machine_line_numbers_and_message_has_same_fingerprint() -> None:
    a = fingerprint_trace("python", py_trace("/home/ada/venv", 10, "order 1234 declined"))
    b = fingerprint_trace("python", py_trace("C:/Users/bob/env", 42, "order 98 declined by 0x7f3a"))
    assert a == b
    assert a.startswith("brfp-") and len(a) == len("brfp-") + 12


def test_other_exception_type_is_another_bug() -> None:
    assert fingerprint_trace("python", py_trace("/x", 1, "m")) != fingerprint_trace(
        "python", py_trace("/x", 1, "m", exc="app.errors.StockError"))


def test_signature_uses_in_app_frames_innermost_first_without_numbers() -> None:
    parts = trace_signature("python", py_trace("/x", 1, "m"))
    assert parts == ["language python", "type app.errors.PaymentError", "frame app/payments:pay",
                     "frame app/views:checkout"]


def test_fingerprint_is_a_fixed_value() -> None:
    # Stability across runs, Python versions and machines: the recipe is plain text through SHA-256.
    assert fingerprint_trace("python", py_trace("/x", 1, "m")) == fingerprint_trace("python", py_trace("/y", 5, "n"))
    assert fingerprint_line("2024-01-01 10:00:00 ERROR c.a.Pay: payment 12 failed for 10.0.0.1") == \
        fingerprint_line("2025-02-03 11:11:11 ERROR c.a.Pay: payment 99 failed for 192.168.1.7")


def test_java_root_cause_frames_and_generated_names() -> None:
    one = ["java.lang.RuntimeException: wrap", "\tat com.acme.Api.call(Api.java:10)",
           "Caused by: java.sql.SQLException: gone", "\tat com.acme.Dao.lambda$find$3(Dao.java:77)",
           "\tat com.acme.Dao$$EnhancerByCGLIB$$1a2b3c.find(<generated>)", "\t... 4 more"]
    two = [line.replace("$3", "$7").replace("1a2b3c", "ffee99").replace(":77", ":80") for line in one]
    assert fingerprint_trace("jvm", one) == fingerprint_trace("jvm", two)
    assert "type java.sql.SQLException" in trace_signature("jvm", one)


def test_go_addresses_do_not_matter() -> None:
    a = ["panic: runtime error: index out of range [5] with length 3", "", "goroutine 7 [running]:",
         "main.handler(0xc000010000, 0x1)", "\t/src/app/main.go:20 +0x1d"]
    b = [line.replace("0xc000010000", "0xc0000aa000").replace("7 [", "12 [").replace("[5]", "[9]") for line in a]
    assert fingerprint_trace("go", a) == fingerprint_trace("go", b)


@pytest.mark.skipif(not REAL_LOG.exists(), reason="shared datasets not present")
def test_tdhopper_three_tracebacks_one_group() -> None:
    events = detect_events(REAL_LOG.read_text().splitlines())
    traces = [e for e in events if e.kind == "trace"]
    assert len(traces) == 3
    assert len({fingerprint_event(e) for e in traces}) == 1


def test_fingerprint_text_for_the_manual_form() -> None:
    text = "I clicked pay and got:\n" + "\n".join(py_trace("/x", 1, "m")) + "\nthen it froze"
    assert fingerprint_text(text) == fingerprint_trace("python", py_trace("/x", 1, "m"))
    assert fingerprint_text("no trace here") is None
