"""Dedup before filing: local map first, then the tracker's find; the decision the form shows."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reporter_app.clock import FakeClock
from reporter_app.detect.dedup import (
    FingerprintMap,
    Occurrences,
    decide,
    installation_id,
    lookup,
    occurrence_comment,
    remember_filed,
)
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event, fingerprint_text
from reporter_app.trackers.base import (
    CheckResult,
    CredentialsError,
    Limits,
    TicketRef,
    TicketState,
    TicketStatus,
    Tracker,
    TransientError,
)
from reporter_app.trackers.installations import installation_tag


class FakeTracker(Tracker):
    name = "fake"

    def __init__(self, tickets: dict[str, TicketRef] | None = None, fail: bool = False) -> None:
        self.tickets = tickets or {}
        self.fail = fail
        self.finds: list[str] = []

    def check(self) -> list[CheckResult]:
        return []

    def limits(self) -> Limits:
        return Limits()

    def find(self, key: str) -> TicketRef | None:
        self.finds.append(key)
        if self.fail:
            raise TransientError("network down")
        return self.tickets.get(key)

    def create(self, report: Any, bundle: Any) -> TicketRef:
        raise NotImplementedError

    def add_occurrence(self, ref: TicketRef, report: Any, bundle: Any) -> None:
        raise NotImplementedError

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        return {r.key: TicketStatus(ref=r, state=TicketState.IN_PROGRESS, status_name="In Progress") for r in refs}


REF = TicketRef(backend="fake", key="APP-7", url="https://t/APP-7")


def test_not_found_anywhere_offers_new(tmp_path: Path) -> None:
    decision = decide("brfp-000000000001", FingerprintMap.in_data_dir(tmp_path), FakeTracker())
    assert not decision.duplicate and decision.offer == "new"


def test_tracker_hit_is_remembered_and_then_found_locally(tmp_path: Path) -> None:
    fmap = FingerprintMap.in_data_dir(tmp_path)
    tracker = FakeTracker({"brfp-abc": REF})
    first = decide("brfp-abc", fmap, tracker)
    assert first.found_in == "tracker" and first.offer == "add_occurrence"
    assert first.message == "Already reported as APP-7 (In Progress): add my occurrence and follow it"
    remember_filed(fmap, "brfp-abc", first.existing or REF, FakeClock())
    second = decide("brfp-abc", fmap, FakeTracker())
    assert second.found_in == "local" and second.existing == REF


def test_tracker_unreachable_is_reported_not_raised(tmp_path: Path) -> None:
    decision = decide("brfp-x", FingerprintMap.in_data_dir(tmp_path), FakeTracker(fail=True))
    assert decision.lookup_error == "network down" and decision.offer == "new"


def test_occurrences_and_comment(tmp_path: Path) -> None:
    clock = FakeClock()
    fmap = FingerprintMap.in_data_dir(tmp_path)
    fmap.record_occurrence("fp", clock.now())
    clock.advance(3600)
    seen = fmap.record_occurrence("fp", clock.now())
    assert seen.count == 2 and seen.last_seen > seen.first_seen
    install = installation_id(tmp_path)
    assert install == installation_id(tmp_path) and len(install) == 32
    text = occurrence_comment("fp", seen, {"os": "Linux"}, install, machines=3)
    assert "Occurrences on this installation: 2" in text and "Distinct installations reporting it: 3" in text
    assert "os: Linux" in text
    # Named by the per-fingerprint tag of the ticket's marker lines, never by the raw id (tickets stay unlinkable).
    assert f"Installation: {installation_tag(install, 'fp')}" in text and install[:8] not in text


def test_lookup_remembers_a_tracker_hit_and_reports_a_tracker_it_cannot_build(tmp_path: Path) -> None:
    fmap = FingerprintMap.in_data_dir(tmp_path)
    found = lookup("brfp-abc", fmap, lambda: FakeTracker({"brfp-abc": REF}), FakeClock())
    assert found.found_in == "tracker" and fmap.ticket_for("brfp-abc") == REF  # repeats now go to APP-7

    def no_token() -> Tracker:
        raise CredentialsError("no token for redmine: run `reporter-app login`")

    offline = lookup("brfp-def", fmap, no_token, FakeClock())
    assert not offline.duplicate and offline.lookup_error == "no token for redmine: run `reporter-app login`"
    assert lookup("brfp-abc", fmap, no_token, FakeClock()).found_in == "local"


def test_a_trace_pasted_with_prose_has_the_fingerprint_of_the_same_trace_in_a_log() -> None:
    pasted = ("It crashed when I saved. The console said:\n\nTraceback (most recent call last):\n"
              '  File "C:\\\\Users\\\\ada\\\\app\\\\store.py", line 9, in save\n    write(doc)\n'
              "OSError: disk full (id 42)\n\nThat's all.")
    logged = ["2026-01-05 09:00:00 ERROR app: save failed", "Traceback (most recent call last):",
              '  File "/opt/app/app/store.py", line 11, in save', "    write(doc)", "OSError: disk full (id 7)"]
    assert fingerprint_text(pasted) == fingerprint_event(detect_events(logged)[0])
    assert fingerprint_text("It crashed when I saved; no error shown.") is None


def test_a_plus_one_for_automatic_repeats_says_how_many_are_new() -> None:
    clock = FakeClock()
    seen = Occurrences(5, clock.now(), clock.now())
    text = occurrence_comment("brfp-abc", seen, {}, "f" * 32, new=Occurrences(3, clock.now(), clock.now()))
    assert text.splitlines()[:3] == ["Seen again (fingerprint brfp-abc).",
                                     "New since the last report: 3 occurrences, at 2026-01-05T09:00:00Z.",
                                     "Occurrences on this installation: 5, first 2026-01-05T09:00:00Z, "
                                     "last 2026-01-05T09:00:00Z."]
