"""GitHub backend against the spec-checking fake: filing, finding, +1, statuses, and every error class."""

from __future__ import annotations

import base64
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
from reporter_app.trackers.github import GitHubTracker
from tests.integration.contract.fake_github import FakeGitHub, gh_error


@pytest.fixture
def make_tracker(github: FakeGitHub, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    def make(token: str | None = FakeGitHub.token, **settings: Any) -> GitHubTracker:
        values = {"url": github.url, "repository": "acme/app", "attachments_repository": "acme/evidence",
                  "labels": ["reporter-app", "bug"], **settings}
        return GitHubTracker(TrackerContext(settings=values, data_dir=tmp_path, token=token, session=session,
                                            clock=clock))
    return make


def test_registered_with_secret_token() -> None:
    cls = load_backend("github")
    assert cls is GitHubTracker
    assert [o.key for o in cls.options if o.secret] == ["token"]


def test_create_commits_files_and_files_a_readable_issue(github: FakeGitHub, make_tracker: Any,
                                                         make_bundle: Any) -> None:
    bundle = make_bundle()
    ref = make_tracker().create(bundle.report, bundle)
    assert ref == TicketRef("github", "#1", "https://github.com/acme/app/issues/1")
    issue = github.repos["acme/app"].issues[1]
    assert issue["title"] == "Save button does nothing"
    # The configured labels, then priority, impact and reach: GitHub issues have no fields for them.
    assert [lb["name"] for lb in issue["labels"]] == ["reporter-app", "bug", "P2", "impact-major", "reach-my_team"]
    body = issue["body"]
    for heading in ("### What happened", "### Steps to reproduce", "### Impact", "### Screenshot",
                    "### Attachments", "### Log excerpts"):
        assert heading in body
    assert "<details><summary>app.txt (last 40 of 120 lines)</summary>" in body
    assert "line 119 `tick`" in body and "line 79 `tick`" not in body  # the newest lines only
    assert body.rstrip().endswith(f"<!-- reporter-app key: {bundle.report.idempotency_key} "
                                  "fingerprint: brfp-1a2b3c4d5e6f -->")
    files = github.repos["acme/evidence"].files
    shot = ("reporter-app-attachments", f"reports/{bundle.report.id}/screenshot.png")
    assert files[shot] == (bundle.path / "screenshot.png").read_bytes()
    assert files[("reporter-app-attachments", f"reports/{bundle.report.id}/app.txt")] == \
        (bundle.path / "logs/app.txt").read_bytes()
    assert f"![screenshot.png](https://github.com/acme/evidence/blob/reporter-app-attachments/reports/" \
           f"{bundle.report.id}/screenshot.png?raw=true)" in body


def test_without_attachments_repository_the_body_says_what_is_missing(github: FakeGitHub, make_tracker: Any,
                                                                      make_bundle: Any) -> None:
    bundle = make_bundle()
    make_tracker(attachments_repository="").create(bundle.report, bundle)
    body = github.repos["acme/app"].issues[1]["body"]
    assert "not attached (no tracker.attachments_repository is configured): screenshot.png" in body
    assert "<details>" in body
    assert github.calls("PUT", r"/repos/.*/contents/.*") == []


def test_retry_after_partial_upload_reuses_committed_files(github: FakeGitHub, make_tracker: Any,
                                                          make_bundle: Any) -> None:
    bundle = make_bundle()
    tracker = make_tracker()
    github.fail_next("POST", r"/repos/acme/app/issues", 503, {"message": "Service Unavailable"})
    with pytest.raises(TransientError):
        tracker.create(bundle.report, bundle)
    assert tracker.find(bundle.report.idempotency_key) is None
    ref = tracker.create(bundle.report, bundle)  # files exist now: GitHub answers 422, the backend reads them
    assert ref.key == "#1"
    assert len(github.calls("GET", r"/repos/acme/evidence/contents/.*")) == 2


def test_find_by_key_and_fingerprint_through_label_listing(github: FakeGitHub, make_tracker: Any,
                                                           make_bundle: Any) -> None:
    tracker = make_tracker()
    bundles = [make_bundle(f"report {i}", fingerprint=f"brfp-{i:012x}") for i in range(3)]
    refs = [tracker.create(b.report, b) for b in bundles]
    assert tracker.find(bundles[1].report.idempotency_key) == refs[1]
    assert tracker.find("brfp-000000000002") == refs[2]
    assert tracker.find("ra-unknown") is None
    listing = github.calls("GET", r"/repos/acme/app/issues")[0]
    assert listing.query["labels"] == ["reporter-app"] and listing.query["state"] == ["all"]
    assert github.calls("GET", r"/search/issues") == []  # the search index lags; never used


def test_find_when_labels_were_dropped_for_lack_of_push_access(github: FakeGitHub, make_tracker: Any,
                                                               make_bundle: Any) -> None:
    github.repos["acme/app"].push = False
    bundle = make_bundle()
    ref = make_tracker(attachments_repository="").create(bundle.report, bundle)
    assert github.repos["acme/app"].issues[1]["labels"] == []
    assert make_tracker().find(bundle.report.idempotency_key) == ref


def test_add_occurrence_is_one_comment_even_when_retried(github: FakeGitHub, make_tracker: Any,
                                                         make_bundle: Any) -> None:
    tracker = make_tracker()
    first, dup = make_bundle(installation_id="a" * 32), make_bundle("same crash again", installation_id="b" * 32)
    ref = tracker.create(first.report, first)
    tracker.add_occurrence(ref, dup.report, dup)
    tracker.add_occurrence(ref, dup.report, dup)
    comments = github.repos["acme/app"].comments[1]
    assert len(comments) == 1
    assert comments[0]["body"].startswith("**+1 occurrence**: reported again by Ada Tester (qa)")
    # The count reads the issue body (Ada's marker) and the comments, plus this report: two machines.
    assert "\n\nDistinct installations reporting it: 2.\n\n" in comments[0]["body"]
    assert f"<!-- reporter-app occurrence: {dup.report.idempotency_key} -->" in comments[0]["body"]


def test_statuses_follow_what_engineers_do(github: FakeGitHub, make_tracker: Any, make_bundle: Any) -> None:
    tracker = make_tracker()
    a, b = make_bundle("a", installation_id="a" * 32), make_bundle("b", installation_id="a" * 32)
    dup = make_bundle("dup", installation_id="b" * 32)
    ref_a, ref_b = tracker.create(a.report, a), tracker.create(b.report, b)
    tracker.add_occurrence(ref_a, dup.report, dup)
    gone = TicketRef("github", "#99")
    status = tracker.statuses([ref_a, ref_b, gone])
    assert set(status) == {"#1", "#2"}
    assert (status["#1"].state, status["#1"].status_name) == (TicketState.NEW, "open")
    assert status["#1"].occurrences == 2 and status["#1"].comments == []  # our own +1 is not a person's comment
    assert (status["#1"].installations, status["#2"].installations) == (2, 1)

    github.engineer("acme/app", 1, assignee="grace", comment="Looking into it", author="grace")
    github.engineer("acme/app", 2, state="closed", reason="completed", milestone="1.5.0")
    status = tracker.statuses([ref_a, ref_b])
    assert (status["#1"].state, status["#1"].assignee) == (TicketState.IN_PROGRESS, "grace")
    assert [(c.author, c.body) for c in status["#1"].comments] == [("grace", "Looking into it")]
    assert (status["#2"].state, status["#2"].status_name, status["#2"].fixed_in) == \
        (TicketState.RESOLVED, "closed (completed)", "1.5.0")

    github.engineer("acme/app", 2, state="closed", reason="not_planned")
    assert tracker.statuses([ref_b])["#2"].state == TicketState.CLOSED
    github.engineer("acme/app", 2, state="open", reason="reopened")
    assert tracker.statuses([ref_b])["#2"].state == TicketState.REOPENED

    before = len(github.calls("GET", r"/repos/acme/app/issues/\d+/comments"))
    again = tracker.statuses([ref_a])  # unchanged: a 304 and no comment reads
    assert again["#1"].assignee == "grace"
    assert len(github.calls("GET", r"/repos/acme/app/issues/\d+/comments")) == before
    assert github.calls("GET", r"/repos/acme/app/issues/1")[-1].headers.get("if-none-match")


# -- errors, classified by what to do next --------------------------------------------------------
@pytest.mark.parametrize(("status", "headers", "body", "error", "retry_after"), [
    (401, {}, {"message": "Bad credentials"}, CredentialsError, None),
    (403, {}, {"message": "Resource not accessible by personal access token"}, CredentialsError, None),
    (403, {"retry-after": "30"}, {"message": "You have exceeded a secondary rate limit."}, TransientError, 30.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767603720"},
     {"message": "API rate limit exceeded for user ID 1."}, TransientError, 120.0),
    (403, {}, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
     TransientError, 60.0),
    (429, {"Retry-After": "7"}, {"message": "Too many requests"}, TransientError, 7.0),
    (500, {}, {"message": "Server Error"}, TransientError, None),
    (503, {"Retry-After": "5"}, {"message": "Service Unavailable"}, TransientError, 5.0),
    (404, {}, {"message": "Not Found"}, RefusedError, None),
    (410, {}, {"message": "Issues are disabled for this repo"}, RefusedError, None),
    (422, {}, {"message": "Validation Failed", "errors": [{"resource": "Issue", "field": "labels",
                                                           "code": "invalid", "message": "label 'x' is invalid"}]},
     RefusedError, None),
])
def test_create_errors_are_classified(github: FakeGitHub, make_tracker: Any, make_bundle: Any, status: int,
                                      headers: dict[str, str], body: dict[str, Any], error: type,
                                      retry_after: float | None) -> None:
    bundle = make_bundle()
    github.fail_next("POST", r"/repos/acme/app/issues", status, {**body, "documentation_url": "x"}, headers)
    with pytest.raises(error) as caught:
        make_tracker().create(bundle.report, bundle)
    assert str(body["message"]) in caught.value.message or status == 401
    if status == 422:
        assert "label 'x' is invalid" in caught.value.message
    if retry_after is not None:
        assert caught.value.retry_after == pytest.approx(retry_after)
    assert github.repos["acme/app"].issues == {}


def test_oversized_attachment_413_is_refused_with_advice(github: FakeGitHub, make_tracker: Any,
                                                         make_bundle: Any) -> None:
    bundle = make_bundle()
    github.fail_next("PUT", r"/repos/acme/evidence/contents/.*", 413, "Request Entity Too Large")
    with pytest.raises(RefusedError, match="max_attachment_mb"):
        make_tracker().create(bundle.report, bundle)


def test_missing_token_and_wrong_token(github: FakeGitHub, make_tracker: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    with pytest.raises(CredentialsError, match="reporter-app login"):
        make_tracker(token=None).create(bundle.report, bundle)
    with pytest.raises(CredentialsError, match="401"):
        make_tracker(token="wrong").find("ra-x")


def test_unreachable_is_transient(make_bundle: Any, session: requests.Session, tmp_path: Any) -> None:
    tracker = GitHubTracker(TrackerContext(settings={"url": "http://127.0.0.1:9", "repository": "a/b"},
                                           data_dir=tmp_path, token="t", session=session))
    with pytest.raises(TransientError, match="cannot reach"):
        tracker.find("ra-x")


def test_doctor_lines(github: FakeGitHub, make_tracker: Any) -> None:
    assert all(r.ok for r in make_tracker().check())
    [result] = make_tracker(token="wrong").check()
    assert not result.ok and "401" in result.detail
    [result] = make_tracker(repository="acme/nope").check()
    assert not result.ok and "acme/nope not found" in result.detail
    results = {r.name: r for r in make_tracker(attachments_branch="nope").check()}
    assert not results["attachments"].ok and "branch 'nope' does not exist" in results["attachments"].detail
    github.repos["acme/app"].push = False
    results = {r.name: r for r in make_tracker().check()}
    assert not results["labels"].ok and "drops the labels" in results["labels"].detail


def test_bad_settings_are_reported_at_construction(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="owner/name"):
        GitHubTracker(TrackerContext(settings={"repository": "nope"}, data_dir=tmp_path))


def test_committed_content_is_base64_of_the_bundle_file(github: FakeGitHub, make_tracker: Any,
                                                        make_bundle: Any) -> None:
    bundle = make_bundle()
    make_tracker().create(bundle.report, bundle)
    put = github.calls("PUT", r"/repos/acme/evidence/contents/.*screenshot.png")[0]
    assert base64.b64decode(put.json()["content"]) == (bundle.path / "screenshot.png").read_bytes()
    assert put.json()["branch"] == "reporter-app-attachments"


def test_error_body_from_fake_helper_matches_spec_shape() -> None:
    reply = gh_error(422, "Validation Failed", [{"code": "missing_field"}])
    assert set(reply.body) == {"message", "documentation_url", "errors"}
