"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the real Redmine.

The app's `tracker.url` points here; each request either passes through to Redmine untouched or meets the fault
the script names for it. The faults are the ones a real network and a real tracker produce:

    status        answer 500/502/503/429 (optionally with Retry-After) without asking Redmine
    hang          forward to Redmine (it acts on the request), then say nothing until after the client timed out
    reset_request read the headers and part of the body, then reset the connection (Redmine never sees it)
    reset_response forward to Redmine, send the start of its answer, then reset: the dangerous case where the issue
                  was created but the client never heard
    trickle       forward, then dribble the answer out in small chunks (slower than a LAN, inside the timeout)

Every request is logged (wall-clock time, method, path, body excerpt, what was done) so the tests can prove
when a retry came relative to a Retry-After. Standard library only: the proxy must not share code with the
client it tests.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers are the proxy's own business (RFC 9110 7.6.1); everything else is passed on as is.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
# Bodies are logged only this far: enough to find the idempotency key in a JSON create.
_LOGGED_BODY = 65536


@dataclass(frozen=True)
class Fault:
    """What to do with a request. `kind` is one of: pass, status, hang, reset_request, reset_response, trickle."""

    kind: str = "pass"
    status: int = 0
    retry_after: str | None = None
    hang_seconds: float = 0.0
    chunk_bytes: int = 256
    chunk_delay: float = 0.02

    @property
    def label(self) -> str:
        if self.kind == "status":
            return f"{self.status}" + (f" Retry-After {self.retry_after}" if self.retry_after else "")
        return self.kind


PASS = Fault()


@dataclass
class Rule:
    """Apply `fault` to requests matching `method` and a path prefix, the first `times` times (None: always)."""

    fault: Fault
    method: str | None = None
    path_prefix: str = "/"
    times: int | None = None
    used: int = 0

    def take(self, method: str, path: str) -> bool:
        if self.method is not None and method != self.method:
            return False
        if not path.startswith(self.path_prefix):
            return False
        if self.times is not None and self.used >= self.times:
            return False
        self.used += 1
        return True


@dataclass(frozen=True)
class Logged:
    at: float  # time.time() when the request had been read: comparable with the outbox's UTC timestamps
    method: str
    path: str  # with the query string
    body: bytes
    fault: str
    status: int | None  # what the client was sent (None: nothing complete)

    def mentions(self, text: str) -> bool:
        return text in self.path or text.encode() in self.body


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT of the real Redmine
    rules: list[Rule] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        handler = _handler_for(self)
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    # -- the script --------------------------------------------------------------------------
    def add(self, fault: Fault, method: str | None = None, path_prefix: str = "/", times: int | None = None) -> Rule:
        rule = Rule(fault, method, path_prefix, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """The fault clears: from now on everything passes through."""
        with self._lock:
            self.rules.clear()

    def _fault_for(self, method: str, path: str) -> Fault:
        with self._lock:
            for rule in self.rules:
                if rule.take(method, path):
                    return rule.fault
        return PASS

    def _record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)

    def requests(self, where: Callable[[Logged], bool] = lambda _e: True) -> list[Logged]:
        with self._lock:
            return [e for e in self.log if where(e)]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out or drop a kept-alive connection are the point here, not news


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not a clean FIN (what a crashed middlebox does)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as requests' pool expects

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class' name
            pass  # the structured log above is what tests read; stderr noise helps nobody

        def _handle(self) -> None:
            method, path = self.command, self.path
            fault = proxy._fault_for(method, path)
            length = int(self.headers.get("Content-Length") or 0)
            if fault.kind == "reset_request":
                # Read part of the body (if any) so the client is mid-send when the connection dies.
                if length:
                    self.rfile.read(max(1, length // 2))
                proxy._record(Logged(time.time(), method, path, b"", fault.label, None))
                self.close_connection = True
                _reset(self.connection)
                return
            body = self.rfile.read(length) if length else b""
            at = time.time()
            if fault.kind == "status":
                proxy._record(Logged(at, method, path, body[:_LOGGED_BODY], fault.label, fault.status))
                payload = b'{"errors":["injected fault"]}'
                self.send_response(fault.status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            status, reason, headers, answer = self._forward(method, path, body)
            if fault.kind == "hang":
                proxy._record(Logged(at, method, path, body[:_LOGGED_BODY], fault.label, None))
                proxy._stop.wait(fault.hang_seconds)
                self.close_connection = True
                return
            head = self._head(status, reason, headers, len(answer))
            if fault.kind == "reset_response":
                proxy._record(Logged(at, method, path, body[:_LOGGED_BODY], fault.label, None))
                # Half the status line and headers, or the headers and half the body: either way, not an answer.
                cut = head + answer[: len(answer) // 2] if answer else head[: len(head) // 2]
                self.wfile.write(cut)
                self.wfile.flush()
                self.close_connection = True
                _reset(self.connection)
                return
            proxy._record(Logged(at, method, path, body[:_LOGGED_BODY], fault.label, status))
            if fault.kind == "trickle":
                data = head + answer
                for start in range(0, len(data), fault.chunk_bytes):
                    if proxy._stop.wait(fault.chunk_delay):
                        break
                    self.wfile.write(data[start:start + fault.chunk_bytes])
                    self.wfile.flush()
                return
            self.wfile.write(head + answer)

        def _forward(self, method: str, path: str, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Host"] = target.netloc
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                answer = response.read()  # de-chunked: re-sent below with a Content-Length
                return response.status, response.reason, response.getheaders(), answer
            finally:
                conn.close()

        @staticmethod
        def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
            lines = [f"HTTP/1.1 {status} {reason}"]
            lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP | {"content-length"}]
            lines += [f"Content-Length: {length}", "", ""]
            return "\r\n".join(lines).encode("latin-1")

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815 - http.server's names

    return Handler
