"""Where error events start and end: per-language traces, chained exceptions, single ERROR lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter_app.detect.events import EventDetector, detect_events, line_severity

DATASETS = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "stacktraces"
FLUENT = DATASETS / "fluent_detect_exceptions"


def _fixtures() -> dict[str, list[str]]:
    if not FLUENT.is_dir():
        return {}
    found = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in sorted(FLUENT.glob("*.txt"))}
    if "JAVA_EXC_PART1" in found:
        found["JAVA_EXC"] = found.pop("JAVA_EXC_PART1") + found.pop("JAVA_EXC_PART2")
    found.pop("ARBITRARY_TEXT", None)
    return found


FIXTURES = _fixtures()


@pytest.mark.skipif(not FIXTURES, reason="shared datasets not present")
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fluent_fixture_found_whole_three_times(name: str) -> None:
    exc = FIXTURES[name]
    filler = ["This is not an exception."]
    events = detect_events(filler + exc + filler + exc + exc)
    n = len(exc)
    assert [(e.kind, e.line_number, e.last_line_number) for e in events] == [
        ("trace", 2, n + 1), ("trace", n + 3, 2 * n + 2), ("trace", 2 * n + 3, 3 * n + 2)
    ]
    assert events[0].lines == tuple(exc)


@pytest.mark.skipif(not FLUENT.is_dir(), reason="shared datasets not present")
def test_arbitrary_text_gives_nothing() -> None:
    assert detect_events((FLUENT / "ARBITRARY_TEXT.txt").read_text().splitlines()) == []


PY_CHAINED = """\
Traceback (most recent call last):
  File "/srv/app/store.py", line 10, in load
    return json.loads(raw)
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/app/main.py", line 3, in <module>
    load()
  File "/srv/app/store.py", line 12, in load
    raise StoreError("corrupt") from None
app.store.StoreError: corrupt

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/app/main.py", line 5, in <module>
    raise SystemExit(1)
SystemExit: 1""".splitlines()


def test_python_chained_exceptions_are_one_event() -> None:
    events = detect_events(["starting", *PY_CHAINED, "", "next log line"])
    assert len(events) == 1
    assert events[0].lines == tuple(PY_CHAINED)
    assert events[0].language == "python"


def test_python_trace_ends_at_exception_line_when_followed_by_blank_and_text() -> None:
    lines = ["Traceback (most recent call last):", '  File "x.py", line 1, in f', "    g()", "KeyError: 'a'", "",
             "INFO all good"]
    events = detect_events(lines)
    assert [(e.line_number, e.last_line_number) for e in events] == [(1, 4)]


def test_python_311_carets_and_exception_groups_stay_inside() -> None:
    lines = [
        "  + Exception Group Traceback (most recent call last):",
        '  |   File "/app/t.py", line 3, in <module>',
        "  |     raise ExceptionGroup('many', [ValueError(1)])",
        "  | ExceptionGroup: many (1 sub-exception)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: 1",
        "    +------------------------------------",
    ]
    assert detect_events(lines)[0].lines == tuple(lines)


JAVA_SUPPRESSED = """\
java.lang.IllegalStateException: close failed
\tat com.acme.Store.close(Store.java:88)
\tat com.acme.Main.main(Main.java:12)
\tSuppressed: java.io.IOException: disk gone
\t\tat com.acme.Disk.flush(Disk.java:40)
\t\t... 2 more
Caused by: java.lang.NullPointerException
\tat com.acme.Store.doClose(Store.java:99)
\t... 1 common frames omitted""".splitlines()


def test_java_suppressed_and_caused_by() -> None:
    events = detect_events(["09:00 INFO start", *JAVA_SUPPRESSED, "09:01 INFO next"])
    assert [e.lines for e in events] == [tuple(JAVA_SUPPRESSED)]


def test_logged_error_line_above_a_trace_is_its_first_line() -> None:
    lines = ["2024-01-01 10:00:00 ERROR [main] c.a.Pay - payment failed", *JAVA_SUPPRESSED[:3], "done"]
    (event,) = detect_events(lines)
    assert event.first_line.endswith("payment failed")
    assert event.trace_start == 1
    assert event.trace_lines[0].startswith("java.lang.IllegalStateException")


def test_exception_word_without_frames_is_just_a_line() -> None:
    lines = ["10:00 WARN retrying: TimeoutException: slow", "10:00 ERROR giving up: IOException: gone", "10:01 INFO ok"]
    events = detect_events(lines)
    assert [(e.kind, e.line_number) for e in events] == [("line", 2)]


def test_single_error_lines_and_levels() -> None:
    assert line_severity("2024-01-01 ERROR x") == "error"
    assert line_severity("[Sun Dec 04 04:47:44 2005] [error] mod_jk child") == "error"
    assert line_severity("ts level=fatal msg=boom") == "critical"
    assert line_severity("2016 - pykafka - CRITICAL - gone") == "critical"
    assert line_severity("INFO processed 3 records with 0 errors") is None
    assert line_severity("E0105 12:00:00.000 123 main.cc:10] failed") == "error"
    assert line_severity("INFO E is a letter") is None


def test_go_goroutine_dump_without_panic() -> None:
    lines = ["goroutine 1 [running]:", "main.main()", "\t/app/main.go:9 +0x6f", "", "INFO after"]
    (event,) = detect_events(lines)
    assert event.lines == tuple(lines[:3])


def test_ruby_plain_backtrace() -> None:
    lines = ["app.rb:3:in `divide': divided by 0 (ZeroDivisionError)", "\tfrom app.rb:7:in `<main>'", "next"]
    (event,) = detect_events(lines)
    assert event.lines == tuple(lines[:2]) and event.language == "ruby"


def test_streaming_holds_until_next_line_or_flush() -> None:
    detector = EventDetector()
    assert detector.feed("Traceback (most recent call last):") == []
    assert detector.feed('  File "a.py", line 1, in f') == []
    assert detector.feed("    f()") == []
    assert detector.feed("RuntimeError: x") == []
    assert detector.busy
    (event,) = detector.flush()
    assert event.last_line == "RuntimeError: x" and not detector.busy


def test_unconfirmed_trace_at_end_of_input_becomes_a_line() -> None:
    assert [e.kind for e in detect_events(["ERROR failed: SomeException: x"])] == ["line"]


_TRACE_LINES = [
    "Traceback (most recent call last):", '  File "x", line 1, in f', "\tat a.b(C.java:1)", "Caused by: X",
    "panic: x", "goroutine 1 [running]:", "Unhandled exception:", "Stack trace:", "#0 f", "ERROR", "Error: y",
    "During handling of the above exception, another exception occurred:", "ValueError: z", "", "  ", "main.f()",
]
_LINE = st.one_of(st.sampled_from(_TRACE_LINES), st.text(max_size=30),
                  st.lists(st.sampled_from(_TRACE_LINES + list("ab :#.()E0\t")), max_size=4).map("".join))


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, max_size=40))
def test_never_crashes_and_events_are_exact_slices(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    events = detect_events(lines)
    previous_end = 0
    for event in events:
        assert event.line_number > previous_end  # in order, never overlapping
        start = event.line_number - 1
        assert tuple(lines[start:start + len(event.lines)]) == event.lines
        previous_end = event.last_line_number
