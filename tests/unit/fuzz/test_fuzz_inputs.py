"""Fuzzing what the app reads from outside: config files, log files, traces, text to scrub.

Only the project's own error types may escape: ConfigError from the config loader, nothing at all from the log
reader (on a readable file), the trace parsers, fingerprinting and the scrubber.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from capture.logs import LogSourceSpec, read_recent, tail_lines
from capture.scrub import Scrubber
from reporter_app.config import load_config
from reporter_app.config.errors import ConfigError
from reporter_app.config.schema import SCHEMA
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_line, fingerprint_text, fingerprint_trace
from reporter_app.detect.frames import parse_trace
from reporter_app.paths import resolve_paths

FUZZ = settings.get_profile("reporter-fuzz")

# -- config ---------------------------------------------------------------------------------------------------------
_KEYS = sorted(SCHEMA)
_scalar = st.one_of(st.text(max_size=20), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.booleans(), st.sampled_from(["", "local", "redmine", "P1", "blocker", "30m", "[", "^("]))
_value = st.one_of(_scalar, st.lists(_scalar, max_size=4))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').encode("unicode_escape").decode() + '"'


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    """Mostly valid TOML over the real keys (wrong types, bad values, unknown keys), sometimes plain garbage."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=300))
    sections: dict[str, list[str]] = {}
    for key in draw(st.lists(st.one_of(st.sampled_from(_KEYS), st.from_regex(r"[a-z]{1,8}\.[a-z_]{1,10}",
                                                                             fullmatch=True)), max_size=12)):
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name} = {_toml_value(draw(_value))}")
    return "\n".join(f"[{section}]\n" + "\n".join(dict.fromkeys(lines)) for section, lines in sections.items())


@FUZZ
@given(text=toml_documents())
def test_config_loader_raises_only_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "config.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        env = {"REPORTER_APP_SYSTEM_CONFIG": str(home / "none.toml")}
        try:
            config = load_config(resolve_paths(str(home), env), env)
        except ConfigError as exc:
            assert str(exc)  # a message the user can read
            return
        for key in _KEYS:
            config.get(key)  # a config that loaded answers every key


# -- log tail reader ------------------------------------------------------------------------------------------------
_log_bytes = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(st.text(max_size=80), st.sampled_from(["2026-01-05 09:00:01 ERROR boom", "\r", "\x00", "é",
                                                              "Traceback (most recent call last):"])),
             max_size=60).map(lambda parts: "\n".join(parts).encode("utf-8", "surrogatepass")),
)


@FUZZ
@given(data=_log_bytes, n=st.integers(0, 80), max_bytes=st.integers(1, 5000))
def test_tail_lines_returns_at_most_n_lines_of_the_file_end(data: bytes, n: int, max_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.log"
        path.write_bytes(data)
        lines = tail_lines(path, n, max_bytes)
    assert len(lines) <= n
    assert all(isinstance(line, bytes) and b"\n" not in line for line in lines)
    if n and max_bytes > len(data):
        expected = data.split(b"\n")
        if expected and expected[-1] == b"":
            expected.pop()
        assert [line.rstrip(b"\r") for line in lines] == [line.rstrip(b"\r") for line in expected[-n:]]


@FUZZ
@given(data=_log_bytes, lines=st.integers(0, 80), minutes=st.integers(0, 120), max_bytes=st.integers(1, 5000),
       max_line_length=st.integers(1, 200))
def test_read_recent_never_fails_on_a_readable_file(data: bytes, lines: int, minutes: int, max_bytes: int,
                                                    max_line_length: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.log"
        path.write_bytes(data)
        excerpt = read_recent(LogSourceSpec(name="app", path=str(path), lines=lines, minutes=minutes,
                                            max_bytes=max_bytes, max_line_length=max_line_length))
    assert isinstance(excerpt.text, str)
    assert excerpt.line_count >= 0


# -- traces and fingerprints ----------------------------------------------------------------------------------------
_TRACE_PIECES = [
    "Traceback (most recent call last):", '  File "/app/x.py", line 3, in main', "    foo()",
    "ValueError: bad", "Exception in thread \"main\" java.lang.IllegalStateException: x",
    "\tat com.acme.Foo.bar(Foo.java:12)", "Caused by: java.io.IOException", "\t... 3 more", "panic: boom",
    "goroutine 1 [running]:", "main.main()", "\t/src/main.go:7 +0x1d", "PHP Fatal error:  Uncaught Exception",
    "#0 /var/www/a.php(3): f()", "app.rb:3:in `foo': undefined method (NoMethodError)", "\tfrom app.rb:9:in `<main>'",
    "Unhandled exception:", "#0      main (file:///a.dart:3:5)", "2026-01-05 09:00:01 ERROR something failed",
    "", "   ", "File \"", "at ", "#", ":", "\x00",
]
_trace_lines = st.lists(st.one_of(st.sampled_from(_TRACE_PIECES), st.text(max_size=60)), max_size=40)
_LANGUAGES = ["python", "java", "jvm", "go", "php", "ruby", "dart", "unknown", ""]


@FUZZ
@given(lines=_trace_lines, language=st.sampled_from(_LANGUAGES))
def test_trace_parsers_and_fingerprints_are_total_and_stable(lines: list[str], language: str) -> None:
    detect_events(lines)
    detect_events(lines, single_lines=False)
    parse_trace(language, lines)
    first = fingerprint_trace(language, lines)
    assert first == fingerprint_trace(language, list(lines))  # a fingerprint is a pure function of the trace
    text = "\n".join(lines)
    assert fingerprint_text(text) == fingerprint_text(text)
    for line in lines[:5]:
        assert fingerprint_line(line) == fingerprint_line(line)


# -- scrubber -------------------------------------------------------------------------------------------------------
_SECRETS = ["ghp_" + "a1B2c3D4e5" * 4, "glpat-" + "x" * 24, "AKIA" + "ABCDEFGHIJKLMNOP",
            "xoxb-1234567890-abcdef"]
_SCRUBBER = Scrubber(emails=True, ips=True, home="/home/ada")


@FUZZ
@given(before=st.text(max_size=200), after=st.text(max_size=200), secret=st.sampled_from(_SECRETS),
       glue=st.sampled_from([" ", "\n", "=", ": ", "\t", "token "]))
def test_scrubber_removes_planted_secrets_and_is_idempotent(before: str, after: str, secret: str, glue: str) -> None:
    text = before + glue + secret + "\n" + after  # token rules need a word boundary after the secret
    once = _SCRUBBER.scrub(text)
    assert secret not in once.text
    assert _SCRUBBER.scrub(once.text).text == once.text  # scrubbing scrubbed text changes nothing


@FUZZ
@given(text=st.text(max_size=500))
def test_scrubber_is_total(text: str) -> None:
    result = _SCRUBBER.scrub(text)
    assert isinstance(result.text, str) and result.total >= 0
