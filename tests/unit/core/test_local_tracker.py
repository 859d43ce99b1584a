import json
import os
import threading

import pytest

from reporter_app.bundle import BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Report
from reporter_app.trackers.base import RefusedError, TicketRef, TicketState, TrackerContext
from reporter_app.trackers.local import LocalTracker


def tracker(tmp_path, **settings):
    return LocalTracker(TrackerContext(settings=settings, data_dir=tmp_path / "data", clock=FakeClock()))


def bundle(tmp_path, title="Crash on save", **kw):
    writer = BundleWriter(tmp_path / "reports", Report(title=title, **kw))
    writer.add_bytes("logs/app.txt", b"boom\n", kind="log", content_type="text/plain")
    return writer.commit()


def test_create_numbers_tickets_and_copies_attachments(tmp_path):
    t = tracker(tmp_path)
    first = t.create(bundle(tmp_path).report, bundle(tmp_path))
    b = bundle(tmp_path, "second")
    second = t.create(b.report, b)
    assert (first.key, second.key) == ("LOCAL-1", "LOCAL-2")
    ticket_dir = tmp_path / "data" / "local-tracker" / "LOCAL-2"
    ticket = json.loads((ticket_dir / "ticket.json").read_text())
    assert ticket["title"] == "second" and ticket["status"] == "New"
    assert ticket["idempotency_key"] == b.report.idempotency_key
    assert (ticket_dir / "attachments" / "logs" / "app.txt").read_bytes() == b"boom\n"
    assert second.url.startswith("file://")


def test_find_by_idempotency_key_and_fingerprint(tmp_path):
    t = tracker(tmp_path)
    b = bundle(tmp_path, fingerprint="brfp-123")
    ref = t.create(b.report, b)
    assert t.find(b.report.idempotency_key) == ref
    assert t.find("brfp-123") == ref
    assert t.find("ra-unknown") is None


def test_status_follows_updates_comments_and_occurrences(tmp_path):
    t = tracker(tmp_path)
    b = bundle(tmp_path)
    ref = t.create(b.report, b)
    t.update(ref.key, status="In Progress", comment="Looking into it", author="eng", assignee="eng")
    other = bundle(tmp_path, "same again")
    t.add_occurrence(ref, other.report, other)
    t.add_occurrence(ref, other.report, other)  # a retried +1 counts once
    status = t.statuses([ref, TicketRef("local", "LOCAL-99")])
    assert list(status) == ["LOCAL-1"]
    s = status["LOCAL-1"]
    assert (s.state, s.status_name, s.assignee) == (TicketState.IN_PROGRESS, "In Progress", "eng")
    assert [c.body for c in s.comments] == ["Looking into it"]
    assert s.occurrences == 2


def test_occurrence_on_unknown_ticket_is_refused(tmp_path):
    t = tracker(tmp_path)
    b = bundle(tmp_path)
    with pytest.raises(RefusedError, match="LOCAL-5 does not exist"):
        t.add_occurrence(TicketRef("local", "LOCAL-5"), b.report, b)


def test_concurrent_creators_never_share_a_key(tmp_path):
    folder = tmp_path / "shared"
    bundles = [bundle(tmp_path, f"r{i}") for i in range(24)]
    keys, errors = [], []

    def work(chunk):
        t = tracker(tmp_path, folder=str(folder))
        for b in chunk:
            try:
                keys.append(t.create(b.report, b).key)
            except Exception as exc:  # pragma: no cover - surfaced below
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(bundles[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"LOCAL-{i}" for i in range(1, 25)]
    titles = {json.loads((folder / k / "ticket.json").read_text())["title"] for k in keys}
    assert len(titles) == 24


def test_check_reports_an_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = tracker(tmp_path, folder=str(blocker / "sub")).check()
    assert not result[0].ok and str(blocker) in result[0].detail


def test_bad_key_prefix_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="key_prefix"):
        tracker(tmp_path, key_prefix="../x")


def test_occurrences_count_distinct_installations_sharing_the_folder(tmp_path):
    shared = {"folder": str(tmp_path / "shared")}
    ada, bob = tracker(tmp_path / "ada", **shared), tracker(tmp_path / "bob", **shared)
    first = bundle(tmp_path, fingerprint="brfp-1", installation_id="a" * 32)
    ref = ada.create(first.report, first)
    from_bob = bundle(tmp_path, "again", fingerprint="brfp-1", installation_id="b" * 32)
    bob.add_occurrence(ref, from_bob.report, from_bob)
    bob.add_occurrence(ref, from_bob.report, from_bob)  # a retry rewrites the same file: still 2
    from_ada = bundle(tmp_path, "and again", fingerprint="brfp-1", installation_id="a" * 32)
    ada.add_occurrence(ref, from_ada.report, from_ada)

    occurrences = tmp_path / "shared" / "LOCAL-1" / "occurrences"
    bobs = json.loads((occurrences / f"{from_bob.report.id}.json").read_text())
    adas = json.loads((occurrences / f"{from_ada.report.id}.json").read_text())
    assert (bobs["distinct_installations"], bobs["distinct_installations_exact"]) == (2, True)
    assert (adas["distinct_installations"], adas["distinct_installations_exact"]) == (2, True)
    assert "a" * 32 not in json.dumps(adas)  # the ticket keeps a per-ticket tag, never the raw id
    status = bob.statuses([ref])["LOCAL-1"]
    assert (status.occurrences, status.installations, status.installations_exact) == (3, 2, True)
    assert status.occurrence_summary == "3 occurrences on 2 machines"


def test_a_ticket_from_an_older_version_makes_the_count_a_lower_bound(tmp_path):
    t = tracker(tmp_path)
    old = bundle(tmp_path, fingerprint="brfp-1")  # no installation_id: written before it existed
    ref = t.create(old.report, old)
    new = bundle(tmp_path, "again", fingerprint="brfp-1", installation_id="b" * 32)
    t.add_occurrence(ref, new.report, new)
    written = json.loads((tmp_path / "data" / "local-tracker" / "LOCAL-1" / "occurrences" /
                          f"{new.report.id}.json").read_text())
    assert (written["distinct_installations"], written["distinct_installations_exact"]) == (1, False)
    assert t.statuses([ref])["LOCAL-1"].occurrence_summary == "2 occurrences on at least 1 machine"
