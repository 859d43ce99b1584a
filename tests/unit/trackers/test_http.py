"""Error classification, Retry-After (seconds and HTTP-date, with an injected clock) and timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from reporter_app.clock import FakeClock
from reporter_app.trackers.base import CredentialsError, RefusedError, TransientError
from reporter_app.trackers.http import HttpClient, error_for_status, http_status, parse_retry_after, timeouts


@pytest.mark.parametrize("status, kind", [
    (200, None), (204, None), (400, RefusedError), (401, CredentialsError), (403, CredentialsError),
    (404, RefusedError), (408, TransientError), (410, RefusedError), (413, RefusedError), (422, RefusedError),
    (425, TransientError), (429, TransientError), (500, TransientError), (502, TransientError),
    (503, TransientError), (504, TransientError),
])
def test_status_codes_map_to_what_to_do_next(status, kind):
    error = error_for_status(status, "msg", 7.0)
    assert (type(error) if error else None) is kind
    if isinstance(error, TransientError):
        assert error.retry_after == 7.0


def test_retry_after_seconds_and_http_dates_against_the_injected_clock():
    clock = FakeClock()
    now = clock.now()
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after("1.5", now) == 1.5
    later = now + timedelta(seconds=90)
    assert parse_retry_after(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 90.0
    assert parse_retry_after(later.strftime("%A, %d-%b-%y %H:%M:%S GMT"), now) == 90.0  # RFC 850
    assert parse_retry_after(later.strftime("%a %b %d %H:%M:%S %Y"), now) == 90.0  # asctime, no zone = GMT
    earlier = now - timedelta(hours=1)
    assert parse_retry_after(earlier.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 0.0
    for garbage in (None, "", "soon", "-5", "nan"):
        assert parse_retry_after(garbage, now) is None


def test_timeouts_cap_connect_and_keep_read():
    assert timeouts({"timeout_seconds": 45}) == (10.0, 45.0)
    assert timeouts({"timeout_seconds": 3}) == (3.0, 3.0)
    assert timeouts({}) == (10.0, 30.0)


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers.update(headers or {})
    r.reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable", 422: "Unprocessable"}.get(status, "")
    return r


class FakeSession:
    """Records every call; answers with a canned response or raises a canned exception."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[dict] = []

    def request(self, method, url, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def client(answer, clock=None) -> tuple[HttpClient, FakeSession]:
    session = FakeSession(answer)
    return HttpClient(session, "https://t.example", "Tracker", timeout=(5.0, 20.0),  # type: ignore[arg-type]
                      clock=clock or FakeClock()), session


def test_every_call_has_the_timeout_and_no_silent_redirects():
    http, session = client(response(200, b'{"ok": true}'))
    assert http.json("GET", "/x.json") == {"ok": True}
    assert session.calls[0]["timeout"] == (5.0, 20.0) and session.calls[0]["allow_redirects"] is False
    assert session.calls[0]["url"] == "https://t.example/x.json"


def test_429_with_an_http_date_becomes_transient_with_seconds():
    clock = FakeClock()
    when = (clock.now() + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    http, _ = client(response(429, b"", {"Retry-After": when}), clock)
    with pytest.raises(TransientError) as caught:
        http.request("POST", "/issues.json", json_body={})
    assert caught.value.retry_after == 30.0 and http_status(caught.value) == 429


def test_refusal_carries_the_trackers_own_errors():
    http, _ = client(response(422, b'{"errors": ["Subject cannot be blank", "Tracker is invalid"]}'))
    with pytest.raises(RefusedError) as caught:
        http.request("POST", "/issues.json", json_body={})
    assert caught.value.message == "Tracker answered 422 Unprocessable: Subject cannot be blank; Tracker is invalid"


@pytest.mark.parametrize("exc, text", [
    (requests.ConnectTimeout("slow"), "did not answer within 20 s"),
    (requests.ReadTimeout("slow"), "did not answer within 20 s"),
    (requests.ConnectionError("... [Errno 111] Connection refused"), "cannot reach Tracker: connection refused"),
])
def test_network_failures_are_transient(exc, text):
    http, _ = client(exc)
    with pytest.raises(TransientError) as caught:
        http.request("GET", "/")
    assert text in caught.value.message and caught.value.retry_after is None


def test_a_redirect_or_html_answer_points_at_the_url_setting():
    http, _ = client(response(302, b"", {"Location": "https://t.example/login"}))
    with pytest.raises(RefusedError, match="redirected GET https://t.example/x to https://t.example/login"):
        http.request("GET", "/x")
    http, _ = client(response(200, b"<html>hi</html>", {"Content-Type": "text/html"}))
    with pytest.raises(RefusedError, match="with text/html, not JSON: is tracker.url right"):
        http.json("GET", "/x")
