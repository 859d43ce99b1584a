"""What polling costs on each tracker: batched where the API allows, conditional where it can say "unchanged"."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter_app.model import Priority
from reporter_app.tracking.changes import ChangeKind

from .conftest import desk_for


def test_github_polls_with_the_stored_etag_and_a_304_is_unchanged(request: pytest.FixtureRequest,
                                                                   tmp_path: Path) -> None:
    desk = desk_for(request, tmp_path, "github")
    fake = desk.setup.server
    key = desk.file("Checkout button does nothing", Priority.P1)
    desk.tracking.poll()
    ticket = desk.tracking.store.find(key)
    assert ticket is not None and ticket.validators.etag.startswith('"')

    before = len(fake.requests)
    desk.tracking.store.poll_now()
    assert desk.tracking.poll() == []
    [look] = fake.requests[before:]  # one conditional GET, answered 304: no comment listing either
    assert look.headers["if-none-match"] == ticket.validators.etag

    desk.at(10)
    desk.engineer.comment(key, "On it", author="bob")
    desk.tracking.store.poll_now()
    assert [c.kind for c in desk.tracking.poll()] == [ChangeKind.COMMENT]
    assert desk.tracking.store.find(key).validators.etag != ticket.validators.etag


def test_jira_asks_for_many_tickets_in_one_search(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    desk = desk_for(request, tmp_path, "jira")
    fake = desk.setup.server
    keys = [desk.file(f"Report {n}", Priority.P3) for n in range(5)]
    desk.tracking.store.poll_now()
    before = len(fake.requests)
    desk.tracking.poll()
    looks = fake.requests[before:]
    assert [(r.method, r.path) for r in looks] == [("POST", "/rest/api/3/search/jql")]
    assert all(k in looks[0].json()["jql"] for k in keys)


def test_redmine_asks_for_many_tickets_in_one_listing(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    desk = desk_for(request, tmp_path, "redmine")
    keys = [desk.file(f"Report {n}", Priority.P3) for n in range(3)]
    tracker = desk.ctx.tracker()
    calls: list[tuple[str, str]] = []
    original = tracker.http.send  # type: ignore[attr-defined]

    def counting(method: str, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append((method, path))
        return original(method, path, **kwargs)

    tracker.http.send = counting  # type: ignore[attr-defined]
    desk.tracking.store.poll_now()
    desk.tracking.poll()
    listing = [c for c in calls if c[1] == "/issues.json"]
    assert len(listing) == 1  # issue_id=1,2,3 in one request; journals are then read once per issue
    assert len(calls) <= 1 + len(keys) + 4  # + metadata lookups on the first use
