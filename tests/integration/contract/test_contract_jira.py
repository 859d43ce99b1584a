"""Jira backend (Cloud v3 and Data Center v2) against the spec-checking fake."""

from __future__ import annotations

import json
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
from reporter_app.trackers.jira import JiraTracker
from tests.integration.contract.fake_jira import EMAIL, PAT, TOKEN, FakeJira, _adf_problems


def tracker_for(fake: FakeJira, session: requests.Session, clock: FakeClock, tmp_path: Any,
                token: str | None = "default", **settings: Any) -> JiraTracker:
    cloud = fake.flavor == "cloud"
    values = {"url": fake.url, "project": "APP", "flavor": fake.flavor, "email": EMAIL if cloud else "",
              "impact_field": "Impact", "reach_field": "Reach", **settings}
    if token == "default":
        token = TOKEN if cloud else PAT
    return JiraTracker(TrackerContext(settings=values, data_dir=tmp_path, token=token, session=session, clock=clock))


@pytest.fixture
def cloud(jira: FakeJira, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    return lambda **kw: tracker_for(jira, session, clock, tmp_path, **kw)


@pytest.fixture
def dc(jira_dc: FakeJira, session: requests.Session, clock: FakeClock, tmp_path: Any) -> Any:
    return lambda **kw: tracker_for(jira_dc, session, clock, tmp_path, **kw)


def test_registered_with_secret_token() -> None:
    assert load_backend("jira") is JiraTracker
    assert [o.key for o in JiraTracker.options if o.secret] == ["token"]


def test_cloud_create_sends_adf_mapped_fields_and_attachments(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    ref = cloud().create(bundle.report, bundle)
    assert ref == TicketRef("jira", "APP-1", f"{jira.url}/browse/APP-1")
    fields = jira.issues["APP-1"]["fields"]
    assert fields["issuetype"] == {"id": "10001"} and fields["project"] == {"key": "APP"}
    assert fields["priority"] == {"name": "High"}  # P2 by the default map
    assert fields["customfield_10050"] == {"value": "major"}  # Impact: an option field
    assert fields["customfield_10051"] == "my_team"  # Reach: a text field
    assert set(fields["labels"]) == {"reporter-app", bundle.report.idempotency_key, "brfp-1a2b3c4d5e6f"}
    doc = fields["description"]
    assert _adf_problems(doc, "description") == []
    kinds = [n["type"] for n in doc["content"]]
    assert "codeBlock" in json.dumps(doc) and "expand" in kinds and "heading" in kinds
    steps = next(n for i, n in enumerate(doc["content"]) if i and doc["content"][i - 1].get("content", [{}])[0]
                 .get("text") == "Steps to reproduce")
    assert steps["content"][1] == {"type": "hardBreak"}  # lines inside prose are hardBreaks, not "\n"
    assert [(n, t) for n, t, _ in jira.attachments["APP-1"]] == [("screenshot.png", "image/png"),
                                                                  ("app.txt", "text/plain")]
    assert jira.attachments["APP-1"][0][2] == (bundle.path / "screenshot.png").read_bytes()


def test_cloud_find_uses_reconcile_for_read_after_write(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    tracker = cloud()
    bundle = make_bundle()
    ref = tracker.create(bundle.report, bundle)
    assert tracker.find(bundle.report.idempotency_key) == ref  # not indexed yet: only reconcileIssues finds it
    search = jira.calls("POST", r"/rest/api/3/search/jql")[-1].json()
    assert search["reconcileIssues"] == [int(jira.issues["APP-1"]["id"])]
    assert cloud().find(bundle.report.idempotency_key) is None  # another process: the index lags
    jira.index()
    assert cloud().find(bundle.report.idempotency_key) == ref
    assert cloud().find("brfp-1a2b3c4d5e6f") == ref


def test_cloud_occurrence_once_and_statuses(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    tracker = cloud()
    a, b = make_bundle("a", installation_id="a" * 32), make_bundle("b")
    dup = make_bundle("dup", installation_id="b" * 32)
    ref_a, ref_b = tracker.create(a.report, a), tracker.create(b.report, b)
    tracker.add_occurrence(ref_a, dup.report, dup)
    tracker.add_occurrence(ref_a, dup.report, dup)
    assert jira.issues["APP-1"]["fields"]["comment"]["total"] == 1
    # ADF: the count is a paragraph of its own, read from the description's marker and the comments.
    note = jira.issues["APP-1"]["fields"]["comment"]["comments"][0]["body"]
    assert {"type": "paragraph", "content": [{"type": "text", "text": "Distinct installations reporting it: 2."}]} \
        in note["content"]
    assert [n for n, _, _ in jira.attachments["APP-1"]][-2:] == [f"{dup.report.id[:8]}-screenshot.png",
                                                                  f"{dup.report.id[:8]}-app.txt"]
    jira.index()
    status = tracker.statuses([ref_a, ref_b])
    assert (status["APP-1"].state, status["APP-1"].status_name) == (TicketState.NEW, "To Do")
    assert status["APP-1"].occurrences == 2 and status["APP-1"].comments == []
    assert status["APP-1"].occurrence_summary == "2 occurrences on 2 machines"
    assert (status["APP-2"].installations, status["APP-2"].installations_exact) == (0, False)  # b has no id
    assert len(jira.calls("POST", r"/rest/api/3/search/jql")) == 1  # one batched search

    jira.engineer("APP-1", status="In Progress", assignee="Grace Dev", comment="Can reproduce")
    jira.engineer("APP-2", status="Done", fix_version="1.5.0")
    status = tracker.statuses([ref_a, ref_b])
    assert (status["APP-1"].state, status["APP-1"].assignee) == (TicketState.IN_PROGRESS, "Grace Dev")
    assert [(c.author, c.body) for c in status["APP-1"].comments] == [("Grace Dev", "Can reproduce")]
    assert (status["APP-2"].state, status["APP-2"].fixed_in) == (TicketState.RESOLVED, "1.5.0")
    jira.engineer("APP-2", status="Reopened")
    assert tracker.statuses([ref_b])["APP-2"].state == TicketState.REOPENED


def test_statuses_survive_a_deleted_issue(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    tracker = cloud()
    bundle = make_bundle()
    ref = tracker.create(bundle.report, bundle)
    jira.index()
    status = tracker.statuses([ref, TicketRef("jira", "APP-99")])
    assert set(status) == {"APP-1"}  # the JQL 400 for APP-99 fell back to one read per issue


def test_cloud_vendor_errors_carry_jiras_message(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    jira.fail_next("POST", r"/rest/api/3/issue", 400, {"errorMessages": [], "errors": {
        "customfield_10060": "Field 'customfield_10060' cannot be set. It is not on the appropriate screen, "
                             "or unknown."}})
    with pytest.raises(RefusedError, match="customfield_10060: Field 'customfield_10060' cannot be set"):
        cloud().create(bundle.report, bundle)
    jira.fail_next("POST", r"/rest/api/3/issue", 400, {"errorMessages": ["INVALID_INPUT"], "errors": {}})
    with pytest.raises(RefusedError, match="INVALID_INPUT"):
        cloud().create(bundle.report, bundle)


@pytest.mark.parametrize(("status", "body", "headers", "error"), [
    (401, "Client must be authenticated to access this resource.", {}, CredentialsError),
    (403, {"errorMessages": ["You do not have permission to create issues in this project."]}, {}, CredentialsError),
    (404, {"errorMessages": ["No project could be found with key 'APP'."]}, {}, RefusedError),
    (422, {"errorMessages": ["Workflow configuration problem"], "errors": {}}, {}, RefusedError),
    (429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "11", "RateLimit-Reason": "jira-burst-based"},
     TransientError),
    (503, "Service Unavailable", {"Retry-After": "3"}, TransientError),
])
def test_create_errors_are_classified(jira: FakeJira, cloud: Any, make_bundle: Any, status: int, body: Any,
                                      headers: dict[str, str], error: type) -> None:
    bundle = make_bundle()
    tracker = cloud()
    tracker.metadata()
    jira.fail_next("POST", r"/rest/api/3/issue", status, body, headers)
    with pytest.raises(error) as caught:
        tracker.create(bundle.report, bundle)
    if isinstance(body, dict) and status != 403:
        assert body["errorMessages"][0] in caught.value.message
    if "Retry-After" in headers:
        assert caught.value.retry_after == float(headers["Retry-After"])
    assert jira.issues == {}


def test_attachment_413_is_named_in_a_comment_not_lost(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    jira.fail_next("POST", r"/rest/api/3/issue/APP-1/attachments", 413,
                   {"errorMessages": ["The file screenshot.png is too large to attach."]})
    ref = cloud().create(bundle.report, bundle)  # the ticket exists; the outbox must not retry it
    assert ref.key == "APP-1"
    [comment] = jira.issues["APP-1"]["fields"]["comment"]["comments"]
    assert "screenshot.png" in json.dumps(comment["body"]) and "too large" in json.dumps(comment["body"])


def test_limits_come_from_attachment_meta(jira: FakeJira, cloud: Any) -> None:
    jira.upload_limit = 12345
    assert cloud().limits().max_attachment_bytes == 12345


def test_doctor_catches_a_mapping_jira_rejects(jira: FakeJira, cloud: Any) -> None:
    assert all(r.ok for r in cloud().check()), cloud().check()
    results = cloud(priority_map=["P1=Blocker"], impact_field="Team", issue_type="Bug").check()
    details = " | ".join(r.detail for r in results if not r.ok)
    assert "priority_map names unknown priorities (P1=Blocker)" in details
    assert "'Team' (customfield_10060) is not on the create screen" in details
    [bad] = cloud(issue_type="Story").check()[1:]
    assert "no issue type 'Story'" in bad.detail and "Bug, Task" in bad.detail
    jira.screen.append({"fieldId": "customfield_10070", "name": "Severity", "required": True, "schema": {}})
    assert any("requires 'Severity'" in r.detail for r in cloud().check())
    [auth] = cloud(token="wrong").check()
    assert not auth.ok and "401" in auth.detail and "api.atlassian.com" in auth.detail
    [project] = cloud(project="NOPE").check()[1:]
    assert not project.ok and "NOPE" in project.detail


def test_data_center_v2_wiki_markup_and_bearer(jira_dc: FakeJira, dc: Any, make_bundle: Any) -> None:
    tracker = dc()
    a, dup = make_bundle(installation_id="a" * 32), make_bundle("again", installation_id="a" * 32)
    ref = tracker.create(a.report, a)
    description = jira_dc.issues["APP-1"]["fields"]["description"]
    assert isinstance(description, str)
    assert "h3. Steps to reproduce" in description and "!screenshot.png|thumbnail!" in description
    assert "{noformat}" in description and f"reporter-app key: {a.report.idempotency_key}" in description
    assert tracker.find(a.report.idempotency_key) == ref
    tracker.add_occurrence(ref, dup.report, dup)
    jira_dc.engineer("APP-1", status="Closed", comment="Fixed in trunk")
    status = tracker.statuses([ref])["APP-1"]
    assert (status.state, status.occurrences) == (TicketState.CLOSED, 2)
    assert status.occurrence_summary == "2 occurrences on 1 machine"  # the same machine twice, in wiki markup
    assert [c.body for c in status.comments] == ["Fixed in trunk"]
    assert all(r.path.startswith("/rest/api/2/") for r in jira_dc.requests)
    assert jira_dc.requests[0].headers["authorization"] == f"Bearer {PAT}"


def test_missing_token(cloud: Any, make_bundle: Any) -> None:
    bundle = make_bundle()
    with pytest.raises(CredentialsError, match="reporter-app login"):
        cloud(token=None).create(bundle.report, bundle)


def test_adf_never_has_empty_text_nodes_or_newlines_in_prose(jira: FakeJira, cloud: Any, make_bundle: Any) -> None:
    bundle = make_bundle("x" * 400, description="first\n\n\n\nsecond\n   \nthird", log_lines=0)
    cloud().create(bundle.report, bundle)
    fields = jira.issues["APP-1"]["fields"]
    assert len(fields["summary"]) < 255
    doc = fields["description"]

    def texts(node: Any) -> list[tuple[str, str]]:
        out = [(node.get("type"), node.get("text"))] if node.get("type") == "text" else []
        return out + [t for child in node.get("content") or [] for t in texts(child)]

    prose = [t for t in texts(doc) if t[1] is not None]
    assert all(t for _, t in prose)
    assert not any("\n" in t for _, t in prose if t and "line" not in t and "OS" not in t and "App" not in t)
