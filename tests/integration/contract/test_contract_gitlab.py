"""GitLab backend against the hand-checked fake: uploads then issue, find, notes, statuses, error classes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from reporter_app.clock import FakeClock
from reporter_app.trackers import load_backend
from reporter_app.trackers.base import (
    CredentialsError,
    RefusedError,
    TicketRef,
    TicketState,
    TrackerContext,
    TransientError,
)
from reporter_app.trackers.gitlab import GitLabTracker
from tests.integration.contract.fake_gitlab import FakeGitLab


@pytest.fixture
def make_tracker(gitlab: FakeGitLab, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    def make(token: str | None = FakeGitLab.token, **settings: Any) -> GitLabTracker:
        values = {"url": gitlab.url, "project": "acme/app", "labels": ["reporter-app", "bug"], **settings}
        return GitLabTracker(TrackerContext(settings=values, data_dir=tmp_path, token=token, session=session,
                                            clock=clock))
    return make


def test_registered_with_secret_token() -> None:
    assert load_backend("gitlab") is GitLabTracker
    assert [o.key for o in GitLabTracker.options if o.secret] == ["token"]


@pytest.mark.parametrize("project", ["acme/app", "7"])
def test_create_uploads_then_files_issue_with_links(gitlab: FakeGitLab, make_tracker: Any, make_bundle: Any,
                                                    project: str) -> None:
    bundle = make_bundle()
    ref = make_tracker(project=project).create(bundle.report, bundle)
    assert ref == TicketRef("gitlab", "#1", "https://gitlab.example.com/acme/app/-/issues/1")
    fake = gitlab.projects[7]
    issue = fake.issues[1]
    expected = ["reporter-app", "bug", "P2", "impact-major", "reach-my_team"]
    assert issue["labels"] == expected and fake.labels == set(expected)
    uploads = {url.rsplit("/", 1)[1]: (url, data) for url, (_, data) in fake.uploads.items()}
    assert uploads["screenshot.png"][1] == (bundle.path / "screenshot.png").read_bytes()
    assert uploads["app.txt"][1] == (bundle.path / "logs/app.txt").read_bytes()
    body = issue["description"]
    assert f"![screenshot.png]({uploads['screenshot.png'][0]})" in body
    assert f"[app.txt]({uploads['app.txt'][0]})" in body
    assert "<details><summary>app.txt" in body and "### Steps to reproduce" in body
    assert f"<!-- reporter-app key: {bundle.report.idempotency_key}" in body
    # Uploads come first, so a failure never leaves an issue without its evidence.
    order = [r.path.rsplit("/", 1)[1] for r in gitlab.requests if r.method == "POST"]
    assert order == ["uploads", "uploads", "issues"]


def test_find_and_exactly_one_note_per_occurrence(gitlab: FakeGitLab, make_tracker: Any, make_bundle: Any) -> None:
    tracker = make_tracker()
    first, dup = make_bundle(installation_id="a" * 32), make_bundle("again", installation_id="b" * 32)
    ref = tracker.create(first.report, first)
    assert tracker.find(first.report.idempotency_key) == ref
    assert tracker.find("brfp-1a2b3c4d5e6f") == ref
    assert tracker.find("ra-nope") is None
    tracker.add_occurrence(ref, dup.report, dup)
    tracker.add_occurrence(ref, dup.report, dup)
    notes = gitlab.projects[7].notes[1]
    assert len(notes) == 1 and "+1 occurrence" in notes[0]["body"]
    assert "Distinct installations reporting it: 2." in notes[0]["body"]  # the description's machine + this one
    assert tracker.statuses([ref])["#1"].occurrence_summary == "2 occurrences on 2 machines"


def test_statuses_batched_and_following_engineers(gitlab: FakeGitLab, make_tracker: Any, make_bundle: Any) -> None:
    tracker = make_tracker()
    a, b, dup = make_bundle("a"), make_bundle("b"), make_bundle("dup")
    ref_a, ref_b = tracker.create(a.report, a), tracker.create(b.report, b)
    tracker.add_occurrence(ref_a, dup.report, dup)
    status = tracker.statuses([ref_a, ref_b, TicketRef("gitlab", "#42")])
    assert set(status) == {"#1", "#2"}
    assert status["#1"].state == TicketState.NEW and status["#1"].occurrences == 2 and status["#1"].comments == []
    listing = gitlab.calls("GET", r"/api/v4/projects/acme%2Fapp/issues")[-1]
    assert listing.query["iids[]"] == ["1", "2", "42"]  # one call for all

    gitlab.engineer(7, 1, assignee="grace", comment="On it", author="grace")
    gitlab.engineer(7, 2, state_event="close", milestone="16.2")
    status = tracker.statuses([ref_a, ref_b])
    assert (status["#1"].state, status["#1"].assignee) == (TicketState.IN_PROGRESS, "grace")
    assert [(c.author, c.body) for c in status["#1"].comments] == [("grace", "On it")]
    assert (status["#2"].state, status["#2"].fixed_in) == (TicketState.CLOSED, "16.2")
    gitlab.engineer(7, 2, state_event="reopen")
    assert tracker.statuses([ref_b])["#2"].state == TicketState.REOPENED


@pytest.mark.parametrize(("status", "body", "headers", "error", "text"), [
    (400, {"message": {"title": ["is too long (maximum is 255 characters)"]}}, {}, RefusedError, "title is too long"),
    (401, {"message": "401 Unauthorized"}, {}, CredentialsError, "401"),
    (403, {"message": "403 Forbidden"}, {}, CredentialsError, "Reporter role"),
    (404, {"message": "404 Project Not Found"}, {}, RefusedError, "404 Project Not Found"),
    (422, {"message": "Labels is invalid"}, {}, RefusedError, "Labels is invalid"),
    (429, {"message": "Retry later"}, {"Retry-After": "42"}, TransientError, "Retry later"),
    (502, "Bad Gateway", {}, TransientError, "502"),
])
def test_issue_errors_are_classified(gitlab: FakeGitLab, make_tracker: Any, make_bundle: Any, status: int,
                                     body: Any, headers: dict[str, str], error: type, text: str) -> None:
    bundle = make_bundle()
    gitlab.fail_next("POST", r"/api/v4/projects/[^/]+/issues", status, body, headers)
    with pytest.raises(error) as caught:
        make_tracker().create(bundle.report, bundle)
    assert text in caught.value.message
    if status == 429:
        assert caught.value.retry_after == 42


def test_upload_over_the_limit_413(gitlab: FakeGitLab, make_tracker: Any, make_bundle: Any) -> None:
    gitlab.projects[7].max_attachment_bytes = 100  # the admin lowered it; our setting still says 100 MB
    bundle = make_bundle()
    with pytest.raises(RefusedError, match="max_attachment_mb"):
        make_tracker().create(bundle.report, bundle)
    assert gitlab.projects[7].issues == {}


def test_logs_trimmed_to_the_configured_limit_and_the_issue_says_so(gitlab: FakeGitLab, make_tracker: Any,
                                                                    make_bundle: Any) -> None:
    bundle = make_bundle(log_lines=5000)
    make_tracker(max_attachment_mb=0.05).create(bundle.report, bundle)
    [log] = [d for url, (_, d) in gitlab.projects[7].uploads.items() if url.endswith("app.txt")]
    assert len(log) <= 0.05 * 1024 * 1024 and log.startswith(b"[reporter-app: ")
    assert "### Changed to fit the tracker" in gitlab.projects[7].issues[1]["description"]


def test_doctor_lines(gitlab: FakeGitLab, make_tracker: Any) -> None:
    [ok] = make_tracker().check()
    assert ok.ok and "acme/app" in ok.detail
    [bad] = make_tracker(token="nope").check()
    assert not bad.ok and "401" in bad.detail
    [missing] = make_tracker(project="acme/none").check()
    assert not missing.ok and "'acme/none' not found" in missing.detail
    [none] = make_tracker(token=None).check()
    assert not none.ok and "reporter-app login" in none.detail
