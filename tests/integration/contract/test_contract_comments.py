"""`comment()` ("Add information" from My reports) and the description / filing time in `statuses()`,
for Jira (Cloud and Data Center), GitHub and GitLab against their fakes (which check each request).

The reporter's comment goes out with the tracker account's credentials and names the person on its
last line; `statuses()` reads that name back, so the reporter's own words are not news to them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from reporter_app.clock import FakeClock
from reporter_app.trackers.attribution import split_author, with_author
from reporter_app.trackers.base import (
    CredentialsError,
    RefusedError,
    TicketRef,
    TrackerContext,
)
from reporter_app.trackers.github import GitHubTracker
from reporter_app.trackers.gitlab import GitLabTracker
from tests.integration.contract.fake_github import FakeGitHub
from tests.integration.contract.fake_gitlab import FakeGitLab
from tests.integration.contract.fake_jira import FakeJira, _adf_problems
from tests.integration.contract.test_contract_jira import tracker_for

FILED = datetime(2026, 1, 5, 9, 0, 1, tzinfo=timezone.utc)  # the fakes' first tick


def test_attribution_round_trip() -> None:
    assert with_author("  It also fails on Firefox. \n", "Ada Tester") == \
        "It also fails on Firefox.\n\n— Ada Tester (via reporter-app)"
    assert split_author(with_author("line 1\nline 2", "Ada  Tester")) == ("line 1\nline 2", "Ada Tester")
    assert split_author("no trailer — here") == ("no trailer — here", None)
    assert with_author("x", "") == "x"


# -- GitHub ------------------------------------------------------------------------------------------
@pytest.fixture
def github_tracker(github: FakeGitHub, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    def make(token: str | None = FakeGitHub.token) -> GitHubTracker:
        return GitHubTracker(TrackerContext(settings={"url": github.url, "repository": "acme/app"},
                                            data_dir=tmp_path, token=token, session=session, clock=clock))
    return make


def test_github_comment_and_status_fields(github: FakeGitHub, github_tracker: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    tracker = github_tracker()
    ref = tracker.create(bundle.report, bundle)
    tracker.comment(ref, "It also fails on Firefox.", author="Ada Tester")
    github.engineer("acme/app", 1, comment="Thanks, looking", author="bob")
    [posted, _] = github.repos["acme/app"].comments[1]
    assert posted["body"] == "It also fails on Firefox.\n\n— Ada Tester (via reporter-app)"
    status = tracker.statuses([ref])[ref.key]
    assert [(c.author, c.body) for c in status.comments] == [("Ada Tester", "It also fails on Firefox."),
                                                            ("bob", "Thanks, looking")]
    assert "<!-- reporter-app key: " + bundle.report.idempotency_key in status.description
    assert status.created_at == FILED


def test_github_comment_errors(github: FakeGitHub, github_tracker: Any) -> None:
    with pytest.raises(RefusedError, match="empty"):
        github_tracker().comment(TicketRef("github", "#1"), "  ")
    with pytest.raises(RefusedError, match="Not Found"):
        github_tracker().comment(TicketRef("github", "#9"), "hello")
    with pytest.raises(CredentialsError):
        github_tracker(token=None).comment(TicketRef("github", "#1"), "hello")


# -- GitLab ------------------------------------------------------------------------------------------
@pytest.fixture
def gitlab_tracker(gitlab: FakeGitLab, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    def make(token: str | None = FakeGitLab.token) -> GitLabTracker:
        return GitLabTracker(TrackerContext(settings={"url": gitlab.url, "project": "acme/app"},
                                            data_dir=tmp_path, token=token, session=session, clock=clock))
    return make


def test_gitlab_note_and_status_fields(gitlab: FakeGitLab, gitlab_tracker: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    tracker = gitlab_tracker()
    ref = tracker.create(bundle.report, bundle)
    tracker.comment(ref, "Screenshot attached earlier shows it.", author="Ada Tester")
    notes = gitlab.projects[7].notes[1]
    assert notes[-1]["body"].endswith("\n\n— Ada Tester (via reporter-app)")
    status = tracker.statuses([ref])[ref.key]
    assert [(c.author, c.body) for c in status.comments] == [("Ada Tester", "Screenshot attached earlier shows it.")]
    assert "### Steps to reproduce" in status.description and status.created_at == FILED
    with pytest.raises(RefusedError, match="404"):
        tracker.comment(TicketRef("gitlab", "#5"), "hello")


# -- Jira --------------------------------------------------------------------------------------------
def test_jira_cloud_comment_is_adf(jira: FakeJira, session: requests.Session, clock: FakeClock, tmp_path: Any,
                                   make_bundle: Any) -> None:
    tracker = tracker_for(jira, session, clock, tmp_path)
    bundle = make_bundle()
    ref = tracker.create(bundle.report, bundle)
    tracker.comment(ref, "Second try:\nstill broken.\n\nIt started after 1.4.2.", author="Ada Tester")
    [comment] = jira.issues[ref.key]["fields"]["comment"]["comments"]
    assert _adf_problems(comment["body"], "comment") == []
    status = tracker.statuses([ref])[ref.key]
    [seen] = status.comments
    assert seen.author == "Ada Tester" and seen.body.startswith("Second try:\nstill broken.")
    assert "It started after 1.4.2." in seen.body and "via reporter-app" not in seen.body
    assert "I pressed Save and nothing happened." in status.description
    assert status.created_at == FILED
    with pytest.raises(RefusedError, match="no longer exists"):
        tracker.comment(TicketRef("jira", "APP-99"), "hello")


def test_jira_data_center_comment_is_wiki_text(jira_dc: FakeJira, session: requests.Session, clock: FakeClock,
                                               tmp_path: Any, make_bundle: Any) -> None:
    tracker = tracker_for(jira_dc, session, clock, tmp_path)
    bundle = make_bundle()
    ref = tracker.create(bundle.report, bundle)
    tracker.comment(ref, "Happens every morning.", author="Ada Tester")
    [comment] = jira_dc.issues[ref.key]["fields"]["comment"]["comments"]
    assert comment["body"] == "Happens every morning.\n\n— Ada Tester (via reporter-app)"
    status = tracker.statuses([ref])[ref.key]
    assert [(c.author, c.body) for c in status.comments] == [("Ada Tester", "Happens every morning.")]
    assert status.created_at == FILED and "nothing happened" in status.description
