"""Every tracker backend against a server that answers nonsense: malformed JSON, JSON of the wrong shape, odd
status codes and headers. Whatever comes back, only TrackerError (and its subclasses) may escape a verb: the outbox
turns those into "retry" or "needs attention"; anything else would be a crash of the worker.

The server is a `requests` transport adapter mounted on the tracker's own session, so every byte the backend parses
comes from Hypothesis.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from reporter_app.bundle import BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Impact, Priority, Reach, Report, Reporter
from reporter_app.trackers import load_backend
from reporter_app.trackers.base import TicketRef, TrackerContext, TrackerError
from tests.unit.fuzz.conftest import settings

FUZZ = settings.get_profile("reporter-fuzz")
MAX_CALLS = 60  # a backend that pages forever through nonsense is cut off as a network failure

BACKENDS: dict[str, tuple[dict[str, Any], TicketRef]] = {
    "redmine": ({"url": "https://rm.example", "project": "bugs"}, TicketRef("redmine", "#7", "https://rm.example/issues/7")),
    "jira": ({"url": "https://acme.atlassian.net", "project": "APP", "email": "ada@example.com"},
             TicketRef("jira", "APP-7", "https://acme.atlassian.net/browse/APP-7")),
    "github": ({"repository": "acme/app"}, TicketRef("github", "acme/app#7", "https://github.com/acme/app/issues/7")),
    "gitlab": ({"project": "acme/app"}, TicketRef("gitlab", "acme/app#7", "https://gitlab.com/acme/app/-/issues/7")),
    "webhook": ({"url": "https://hooks.example/in", "status_url": "https://hooks.example/status/{key}"},
                TicketRef("webhook", "WH-7", "")),
}

# Keys the parsers look for, so the JSON is often *almost* right: the dangerous kind of wrong.
_KEYS = ["issues", "issue", "id", "iid", "key", "number", "total_count", "total", "custom_fields", "value", "fields",
         "status", "name", "journals", "notes", "upload", "token", "errors", "message", "html_url", "web_url", "url",
         "state", "labels", "items", "project", "projects", "trackers", "issue_priorities", "issue_statuses",
         "is_closed", "updated_on", "created_on", "assigned_to", "comments", "body", "user", "login", "author",
         "issue_custom_fields", "values", "startAt", "maxResults", "isLast", "nextPageToken", "self", "content",
         "sha", "accountId", "displayName", "statusCategory", "resolution", "fixVersions", "priority", "ticket",
         "tickets", "changes", "description", "created", "updated", "closed_at", "milestone", "assignee", "data"]
_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=False),
                         st.text(max_size=12), st.sampled_from(["7", "#7", "APP-7", "2026-01-05T09:00:00Z", "closed"]))
_json = st.recursive(_json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6)), max_leaves=25)
_body = st.one_of(
    _json.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"[1,", b"null", b"<html><body>Bad gateway</body></html>", b"\xff\xfe"]),
)
_status = st.sampled_from([200, 200, 200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 410, 413, 422, 429, 500, 502])
_headers = st.dictionaries(
    st.sampled_from(["Retry-After", "Link", "Date", "Location", "Content-Type", "X-Total-Pages", "X-Next-Page"]),
    st.one_of(st.text(max_size=30), st.sampled_from(['<https://x.example/?page=2>; rel="next"', "2", "-1",
                                                     "Mon, 05 Jan 2026 09:00:00 GMT", "application/json"])),
    max_size=3)


class ScriptedServer(BaseAdapter):
    """Answers each request with the next response Hypothesis draws."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        super().__init__()
        self.draw = draw
        self.calls = 0

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise requests.ConnectionError("the scripted server stops answering")
        response = requests.Response()
        response.status_code = self.draw(_status)
        response._content = self.draw(_body)
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8",
                                                **self.draw(_headers)})
        response.reason = "Scripted"
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def _bundle(root: Path) -> Any:
    report = Report(title="Save freezes", description="it froze", impact=Impact.MAJOR, reach=Reach.JUST_ME,
                    priority=Priority.P3, priority_reason="", reporter=Reporter("Ada", "ada@example.com"),
                    fingerprint="brfp-0123456789ab")
    writer = BundleWriter(root / "reports", report)
    writer.add_bytes("logs/app.txt", b"line 1\nline 2\n", kind="log", content_type="text/plain")
    return writer.commit()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@FUZZ
@given(data=st.data())
def test_backend_raises_only_tracker_errors_on_malformed_answers(backend: str, data: st.DataObject) -> None:
    settings_, ref = BACKENDS[backend]
    server = ScriptedServer(data.draw)
    session = requests.Session()
    session.mount("https://", server)
    session.mount("http://", server)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bundle = _bundle(root)
        tracker = load_backend(backend)(TrackerContext(settings=settings_, data_dir=root / "data", token="secret-t",
                                                      session=session, clock=FakeClock()))
        verbs: list[Callable[[], object]] = [
            tracker.check,
            lambda: tracker.find(bundle.report.idempotency_key),
            lambda: tracker.find("brfp-0123456789ab"),
            lambda: tracker.create(bundle.report, bundle),
            lambda: tracker.add_occurrence(ref, bundle.report, bundle),
            lambda: tracker.statuses([ref]),
        ]
        for verb in data.draw(st.permutations(verbs)):
            try:
                verb()
            except TrackerError as exc:
                assert isinstance(exc.message, str)
