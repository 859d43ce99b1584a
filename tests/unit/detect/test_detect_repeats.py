"""Repeats of a ticketed error become "+1" notes: the rate rule, its storage, and the service around it.

The rule and the ledger get an injected time; the service runs on real temp log files, a polling
watcher, a fake clock, the local tracker and the real outbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.bundle import read_bundle
from reporter_app.clock import FakeClock
from reporter_app.collect import Evidence
from reporter_app.detect.dedup import FingerprintMap
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.detect.repeats import MAX_WAITING, RepeatLedger, Span, Window, add_repeat, close_due
from reporter_app.detect.service import DetectionService
from reporter_app.detect.watch import LogWatcher
from reporter_app.outbox import OutboxState
from reporter_app.sender import SendResult
from reporter_app.trackers.base import TicketRef

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
TEN = timedelta(minutes=10)

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


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# ---------------------------------------------------------------- the rule


def test_a_lone_repeat_is_a_note_at_once_and_later_ones_wait_for_the_window_end() -> None:
    window, notes = add_repeat(Window(), at(0), total=2, interval=TEN)
    assert notes == [Span(1, at(0), at(0), 2)]
    window, notes = add_repeat(window, at(1), total=3, interval=TEN)
    window, more = add_repeat(window, at(2), total=4, interval=TEN)
    assert notes == more == []
    assert close_due(window, at(9.9), TEN) == (window, [])
    window, notes = close_due(window, at(10), TEN)
    assert notes == [Span(2, at(1), at(2), 4)]  # the count since the last note, and the running total
    assert window == Window(ends=at(20))  # no second note before 09:20
    window, notes = add_repeat(window, at(25), total=5, interval=TEN)
    assert notes == [Span(1, at(25), at(25), 5)]


def test_interval_zero_is_one_note_per_repeat() -> None:
    window, counts = Window(), []
    for n in range(3):
        window, notes = add_repeat(window, at(0), total=n + 2, interval=timedelta(0))
        counts += [(s.count, s.total) for s in notes]
    assert counts == [(1, 2), (1, 3), (1, 4)]


def test_a_flood_gives_at_most_one_note_per_interval_and_loses_no_count() -> None:
    window, notes = Window(), []
    for n in range(1000):  # one every 1.8 s for half an hour
        window, closed = add_repeat(window, T0 + timedelta(seconds=1.8 * n), total=n + 2, interval=TEN)
        notes += closed
    window, closed = close_due(window, at(60), TEN)
    notes += closed
    assert sum(s.count for s in notes) == 1000
    assert len(notes) == 4  # 09:00 (the first), then 09:10, 09:20, 09:30
    starts = [s.first_seen for s in notes]
    assert all(b - a >= TEN - timedelta(seconds=2) for a, b in zip(starts[1:], starts[2:], strict=False))


def test_repeats_held_before_the_ticket_get_the_same_notes_as_if_it_had_existed() -> None:
    # The rule only looks at occurrence times: when the ticket appears makes no difference.
    window, notes = Window(), []
    for minute, total in ((1, 2), (25, 3)):
        window, closed = add_repeat(window, at(minute), total, TEN)
        notes += closed
    assert [(s.count, s.total) for s in notes] == [(1, 2), (1, 3)]


# ---------------------------------------------------------------- the ledger


def test_ledger_keeps_batches_until_the_ticket_exists_and_survives_a_restart(tmp_path: Path) -> None:
    fmap = FingerprintMap.in_data_dir(tmp_path)
    ledger = RepeatLedger(fmap, TEN)
    ledger.follow("brfp-aaaaaaaaaaaa", "KeyError: 'x'", "major")
    assert ledger.add("brfp-aaaaaaaaaaaa", at(1), 2) == [Span(1, at(1), at(1), 2)]
    ledger.add("brfp-aaaaaaaaaaaa", at(2), 3)
    assert ledger.next_close() == at(11)
    assert ledger.close_due(at(10)) == 0 and ledger.close_due(at(11)) == 1
    assert not ledger.has_ready() and ledger.ready() == []

    fmap.link("brfp-aaaaaaaaaaaa", TicketRef("local", "LOCAL-1", ""), at(12))
    again = RepeatLedger(FingerprintMap.in_data_dir(tmp_path), TEN)  # a new process
    assert again.has_ready()
    ready = again.ready()
    assert [(r.batch.span.count, r.batch.span.total, r.ticket.key) for r in ready] == [(1, 2, "LOCAL-1"),
                                                                                     (1, 3, "LOCAL-1")]
    assert ready[0].batch.title == "KeyError: 'x'" and ready[0].batch.impact == "major"
    assert len({r.batch.report_id for r in ready}) == 2
    again.mark_queued(ready[0].batch.seq)
    assert [r.batch.seq for r in again.ready()] == [ready[1].batch.seq]


def test_ledger_without_a_ticket_stays_bounded_and_keeps_every_count(tmp_path: Path) -> None:
    ledger = RepeatLedger(FingerprintMap.in_data_dir(tmp_path), timedelta(0))
    ledger.follow("brfp-bbbbbbbbbbbb", "t")
    for n in range(MAX_WAITING + 15):
        ledger.add("brfp-bbbbbbbbbbbb", at(n), n + 2)
    waiting = ledger.waiting("brfp-bbbbbbbbbbbb")
    assert len(waiting) == MAX_WAITING
    assert sum(s.count for s in waiting) == MAX_WAITING + 15
    assert waiting[-1].total == MAX_WAITING + 16 and waiting[-1].last_seen == at(MAX_WAITING + 14)


def test_ledger_refuses_a_negative_interval_and_an_unfollowed_fingerprint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        RepeatLedger(FingerprintMap.in_data_dir(tmp_path), timedelta(minutes=-1))
    with pytest.raises(KeyError, match="not followed"):
        RepeatLedger(FingerprintMap.in_data_dir(tmp_path), TEN).add("brfp-cccccccccccc", at(0), 1)


# ---------------------------------------------------------------- the service


class Harness:
    def __init__(self, home: Path, detect: str = "") -> None:
        self.home = home
        self.log_file = home / "shop.log"
        self.log_file.write_text("2026-01-05 08:59:00,000 INFO shop: started\n", encoding="utf-8")
        (home / "config.toml").write_text(
            f'[reporter]\nname = "Ada Tester"\n\n[[logs]]\nname = "shop"\npath = "{self.log_file}"\n\n'
            f'[detect]\nenabled = true\n{detect}', encoding="utf-8")
        self.clock = FakeClock(current=T0)
        self.ctx = AppContext.load(home=str(home), env={}, clock=self.clock)
        watcher = LogWatcher([str(self.log_file)], use_inotify=False, clock=lambda: self.clock.mono)
        self.service = DetectionService(self.ctx, watcher=watcher)
        self.tickets = home / "data" / "local-tracker"

    def trace(self, minutes_later: float = 1.0) -> list:  # type: ignore[type-arg]
        with self.log_file.open("a", encoding="utf-8") as fh:
            fh.write(TRACE + CALM)
        found = self.service.detect()
        self.clock.advance(minutes_later * 60)
        self.clock.mono += minutes_later * 60
        return found

    def file(self, detection: object) -> None:
        """The reporter sends the pre-filled form; the outbox files it."""
        self.ctx.submit(detection.draft, detection.evidence)  # type: ignore[attr-defined]
        outcomes = self.ctx.send_pending()
        assert outcomes is not None and [o.result for o in outcomes] == [SendResult.FILED]

    def occurrence_notes(self, key: str = "LOCAL-1") -> list[str]:
        """The "+1" reports the local tracker received, in the order they were queued, as their bundles say."""
        order = {entry.id: n for n, entry in enumerate(self.ctx.outbox.entries())}
        received = [json.loads(p.read_text(encoding="utf-8"))["report_id"]
                    for p in (self.tickets / key / "occurrences").glob("*.json")]
        return [read_bundle(self.ctx.paths.reports_dir / report_id).report.description
                for report_id in sorted(received, key=order.__getitem__)]


@pytest.fixture
def harness(reporter_home: Path) -> Iterator[Harness]:
    made = Harness(reporter_home)
    yield made
    made.service.close()


def test_prompt_then_two_held_repeats_become_two_notes_once_the_ticket_is_filed(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=0.1)
    assert harness.trace(minutes_later=0.1) == [] and harness.trace(minutes_later=0.1) == []  # one prompt
    assert harness.service.post_repeats() == []  # no ticket yet: they wait
    harness.file(prompted)
    queued = harness.service.post_repeats()
    assert len(queued) == 1  # the first repeat opened its window; the second waits for it to end
    harness.clock.advance(10 * 60)
    harness.service.detect()  # the watcher's next round closes the window
    assert len(harness.service.post_repeats()) == 1
    outcomes = harness.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.OCCURRENCE] * 2
    assert sorted(p.name for p in harness.tickets.iterdir() if p.name.startswith("LOCAL-")) == ["LOCAL-1"]
    first, second = harness.occurrence_notes()
    fingerprint = prompted.fingerprint
    assert first.startswith(f"Seen again (fingerprint {fingerprint}).\nNew since the last report: 1 occurrence, at ")
    assert "Occurrences on this installation: 2, first 2026-01-05T09:00:00Z" in first
    assert "New since the last report: 1 occurrence" in second and "on this installation: 3" in second
    assert "Installation: " in first and "os: " in first
    assert harness.service.post_repeats() == []


def test_a_repeat_of_a_ticketed_error_never_prompts_and_is_posted(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=30)  # past the cooldown: the policy would prompt again
    harness.file(prompted)
    assert harness.trace() == []
    assert len(harness.service.poll()) == 0  # poll() = detect + resolve + post_repeats
    outcomes = harness.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.OCCURRENCE]
    [note] = harness.occurrence_notes()
    assert "New since the last report: 1 occurrence" in note and "on this installation: 2" in note
    report = harness.ctx.outbox.entries()[-1]
    assert report.title == "app.errors.PaymentError: card declined for [REDACTED:email]"  # scrubbed, like a report


def test_a_ticket_found_in_the_tracker_is_remembered_and_gets_the_repeats(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=30)
    harness.file(prompted)
    fmap = harness.service.fingerprints
    fmap.unlink(prompted.fingerprint)  # only the tracker knows it now (another machine filed it)
    [again] = harness.trace()
    assert again.fingerprint == prompted.fingerprint
    offer = harness.service.resolve(again).dedup
    assert offer.found_in == "tracker" and offer.existing is not None and offer.existing.key == "LOCAL-1"
    assert fmap.ticket_for(prompted.fingerprint) == offer.existing
    assert harness.trace() == []  # linked: no prompt any more


def test_an_occurrence_queued_while_the_tracker_is_down_goes_out_later_and_once(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=30)
    harness.file(prompted)
    harness.trace()
    occurrences = harness.tickets / "LOCAL-1" / "occurrences"
    occurrences.write_text("not a folder", encoding="utf-8")  # the tracker can't take the "+1": transient
    [report_id] = harness.service.post_repeats()
    outcomes = harness.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.WAITING_RETRY]
    assert harness.ctx.outbox.get(report_id).state is OutboxState.WAITING_RETRY
    occurrences.unlink()
    harness.clock.advance(3600)
    outcomes = harness.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.OCCURRENCE]
    assert harness.service.post_repeats() == [] and harness.ctx.send_pending() == []
    assert len(list(occurrences.glob("*.json"))) == 1


def test_a_crash_after_the_bundle_was_written_does_not_queue_it_twice(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=30)
    harness.file(prompted)
    harness.trace()
    [ready] = harness.service.repeats.ready()
    # The core worker wrote the "+1" bundle and died before marking the batch queued.
    harness.ctx.submit(Draft(title="t", description="d", fingerprint=prompted.fingerprint,
                             report_id=ready.batch.report_id), Evidence())
    assert harness.service.post_repeats() == [ready.batch.report_id]
    assert [e.id for e in harness.ctx.outbox.entries()].count(ready.batch.report_id) == 1
    assert harness.service.repeats.ready() == []


def test_an_ignored_error_gets_no_notes(reporter_home: Path) -> None:
    harness = Harness(reporter_home, '[[detect.rules]]\nname = "noise"\npattern = "PaymentError"\naction = "ignore"\n')
    try:
        fingerprint = fingerprint_event(detect_events(TRACE.splitlines())[0])
        harness.service.fingerprints.link(fingerprint, TicketRef("local", "LOCAL-9", ""), T0)
        assert harness.trace() == [] and harness.trace() == []
        assert not harness.service.repeats.follows(fingerprint) and not harness.service.repeats_ready()
    finally:
        harness.service.close()


def test_a_flood_of_a_ticketed_error_is_one_note_per_interval(reporter_home: Path) -> None:
    harness = Harness(reporter_home, "occurrence_interval_minutes = 5\n")
    try:
        [prompted] = harness.trace(minutes_later=30)
        harness.file(prompted)
        for _ in range(40):
            harness.trace(minutes_later=0.25)  # 40 repeats, 09:30:00 to 09:39:45
        assert len(harness.service.post_repeats()) == 3  # the clock is at 09:40: both windows are over
        harness.ctx.send_pending()
        notes = harness.occurrence_notes()
        assert [n.split("\n")[1] for n in notes] == [
            "New since the last report: 1 occurrence, at 2026-01-05T09:30:00Z.",
            "New since the last report: 19 occurrences, from 2026-01-05T09:30:15Z to 2026-01-05T09:34:45Z.",
            "New since the last report: 20 occurrences, from 2026-01-05T09:35:00Z to 2026-01-05T09:39:45Z."]
        assert "on this installation: 41" in notes[-1]
        harness.clock.advance(3600)
        harness.service.detect()
        assert harness.service.post_repeats() == []
    finally:
        harness.service.close()


def test_a_bad_report_id_is_refused(harness: Harness) -> None:
    with pytest.raises(ValueError, match="not 32 lowercase hex digits"):
        harness.ctx.submit(Draft(title="t", report_id="../escape"), Evidence())


def test_the_watcher_wakes_when_held_repeats_are_due(harness: Harness) -> None:
    [prompted] = harness.trace(minutes_later=30)
    harness.file(prompted)
    assert harness.service.next_timeout() == harness.service.watcher.next_timeout()  # nothing held
    harness.trace(minutes_later=0)  # a note at once; its window runs to 09:40
    harness.clock.advance(60)
    harness.trace(minutes_later=0)  # held until 09:40, nine minutes from now
    assert harness.service.next_timeout() == harness.service.watcher.next_timeout()  # the watcher's is sooner
    harness.clock.advance(9 * 60 - 0.5)
    assert harness.service.next_timeout() == pytest.approx(0.55)
