"""RedmineTracker against the real Redmine of ``scripts/redmine-up`` (the ``redmine`` fixture: pristine per test).

Reports are filed with the non-admin ``reporter`` key (what a real user has: no /custom_fields.json); the
"engineer" who changes status, assignee and notes uses the admin session of the fixture.
"""

from __future__ import annotations

import struct
import zlib

import pytest
import requests

from reporter_app.bundle import Bundle, BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Impact, Priority, Reach, Report, Reporter
from reporter_app.outbox import Outbox
from reporter_app.sender import OutboxSender, SendResult
from reporter_app.trackers.base import RefusedError, TicketState, TrackerContext
from reporter_app.trackers.redmine import RedmineTracker


def png(width: int, height: int, seed: int = 7) -> bytes:
    """A real (noisy, so barely compressible) RGB PNG, written with zlib alone."""
    rows = bytearray()
    state = seed
    for _ in range(height):
        rows.append(0)
        for _ in range(width * 3):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            rows.append(state >> 16 & 0xFF)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 1)) \
        + chunk(b"IEND", b"")


def make_tracker(redmine, tmp_path, token: str | None = "reporter", **settings) -> RedmineTracker:
    key = redmine.reporter_api_key if token == "reporter" else token
    base = {"url": redmine.url, "project": redmine.project, "timeout_seconds": 30}
    return RedmineTracker(TrackerContext(settings={**base, **settings}, data_dir=tmp_path / "data", token=key,
                                         session=requests.Session(), clock=FakeClock()))


def make_bundle(tmp_path, title: str = "Save button freezes the editor", files: dict[str, tuple] | None = None,
                **fields) -> Bundle:
    report = Report(
        title=title, description="I pressed Save and the window stopped responding.", expected="The file is saved",
        steps="1. Open a document\n2. Press Ctrl+S", impact=Impact.BLOCKER, reach=Reach.MY_TEAM, priority=Priority.P1,
        priority_reason="blocker for a team", reporter=Reporter("Ada Tester", "ada@example.com"),
        fingerprint="brfp-1a2b3c4d5e6f", **fields)
    writer = BundleWriter(tmp_path / "reports", report)
    default = {
        "screenshot.png": (png(64, 48), "screenshot", "image/png"),
        "logs/app.txt": (b"".join(b"2026-01-05 09:00:%02d INFO step %d\n" % (i % 60, i) for i in range(200)),
                         "log", "text/plain"),
        "logs/system.txt": (b"kernel: all good\n", "log", "text/plain"),
    }
    for name, (data, kind, content_type) in (default if files is None else files).items():
        writer.add_bytes(name, data, kind=kind, content_type=content_type)
    return writer.commit()


def download(redmine, attachment: dict) -> bytes:
    response = redmine.session.get(attachment["content_url"], timeout=30)
    response.raise_for_status()
    return response.content


