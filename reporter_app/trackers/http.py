"""Shared HTTP plumbing for tracker backends: one place that turns HTTP into the error tree.

    status / failure                    raised as           the outbox then
    connection refused, DNS, timeout    TransientError      retries with backoff
    408, 425, 429, 5xx                  TransientError      retries, honouring Retry-After
    401, 403                            CredentialsError    asks the user to fix the key
    410 Gone                            RefusedError        stops (the receiver said "never again")
    any other 4xx                       RefusedError        shows the tracker's own message

Every request carries a (connect, read) timeout and goes through the injected `requests.Session`,
so tests hand in a session (or a loopback server) and nothing here is module-global.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests

from reporter_app.clock import Clock, SystemClock
from reporter_app.trackers.base import CredentialsError, RefusedError, TrackerError, TransientError

DEFAULT_TIMEOUT_SECONDS = 30.0
# Connecting is quick or hopeless; a slow *answer* (a big upload) deserves the full read timeout.
MAX_CONNECT_SECONDS = 10.0
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# Enough of a body to carry a tracker's error sentence, short enough for a one-line outbox error.
MAX_BODY_IN_MESSAGE = 300


def timeouts(settings: Mapping[str, Any]) -> tuple[float, float]:
    """(connect, read) seconds from `tracker.timeout_seconds`."""
    try:
        read = float(settings.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        read = DEFAULT_TIMEOUT_SECONDS
    read = max(read, 0.1)
    return (min(read, MAX_CONNECT_SECONDS), read)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 10.2.3).

    A date in the past means "now" (0); anything unparseable means "no advice" (None), so the
    caller falls back to its own backoff instead of trusting garbage.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        seconds = float(text)  # not in the RFC, but some servers send "1.5"
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None  # NaN and negatives are not advice
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime forms carry no zone: they are GMT by definition
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def error_for_status(status: int, message: str, retry_after: float | None = None) -> TrackerError | None:
    """The error a response with this status stands for; None for success (1xx-3xx)."""
    if status < 400:
        return None
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientError(message, retry_after)
    if status in (401, 403):
        return CredentialsError(message)
    return RefusedError(message)


def http_status(error: TrackerError) -> int | None:
    """The HTTP status behind an error raised by HttpClient (None for network failures)."""
    status = getattr(error, "http_status", None)
    return status if isinstance(status, int) else None


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is not JSON or is JSON of another shape (vendors' error pages)."""
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def body_excerpt(response: requests.Response) -> str:
    """The start of a response body for an error message: JSON `message`/`error`/`errors` or plain text."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)
        for key in ("message", "error", "detail", "title"):
            if isinstance(data.get(key), str) and data[key]:
                return str(data[key])
    text = (response.text or "").strip()
    if "<html" in text[:200].lower():
        return ""  # an HTML error page says nothing a user can act on; the status line does
    return text[:MAX_BODY_IN_MESSAGE] + ("..." if len(text) > MAX_BODY_IN_MESSAGE else "")


def _reason(response: requests.Response) -> str:
    return f"{response.status_code} {response.reason or ''}".strip()


@dataclass
class HttpClient:
    """A base URL, auth headers and timeouts around an injected session.

    `service` names the remote in messages ("Redmine at http://..."); `explain` lets a backend
    turn a failed response into its own wording (e.g. what a 401 means for its kind of key).
    """

    session: requests.Session
    base_url: str
    service: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: tuple[float, float] = (MAX_CONNECT_SECONDS, DEFAULT_TIMEOUT_SECONDS)
    clock: Clock = field(default_factory=SystemClock)
    explain: Callable[[requests.Response, str], str] | None = None

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, data: bytes | None = None, headers: Mapping[str, str] | None = None,
                files: Any = None) -> requests.Response:
        """The response for a 1xx-2xx status; a classified TrackerError for everything else."""
        response = self.send(method, path, params=params, json_body=json_body, data=data, headers=headers,
                             files=files)
        url = self.url(path)
        if 300 <= response.status_code < 400:
            # A redirect on an API call means a wrong URL (http->https, a login page): say so, don't follow
            # it silently (requests would turn a POST into a GET and drop the body).
            where = response.headers.get("Location", "?")
            raise RefusedError(f"{self.service} redirected {method} {url} to {where}: check tracker.url")
        error = self.error_for(response)
        if error is not None:
            raise error
        return response

    def send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             json_body: Any = None, data: bytes | None = None, headers: Mapping[str, str] | None = None,
             files: Any = None) -> requests.Response:
        """Any HTTP answer as is; only network failures are raised (TransientError)."""
        url = self.url(path)
        merged = {**self.headers, **(headers or {})}
        body = data
        if json_body is not None:
            # Serialised here (not by requests) so the bytes we sign are the bytes we send.
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            merged.setdefault("Content-Type", "application/json")
        try:
            return self.session.request(method, url, params=params, data=body, headers=merged, files=files,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise TransientError(f"{self.service} did not answer within {self.timeout[1]:g} s ({method} {url})") \
                from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"cannot reach {self.service}: {_connection_reason(exc)}") from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            # The connection died while the answer was being read (reset, truncated body): the request may well
            # have been carried out, so this is "retry (and look first)", never "refused".
            raise TransientError(f"{self.service} broke off its answer ({method} {url}): "
                                 f"{_connection_reason(exc)}") from exc
        except requests.RequestException as exc:  # invalid URL, too many redirects, ...
            raise RefusedError(f"{self.service}: {type(exc).__name__}: {exc}") from exc

    def error_for(self, response: requests.Response) -> TrackerError | None:
        if response.status_code < 400:
            return None
        detail = body_excerpt(response)
        if self.explain is not None:
            message = self.explain(response, detail)
        else:
            message = f"{self.service} answered {_reason(response)}" + (f": {detail}" if detail else "")
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.now())
        error = error_for_status(response.status_code, message, retry_after)
        if error is not None:
            # Callers that must tell "no such project" (404) from other refusals read it with http_status().
            setattr(error, "http_status", response.status_code)
        return error

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body; a non-JSON answer means the URL points at something else."""
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
            raise RefusedError(f"{self.service} answered {method} {self.url(path)} with {kind}, not JSON: "
                               "is tracker.url right?") from None


def _connection_reason(exc: requests.RequestException) -> str:
    """The innermost cause ("Connection refused", "Name or service not known"), not urllib3's wrapper text."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "Network is unreachable", "nodename nor servname"):
        if marker in text:
            return marker.lower()
    cause: BaseException | None = exc
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause or exc)[:MAX_BODY_IN_MESSAGE]
