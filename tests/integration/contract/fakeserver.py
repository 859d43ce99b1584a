"""A loopback HTTP server for vendor fakes: routes, scripted failures, a request log, and spec violations.

A fake subclasses FakeServer, registers routes with `@route("GET", r"/path/(?P<id>\\d+)")` and keeps its
state in memory. Every request is first checked by `validate(request)` (an OpenAPI description or
hand-written rules); what does not match is recorded in `violations`, which the fixtures assert empty at
teardown, and answered 400 so the backend under test cannot pass by accident.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # as sent (percent-encoded), without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def q(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def multipart(self) -> list[tuple[str, str, str, bytes]]:
        """(field name, filename, content type, data) per part of a multipart/form-data body."""
        ctype = self.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
        parts = []
        for part in message.iter_parts():
            parts.append((str(part.get_param("name", header="content-disposition") or ""),
                          str(part.get_filename() or ""), part.get_content_type(),
                          part.get_payload(decode=True) or b""))
        return parts


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON; bytes/str as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Scripted:
    method: str
    pattern: re.Pattern[str]
    reply: Reply
    times: int
    after: bool  # the fake does the work, then answers the error: a reply lost on the way back


Handler = Callable[..., Reply]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def mark(func: Handler) -> Handler:
        setattr(func, "_route", (method, re.compile(pattern + r"\Z")))
        return func
    return mark


class FakeServer:
    name = "fake"
    # Where the fake's timestamps come from: None ticks one second per change from its own start; a test
    # with an injected clock sets it, so "updated 20 minutes after filing" means the same on both sides.
    time_source: Callable[[], datetime] | None = None

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self._scripted: list[Scripted] = []
        self._routes = [getattr(getattr(self, n), "_route") + (getattr(self, n),)
                        for n in dir(type(self)) if hasattr(getattr(type(self), n), "_route")]
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response, no Nagle: otherwise each call waits out the client's delayed ACK (40 ms).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                reply = fake.dispatch(request)
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    ctype = "application/json; charset=utf-8"
                else:
                    data = payload.encode() if isinstance(payload, str) else (payload or b"")
                    ctype = "text/plain; charset=utf-8"
                self.send_response(reply.status)
                headers = {"Content-Type": ctype, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                pass  # the request log is fake.requests; stderr noise would hide test output

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name=f"{self.name}-fake", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def tick(self, current: datetime) -> datetime:
        """The timestamp of the next change after `current` (never earlier)."""
        if self.time_source is not None:
            return max(self.time_source(), current)
        return current + timedelta(seconds=1)

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, method: str, pattern: str, status: int, body: Any = None,
                  headers: dict[str, str] | None = None, times: int = 1, after: bool = False) -> None:
        """Answer the next `times` matching requests with this reply (after validating them).

        after=True carries the request out first, as when a proxy times out after the tracker acted.
        """
        with self.lock:
            self._scripted.append(Scripted(method, re.compile(pattern + r"\Z"), Reply(status, body, headers or {}),
                                           times, after))

    def calls(self, method: str, pattern: str) -> list[Request]:
        rx = re.compile(pattern + r"\Z")
        with self.lock:
            return [r for r in self.requests if r.method == method and rx.match(r.path)]

    # -- serving -----------------------------------------------------------------------------
    def validate(self, request: Request) -> list[str]:
        return []

    def authorize(self, request: Request) -> Reply | None:
        return None

    def dispatch(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            problems = self.validate(request)
            if problems:
                self.violations.extend(f"{request.method} {request.path}: {p}" for p in problems)
                return Reply(400, {"message": "contract violation: " + "; ".join(problems)})
            for scripted in self._scripted:
                if scripted.times > 0 and scripted.method == request.method and scripted.pattern.match(request.path):
                    scripted.times -= 1
                    if scripted.after:
                        self._handle(request)
                    return scripted.reply
            return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        with self.lock:
            denied = self.authorize(request)
            if denied is not None:
                return denied
            for method, pattern, handler in self._routes:
                match = pattern.match(request.path)
                if method == request.method and match:
                    try:
                        return handler(request, **match.groupdict())
                    except Exception as exc:  # a fake bug must show as a violation, not a hang
                        self.violations.append(f"fake crashed on {request.method} {request.path}: {exc!r}")
                        return Reply(500, {"message": "fake crashed"})
            self.violations.append(f"{request.method} {request.path}: no such route in the {self.name} fake")
            return Reply(404, {"message": "Not Found"})
