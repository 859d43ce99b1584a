"""Exactly once through the real outbox and sender: a create answered 503/429 is retried after `find`,
including when the tracker did file it but the answer was lost on the way back."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import requests

from reporter_app.clock import FakeClock
from reporter_app.outbox import Outbox, OutboxState
from reporter_app.sender import OutboxSender, SendResult
from reporter_app.trackers.base import Tracker, TrackerContext
from reporter_app.trackers.github import GitHubTracker
from reporter_app.trackers.gitlab import GitLabTracker
from reporter_app.trackers.jira import JiraTracker
from tests.integration.contract.fake_github import FakeGitHub
from tests.integration.contract.fake_gitlab import FakeGitLab
from tests.integration.contract.fake_jira import EMAIL, TOKEN, FakeJira

CREATE = {"github": r"/repos/acme/app/issues", "gitlab": r"/api/v4/projects/[^/]+/issues",
          "jira": r"/rest/api/3/issue"}


def _tracker(backend: str, fake: Any, session: requests.Session, clock: FakeClock, tmp_path: Path) -> Tracker:
    if backend == "github":
        return GitHubTracker(TrackerContext({"url": fake.url, "repository": "acme/app",
                                             "attachments_repository": "acme/evidence"}, tmp_path,
                                            FakeGitHub.token, session, clock))
    if backend == "gitlab":
        return GitLabTracker(TrackerContext({"url": fake.url, "project": "acme/app"}, tmp_path, FakeGitLab.token,
                                            session, clock))
    return JiraTracker(TrackerContext({"url": fake.url, "project": "APP", "email": EMAIL}, tmp_path, TOKEN,
                                      session, clock))


def _tickets(backend: str, fake: Any) -> int:
    if backend == "github":
        return len(fake.repos["acme/app"].issues)
    if backend == "gitlab":
        return len(fake.projects[7].issues)
    return len(fake.issues)


@pytest.fixture(params=["github", "gitlab", "jira"])
def setup(request: pytest.FixtureRequest, session: requests.Session, clock: FakeClock, tmp_path: Path) -> Any:
    backend = request.param
    fake = request.getfixturevalue(backend)
    tracker = _tracker(backend, fake, session, clock, tmp_path)
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "reports", clock=clock)
    sender = OutboxSender(outbox, lambda _name: tracker, clock=clock, rng=random.Random(3))
    yield backend, fake, outbox, sender
    outbox.close()


@pytest.mark.parametrize(("status", "headers", "lost_reply"), [
    (503, {}, False),
    (429, {"Retry-After": "30"}, False),
    (503, {}, True),  # the tracker filed it, the answer never came back
    (504, {}, True),
])
def test_lands_exactly_once(setup: Any, clock: FakeClock, make_bundle: Any, status: int, headers: dict[str, str],
                            lost_reply: bool) -> None:
    backend, fake, outbox, sender = setup
    entry = outbox.enqueue(make_bundle(), backend)
    fake.fail_next("POST", CREATE[backend], status, {"message": "busy"}, headers, after=lost_reply)

    [first] = sender.send_due()
    assert first.result == SendResult.WAITING_RETRY
    assert _tickets(backend, fake) == (1 if lost_reply else 0)
    retry_at = outbox.get(entry.id).next_attempt_at
    assert retry_at is not None
    if headers:
        assert (retry_at - clock.now()).total_seconds() == 30
    if backend == "jira":
        fake.index()  # Jira Cloud's index catches up within the backoff (seconds); see docs for the limits
    clock.advance((retry_at - clock.now()).total_seconds())

    [second] = sender.send_due()
    assert second.result == (SendResult.FOUND if lost_reply else SendResult.FILED)
    assert _tickets(backend, fake) == 1
    done = outbox.get(entry.id)
    assert done.state == OutboxState.FILED and done.ticket_key == second.ticket.key
    assert sender.send_due() == []


def test_refusal_needs_attention_with_the_vendors_words(setup: Any, make_bundle: Any) -> None:
    backend, fake, outbox, sender = setup
    entry = outbox.enqueue(make_bundle(), backend)
    body = {"github": {"message": "Validation Failed", "errors": [{"code": "custom", "message": "title is bad"}]},
            "gitlab": {"message": {"title": ["is bad"]}},
            "jira": {"errorMessages": [], "errors": {"summary": "title is bad"}}}[backend]
    fake.fail_next("POST", CREATE[backend], 400 if backend != "github" else 422, body)
    [outcome] = sender.send_due()
    assert outcome.result == SendResult.NEEDS_ATTENTION
    assert "is bad" in outbox.get(entry.id).last_error
    assert _tickets(backend, fake) == 0


def test_fakes_reject_requests_that_break_the_contract(github: FakeGitHub, gitlab: FakeGitLab, jira: FakeJira,
                                                       session: requests.Session) -> None:
    """The checks are not vacuous: each fake flags a request its vendor would not accept."""
    gh = {"Authorization": f"Bearer {FakeGitHub.token}", "Accept": "application/vnd.github+json",
          "X-GitHub-Api-Version": "2022-11-28"}
    assert session.post(f"{github.url}/repos/acme/app/issues", json={"body": 1}, headers=gh).status_code == 400
    assert session.get(f"{github.url}/repos/acme/app/issues", params={"state": "any"}, headers=gh).status_code == 400
    assert session.post(f"{gitlab.url}/api/v4/projects/7/issues", json={"title": "t", "labels": ["a"]},
                        headers={"PRIVATE-TOKEN": FakeGitLab.token}).status_code == 400
    assert session.post(f"{gitlab.url}/api/v4/projects/7/uploads", files={"upload": ("a.txt", b"x")},
                        headers={"PRIVATE-TOKEN": FakeGitLab.token}).status_code == 400
    assert session.post(f"{jira.url}/rest/api/3/search/jql", json={"jql": "x", "limit": 1}).status_code == 400
    assert session.post(f"{jira.url}/rest/api/3/issue/APP-1/attachments",
                        files={"file": ("a.txt", b"x")}).status_code == 400  # no X-Atlassian-Token
    for fake in (github, gitlab, jira):
        flagged = {v.split(":")[0] for v in fake.violations}  # one entry per offending request
        fake.violations.clear()  # expected here; the fixtures assert the rest of the run is clean
        assert len(flagged) == 2, flagged