def test_create_files_every_field_and_attachment(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    bundle = make_bundle(tmp_path, component="Editor")
    report = bundle.report

    ref = tracker.create(report, bundle)

    assert ref.backend == "redmine" and ref.key.startswith("#") and ref.url == f"{redmine.url}/issues/{ref.key[1:]}"
    issue = redmine.issue(int(ref.key[1:]))
    assert issue["subject"] == report.title
    assert issue["project"]["id"] and issue["tracker"]["name"] == "Bug"
    assert issue["priority"]["name"] == "Immediate"  # P1 through the default priority_map
    assert issue["author"]["name"] == "Rita Reporter"
    fields = {f["name"]: f["value"] for f in issue["custom_fields"]}
    assert fields == {"impact": "blocker", "reach": "my_team", "fingerprint": "brfp-1a2b3c4d5e6f",
                      "idempotency_key": report.idempotency_key}
    description = issue["description"].replace("\r\n", "\n")
    for text in ("h3. What happened\n\nI pressed Save", "h3. What I expected\n\nThe file is saved",
                 "1. Open a document\n2. Press Ctrl+S", "I can't continue (blocker); affects: My team",
                 "P1 (blocker for a team)", "Ada Tester <ada@example.com> (qa)", "Editor", "!screenshot.png!",
                 'attachment:"app.txt"', f"reporter-app key: {report.idempotency_key} · fingerprint: brfp-1a2b3c4d5e6f"):
        assert text in description
    attachments = {a["filename"]: a for a in issue["attachments"]}
    assert set(attachments) == {"screenshot.png", "app.txt", "system.txt"}
    for attachment in report.attachments:
        filed = attachments[attachment.path.rsplit("/", 1)[-1]]
        assert filed["content_type"] == attachment.content_type
        assert download(redmine, filed) == bundle.file(attachment).read_bytes()


def test_find_after_create_by_key_and_fingerprint(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    bundle = make_bundle(tmp_path)
    ref = tracker.create(bundle.report, bundle)

    assert tracker.find(bundle.report.idempotency_key) == ref
    assert tracker.find("brfp-1a2b3c4d5e6f") == ref
    assert tracker.find("ra-not-filed-anywhere") is None


def test_without_key_fields_the_key_lives_in_the_description(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path, idempotency_field="", fingerprint_field="")
    bundle = make_bundle(tmp_path)
    ref = tracker.create(bundle.report, bundle)

    fields = {f["name"]: f["value"] for f in redmine.issue(int(ref.key[1:]))["custom_fields"]}
    assert not fields.get("idempotency_key") and not fields.get("fingerprint")
    assert tracker.find(bundle.report.idempotency_key) == ref
    assert tracker.find("brfp-1a2b3c4d5e6f") == ref
    assert tracker.find("ra-0000") is None


def test_sender_after_a_crash_finds_the_ticket_instead_of_filing_twice(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    bundle = make_bundle(tmp_path)
    clock = FakeClock()
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "reports", clock=clock)

    def crash(point, entry):
        if point == "after_create":
            raise KeyboardInterrupt  # the process dies between "ticket created" and "row updated"

    outbox.enqueue(bundle, "redmine")
    with pytest.raises(KeyboardInterrupt):
        OutboxSender(outbox, lambda _name: tracker, clock=clock, crash_point=crash).send_next()
    outbox.recover_interrupted()
    outcome = OutboxSender(outbox, lambda _name: tracker, clock=clock).send_next()

    assert outcome is not None and outcome.result == SendResult.FOUND
    assert len(redmine.issues()) == 1
    assert outcome.ticket == tracker.find(bundle.report.idempotency_key)


def test_add_occurrence_adds_one_journal_with_its_attachments(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    first = make_bundle(tmp_path)
    ref = tracker.create(first.report, first)
    again = make_bundle(tmp_path, title="Saving hangs again", files={"screenshot.png": (png(32, 32, 3), "screenshot",
                                                                                         "image/png")})

    tracker.add_occurrence(ref, again.report, again)
    tracker.add_occurrence(ref, again.report, again)  # a retry of the same occurrence changes nothing

    issue = redmine.issue(int(ref.key[1:]))
    notes = [j["notes"] for j in issue["journals"] if j.get("notes")]
    assert len(notes) == 1
    assert notes[0].startswith("+1 occurrence: reported again by Ada Tester (qa)")
    assert f"reporter-app key: {again.report.idempotency_key}" in notes[0]
    assert sum(a["filename"] == "screenshot.png" for a in issue["attachments"]) == 2
    status = tracker.statuses([ref])[ref.key]
    assert status.occurrences == 2 and status.comments == []  # our own +1 is not a comment for the reporter


def test_statuses_follow_what_an_engineer_does(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    bundle = make_bundle(tmp_path)
    ref = tracker.create(bundle.report, bundle)
    issue_id = int(ref.key[1:])
    # Only project members are assignable: the reporter user is one (admin is not).
    assignee = redmine.get_json("/users.json", name="reporter")["users"][0]
    version = redmine.request("POST", f"/projects/{redmine.project}/versions.json",
                              json={"version": {"name": "1.4.2"}}).json()["version"]

    def engineer_does(**changes):
        response = redmine.request("PUT", f"/issues/{issue_id}.json", json={"issue": changes})
        assert response.status_code == 204, response.text

    status = tracker.statuses([ref])[ref.key]
    assert (status.state, status.status_name, status.priority) == (TicketState.NEW, "New", "Immediate")

    engineer_does(status_id=redmine.status_id("In Progress"), assigned_to_id=assignee["id"],
                  fixed_version_id=version["id"], notes="Reproduced; looking into it.")
    status = tracker.statuses([ref])[ref.key]
    assert status.state == TicketState.IN_PROGRESS and status.status_name == "In Progress"
    assert status.assignee == "Rita Reporter" and status.fixed_in == "1.4.2"
    assert [(c.author, c.body) for c in status.comments] == [("Redmine Admin", "Reproduced; looking into it.")]
    assert status.title == bundle.report.title and status.updated_at is not None

    engineer_does(status_id=redmine.status_id("Closed"), notes="Fixed in 1.4.2")
    assert tracker.statuses([ref])[ref.key].state == TicketState.CLOSED
    engineer_does(status_id=redmine.status_id("New"), notes="Still happens on Windows")
    status = tracker.statuses([ref])[ref.key]
    assert status.state == TicketState.REOPENED and status.status_name == "New"
    assert len(status.comments) == 3


def test_statuses_batch_and_leave_out_unknown_tickets(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    refs = []
    for i in range(3):
        bundle = make_bundle(tmp_path / str(i), files={})
        refs.append(tracker.create(bundle.report, bundle))
    gone = refs[0].__class__("redmine", "#99999", f"{redmine.url}/issues/99999")

    found = tracker.statuses([*refs, gone])

    assert set(found) == {r.key for r in refs}
    assert all(s.state == TicketState.NEW for s in found.values())


def test_check_passes_against_the_test_server(redmine, tmp_path):
    results = make_tracker(redmine, tmp_path).check()
    assert all(r.ok for r in results), results
    assert [r.name for r in results] == ["redmine", "redmine project", "redmine tracker", "redmine priorities",
                                         "redmine fields"]


@pytest.mark.parametrize("case, expected", [
    ("wrong key", "rejected the API key (401 Unauthorized)"),
    ("wrong project", "has no project 'no-such-project'"),
    ("unreachable", "cannot reach Redmine at http://127.0.0.1:9: connection refused"),
    ("no key", "no API key: run `reporter-app login`"),
])
def test_check_gives_one_clear_line_per_problem(redmine, tmp_path, case, expected):
    settings: dict[str, object] = {}
    token: str | None = "reporter"
    if case == "wrong key":
        token = "0" * 40
    elif case == "wrong project":
        settings["project"] = "no-such-project"
    elif case == "unreachable":
        settings["url"] = "http://127.0.0.1:9"
    else:
        token = None
    results = make_tracker(redmine, tmp_path, token=token, **settings).check()

    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and failed == results[-1:], results
    assert expected in failed[0].detail


def test_check_names_a_wrong_mapping(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path, tracker_name="Bugs", priority_map=["P1=Immediat"],
                           impact_field="impcat")
    results = {r.name: r for r in tracker.check()}
    assert not results["redmine tracker"].ok and "did you mean 'Bug'" in results["redmine tracker"].detail
    assert not results["redmine priorities"].ok and "did you mean 'Immediate'" in results["redmine priorities"].detail
    assert not results["redmine fields"].ok and "did you mean 'impact'" in results["redmine fields"].detail


def test_an_upload_redmine_refuses_shows_redmines_message(redmine, tmp_path):
    # The server keeps its 5 MB default; a config that claims more lets a 6 MB file through to Redmine.
    tracker = make_tracker(redmine, tmp_path, max_attachment_mb=50)
    bundle = make_bundle(tmp_path, files={"attachments/dump.bin": (b"\0" * (6 * 1024 * 1024), "file",
                                                                   "application/octet-stream")})
    with pytest.raises(RefusedError) as caught:
        tracker.create(bundle.report, bundle)
    message = caught.value.message
    assert "exceeds the maximum allowed file size (5242880)" in message and "dump.bin" in message
    assert "set tracker.max_attachment_mb to 5 or less" in message
    assert redmine.issues() == []


def test_oversized_files_are_fitted_and_the_ticket_says_so(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path, max_attachment_mb=0.05)  # 51 KB
    log = b"".join(b"line %06d of the application log\n" % i for i in range(4000))  # ~136 KB
    bundle = make_bundle(tmp_path, files={
        "screenshot.png": (png(200, 150), "screenshot", "image/png"),  # ~90 KB of noise
        "logs/app.txt": (log, "log", "text/plain"),
        "attachments/core.bin": (b"\1" * 60_000, "file", "application/octet-stream"),
    })
    ref = tracker.create(bundle.report, bundle)

    issue = redmine.issue(int(ref.key[1:]))
    attachments = {a["filename"]: a for a in issue["attachments"]}
    assert "core.bin" not in attachments
    kept = download(redmine, attachments["app.txt"])
    assert len(kept) <= 0.05 * 1024 * 1024 and kept.endswith(b"line 003999 of the application log\n")
    assert kept.startswith(b"[reporter-app: ") and b"older lines" in kept
    shot = next(a for name, a in attachments.items() if name.startswith("screenshot"))
    assert shot["filesize"] <= 0.05 * 1024 * 1024
    description = issue["description"]
    assert "Changed to fit the tracker" in description
    assert "logs/app.txt: the oldest" in description and "attachments/core.bin" in description
    assert "screenshot.png" in description and "to fit the Redmine's" in description


def test_comment_is_a_note_that_names_the_reporter(redmine, tmp_path):
    tracker = make_tracker(redmine, tmp_path)
    bundle = make_bundle(tmp_path)
    ref = tracker.create(bundle.report, bundle)
    tracker.comment(ref, "It also happens with autosave on.", author="Ada Tester")
    [journal] = [j for j in redmine.issue(tracker.issue_id(ref))["journals"] if j.get("notes")]
    assert journal["notes"] == "It also happens with autosave on.\n\n— Ada Tester (via reporter-app)"
    status = tracker.statuses([ref])[ref.key]
    # Through our own key, but naming a person: a comment by that person (the poller leaves out the reporter's own).
    assert [(c.author, c.body) for c in status.comments] == [("Ada Tester", "It also happens with autosave on.")]
    # The description and filing time come back for stats (root cause) and the SLA of followed tickets.
    assert "I pressed Save and the window stopped responding." in status.description
    issue = redmine.issue(tracker.issue_id(ref), include="")
    assert status.created_at is not None and status.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") == issue["created_on"]
    with pytest.raises(RefusedError, match="no longer exists"):
        tracker.comment(ref.__class__("redmine", "#9999"), "hello")
    with pytest.raises(RefusedError, match="empty"):
        tracker.comment(ref, "   ")
