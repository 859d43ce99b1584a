"""The detection service: real temp log files, a polling watcher and a fake clock, the local tracker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.clock import FakeClock
from reporter_app.collect import Evidence
from reporter_app.config import ConfigError
from reporter_app.detect.alerts import AlertAction
from reporter_app.detect.dedup import FingerprintMap
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.detect.service import (
    DetectionService,
    DetectSettings,
    error_title,
    watched_sources,
)
from reporter_app.detect.watch import LogWatcher
from reporter_app.model import Impact
from reporter_app.sender import SendResult
from reporter_app.trackers.base import TicketRef

TRACE = """\
2026-01-05 09:00:00,120 ERROR shop.views: checkout failed
Traceback (most recent call last):
  File "/srv/shop/app/views.py", line 12, in checkout
    pay(order)
  File "/srv/shop/app/payments.py", line 40, in pay
    raise PaymentError(f"card declined for {order.email}")
app.errors.PaymentError: card declined for ada@example.com
"""
CALM = "2026-01-05 09:00:01,000 INFO shop.views: next request\n"


@pytest.fixture
def log_file(reporter_home: Path) -> Path:
    path = reporter_home / "shop.log"
    path.write_text("2026-01-05 08:59:00,000 INFO shop: started\n", encoding="utf-8")
    return path


def _context(home: Path, log_file: Path, clock: FakeClock, detect: str = "") -> AppContext:
    (home / "config.toml").write_text(
        f'[[logs]]\nname = "shop"\npath = "{log_file}"\n\n[detect]\nenabled = true\n{detect}', encoding="utf-8")
    return AppContext.load(home=str(home), env={}, clock=clock)


class Harness:
    def __init__(self, home: Path, log_file: Path, detect: str = "") -> None:
        self.clock = FakeClock()
        self.log_file = log_file
        self.ctx = _context(home, log_file, self.clock, detect)
        # Polling and a fake monotonic clock: a trace held at the end of the file is flushed when we say so.
        watcher = LogWatcher([str(log_file)], use_inotify=False, clock=lambda: self.clock.mono)
        self.service = DetectionService(self.ctx, watcher=watcher)

    def append(self, text: str) -> None:
        with self.log_file.open("a", encoding="utf-8") as fh:
            fh.write(text)

    def tick(self, seconds: float = 60.0) -> None:
        self.clock.mono += seconds
        self.clock.current += timedelta(seconds=seconds)


@pytest.fixture
def harness(reporter_home: Path, log_file: Path) -> Iterator[Harness]:
    made = Harness(reporter_home, log_file)
    yield made
    made.service.close()


def test_a_trace_becomes_one_prefilled_scrubbed_detection(harness: Harness) -> None:
    assert harness.service.detect() == []  # what was in the file before is old news
    harness.append("2026-01-05 08:59:30,000 INFO shop: cart opened\n" + TRACE + CALM)
    [found] = harness.service.detect()
    event = detect_events(TRACE.splitlines())[0]
    assert found.fingerprint == fingerprint_event(event)
    assert found.source == "shop" and found.decision.action is AlertAction.PROMPT
    draft = found.draft
    assert draft.title == "app.errors.PaymentError: card declined for [REDACTED:email]"
    assert draft.fingerprint == found.fingerprint and draft.merge_duplicates
    assert "ada@example.com" not in draft.description and "raise PaymentError" in draft.description
    [excerpt] = found.evidence.logs
    assert excerpt.name == "detected-shop"
    assert excerpt.text.splitlines()[0] == "2026-01-05 08:59:30,000 INFO shop: cart opened"  # the line before
    assert "Traceback (most recent call last):" in excerpt.text and "ada@example.com" not in excerpt.text
    assert found.evidence.redactions["email"] >= 2


def test_a_trace_at_the_end_of_a_quiet_log_is_flushed(harness: Harness) -> None:
    harness.append(TRACE)
    first = harness.service.detect()
    harness.tick(1.0)
    later = harness.service.detect()
    assert len(first + later) == 1


def test_three_repeats_prompt_once_then_cooldown(harness: Harness) -> None:
    decisions = []
    for _ in range(3):
        harness.append(TRACE + CALM)
        decisions += harness.service.detect()
        harness.tick(60)
    assert len(decisions) == 1
    # The counts keep going while it is quiet: the map saw all three.
    assert harness.service.fingerprints.occurrences(decisions[0].fingerprint).count == 3  # type: ignore[union-attr]


def test_auto_files_once_then_the_sender_merges_the_repeats(reporter_home: Path, log_file: Path) -> None:
    harness = Harness(reporter_home, log_file, "auto = true\ncooldown_minutes = 0\n")
    try:
        resolutions = []
        for _ in range(3):
            harness.append(TRACE + CALM)
            resolutions += harness.service.poll()
            harness.tick(60)
    finally:
        harness.service.close()
    assert [r.filed for r in resolutions] == [True, True, True]
    outcomes = harness.ctx.send_pending()
    assert outcomes is not None
    assert [o.result for o in outcomes] == [SendResult.FILED, SendResult.OCCURRENCE, SendResult.OCCURRENCE]
    tickets = sorted((reporter_home / "data" / "local-tracker").glob("LOCAL-*"))
    assert [t.name for t in tickets] == ["LOCAL-1"]
    assert len(list((tickets[0] / "occurrences").glob("*.json"))) == 2
    ticket = json.loads((tickets[0] / "ticket.json").read_text(encoding="utf-8"))
    assert ticket["title"].startswith("app.errors.PaymentError")


def test_auto_over_its_hourly_limit_asks_instead(reporter_home: Path, log_file: Path) -> None:
    harness = Harness(reporter_home, log_file, "auto = true\ncooldown_minutes = 0\nauto_max_per_hour = 1\n")
    try:
        found = []
        for _ in range(2):
            harness.append(TRACE + CALM)
            found += harness.service.detect()
            harness.tick(60)
    finally:
        harness.service.close()
    assert [d.decision.action for d in found] == [AlertAction.FILE, AlertAction.PROMPT]


def test_rules_by_pattern_ignore_and_threshold(reporter_home: Path, log_file: Path) -> None:
    rules = ('[[detect.rules]]\nname = "payments"\npattern = "PaymentError"\noccurrences = 2\n\n'
             '[[detect.rules]]\nname = "noise"\npattern = "disk almost full"\naction = "ignore"\n')
    harness = Harness(reporter_home, log_file, rules)
    try:
        harness.append("2026-01-05 09:00:00 ERROR disk almost full\n" + CALM)
        assert harness.service.detect() == []
        harness.append(TRACE + CALM)
        assert harness.service.detect() == []  # 1 of 2
        harness.append(TRACE + CALM)
        [found] = harness.service.detect()
        assert found.decision.rule == "payments"
    finally:
        harness.service.close()


def test_single_lines_can_be_turned_off(reporter_home: Path, log_file: Path) -> None:
    harness = Harness(reporter_home, log_file, "single_lines = false\n")
    try:
        harness.append("2026-01-05 09:00:00 ERROR shop: payment gateway timeout after 30s\n" + CALM)
        assert harness.service.detect() == []
    finally:
        harness.service.close()


def test_resolve_offers_the_known_ticket_and_leads_with_the_counts(harness: Harness) -> None:
    harness.append(TRACE + CALM)
    [found] = harness.service.detect()
    FingerprintMap.in_data_dir(harness.ctx.paths.data_dir).link(
        found.fingerprint, TicketRef(backend="local", key="LOCAL-9", url=""), harness.clock.now())
    resolution = harness.service.resolve(found)
    assert resolution.dedup.duplicate and not resolution.filed
    assert resolution.dedup.message.startswith("Already reported as LOCAL-9")
    assert resolution.detection.draft.description.startswith(f"Seen again (fingerprint {found.fingerprint}).")
    assert "Occurrences on this installation: 1" in resolution.detection.draft.description


def test_resolve_without_a_known_ticket_offers_a_new_one(harness: Harness) -> None:
    harness.append(TRACE + CALM)
    [found] = harness.service.detect()
    resolution = harness.service.resolve(found)
    assert not resolution.dedup.duplicate and resolution.dedup.offer == "new"


def test_settings_from_config_rules_inherit_detect_values(reporter_home: Path, log_file: Path) -> None:
    ctx = _context(reporter_home, log_file, FakeClock(),
                   'auto = true\noccurrences = 3\n[[detect.rules]]\nname = "x"\npattern = "Boom"\ncooldown_minutes = 5\n')
    settings = DetectSettings.from_config(ctx.config)
    [rule] = settings.rules
    assert (rule.occurrences, rule.window_minutes, rule.cooldown_minutes, rule.action) == (3, 10.0, 5.0, "auto")
    assert settings.default.action == "auto" and settings.enabled


def test_a_rule_with_fingerprint_and_pattern_is_a_config_error(reporter_home: Path, log_file: Path) -> None:
    with pytest.raises(ConfigError, match="both 'fingerprint' and 'pattern'"):
        _context(reporter_home, log_file, FakeClock(),
                 '[[detect.rules]]\nname = "x"\npattern = "a"\nfingerprint = "brfp-0123456789ab"\n')
    with pytest.raises(ConfigError, match="not a fingerprint"):
        _context(reporter_home, log_file, FakeClock(), '[[detect.rules]]\nname = "x"\nfingerprint = "abc"\n')


def test_watched_sources_by_name_and_warnings(reporter_home: Path) -> None:
    from reporter_app.config import LogSource

    logs = [LogSource(name="a", path="/tmp/a.log"), LogSource(name="j", journal="x.service"),
            LogSource(name="bad", journal="pid:12")]
    # Journal sources are watched on Linux (detect/journal.py); one whose match is malformed is named.
    chosen, warnings = watched_sources(logs, (), platform="linux")
    assert [s.name for s in chosen] == ["a", "j"]
    assert len(warnings) == 1 and "'bad'" in warnings[0] and "unit:NAME" in warnings[0]
    assert [s.name for s in watched_sources(logs, (), platform="win32")[0]] == ["a"]
    chosen, warnings = watched_sources(logs, ("a", "j", "nope"), platform="darwin")
    assert [s.name for s in chosen] == ["a"]
    assert len(warnings) == 2 and "only on Linux" in warnings[0]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (TRACE, "app.errors.PaymentError: card declined for ada@example.com"),
        (("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f()\nKeyError: 'x'\n\n"
          "During handling of the above exception, another exception occurred:\n\n"
          "Traceback (most recent call last):\n  File \"a.py\", line 3, in <module>\n    g()\nValueError: bad\n"
          "second line of the message\n"), "ValueError: bad"),
        ("java.lang.IllegalStateException: no session\n\tat com.shop.Cart.add(Cart.java:10)\n",
         "java.lang.IllegalStateException: no session"),
        ("2026-01-05 09:00:00 ERROR shop.db: connection refused\n", "connection refused"),
    ],
)
def test_error_title_is_the_exception_line(text: str, title: str) -> None:
    [event] = detect_events(text.splitlines())
    assert error_title(event) == title


def test_draft_fingerprint_and_merge_choice_reach_the_report(harness: Harness) -> None:
    report = harness.ctx.build_report(Draft(title="t", impact=Impact.MINOR, fingerprint="brfp-0123456789ab",
                                            merge_duplicates=False), Evidence())
    assert (report.fingerprint, report.merge_duplicates) == ("brfp-0123456789ab", False)
