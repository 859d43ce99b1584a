"""The webhook backend against a loopback receiver that verifies signatures with its own implementation.

The verifier below is written from the Standard Webhooks spec text (and GitHub's docs), not from
reporter_app.trackers.webhook, so a wrong signature in the code under test cannot be "confirmed" by itself.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from reporter_app.bundle import BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Impact, Report
from reporter_app.trackers.base import CredentialsError, RefusedError, TicketRef, TicketState, TrackerContext, \
    TransientError
from reporter_app.trackers.webhook import WebhookTracker

SECRET_BYTES = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()


def verify_standard_webhooks(secret: str, headers, body: bytes) -> bool:
    """Spec: signed content is "{msg_id}.{timestamp}.{payload}"; key = base64 part of whsec_; v1,<base64>."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for versioned in headers["webhook-signature"].split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


def verify_github(secret: str, header: str, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header, expected)


class Receiver:
    """A webhook receiver on 127.0.0.1: verifies, records, answers what the test says."""

    def __init__(self) -> None:
        self.deliveries: list[dict] = []
        self.answer: Callable[[dict], tuple[int, dict[str, str], bytes]] = lambda d: (204, {}, b"")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body,
                            "verified": "webhook-signature" in self.headers
                            and verify_standard_webhooks(SECRET, self.headers, body)}
                receiver.deliveries.append(delivery)
                status, headers, payload = receiver.answer(delivery)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_HEAD = _handle

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/reports"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def make_tracker(tmp_path, url: str, token: str | None = SECRET, **settings) -> WebhookTracker:
    return WebhookTracker(TrackerContext(settings={"url": url, "project": "desk", **settings},
                                         data_dir=tmp_path / "data", token=token, session=requests.Session(),
                                         clock=FakeClock()))


def make_bundle(tmp_path, title="Crash on save"):
    writer = BundleWriter(tmp_path / "reports", Report(title=title, impact=Impact.MAJOR, fingerprint="brfp-42"))
    writer.add_bytes("screenshot.png", b"\x89PNG\r\n\x1a\nfake", kind="screenshot", content_type="image/png")
    writer.add_bytes("logs/app.txt", b"boom\n", kind="log", content_type="text/plain")
    return writer.commit()


def test_json_delivery_is_signed_and_carries_the_report(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url, github_signature=True)
    bundle = make_bundle(tmp_path)

    ref = tracker.create(bundle.report, bundle)

    (delivery,) = receiver.deliveries
    headers, body = delivery["headers"], delivery["body"]
    assert delivery["verified"]
    assert verify_github(SECRET, headers["X-Hub-Signature-256"], body)
    assert headers["webhook-id"] == bundle.report.idempotency_key
    assert headers["webhook-timestamp"] == str(int(FakeClock().now().timestamp()))
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == "report.created" and payload["timestamp"] == "2026-01-05T09:00:00Z"
    data = payload["data"]
    assert data["title"] == "Crash on save" and data["impact"] == "major" and data["project"] == "desk"
    assert data["idempotency_key"] == bundle.report.idempotency_key and "reporter-app key:" in data["text"]
    files = {a["path"]: base64.b64decode(a["data_base64"]) for a in data["attachments"]}
    assert files == {"screenshot.png": b"\x89PNG\r\n\x1a\nfake", "logs/app.txt": b"boom\n"}
    # No ticket reference in the answer: the key is the webhook-id, and find() does not claim to know it.
    assert ref == TicketRef("webhook", bundle.report.idempotency_key, "")
    assert tracker.find(bundle.report.idempotency_key) is None


def test_a_tampered_body_fails_the_independent_verifier(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url)
    bundle = make_bundle(tmp_path)
    tracker.create(bundle.report, bundle)
    delivery = receiver.deliveries[0]
    assert not verify_standard_webhooks(SECRET, delivery["headers"], delivery["body"] + b" ")


def test_multipart_delivery_is_signed_over_the_exact_bytes(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url, payload_format="multipart")
    bundle = make_bundle(tmp_path)
    tracker.create(bundle.report, bundle)

    (delivery,) = receiver.deliveries
    assert delivery["verified"]
    raw = f"Content-Type: {delivery['headers']['Content-Type']}\r\n\r\n".encode() + delivery["body"]
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    payload = json.loads(parts["payload"].get_payload(decode=True))
    assert all("data_base64" not in a for a in payload["data"]["attachments"])
    assert parts["attachment1"].get_payload(decode=True) == b"\x89PNG\r\n\x1a\nfake"
    assert parts["attachment2"].get_filename() == "app.txt"


def test_a_receiver_that_names_its_ticket_is_remembered_for_find(tmp_path, receiver):
    receiver.answer = lambda d: (201, {"Content-Type": "application/json"},
                                 b'{"key": "HOOK-7", "url": "https://desk.example/HOOK-7"}')
    tracker = make_tracker(tmp_path, receiver.url)
    bundle = make_bundle(tmp_path)
    ref = tracker.create(bundle.report, bundle)
    assert ref == TicketRef("webhook", "HOOK-7", "https://desk.example/HOOK-7")
    again = make_tracker(tmp_path, receiver.url)  # a new process: the record is on disk
    assert again.find(bundle.report.idempotency_key) == ref
    assert again.find("brfp-42") == ref


def test_410_gone_stops_and_5xx_retries_after(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url)
    bundle = make_bundle(tmp_path)
    receiver.answer = lambda d: (410, {}, b"")
    with pytest.raises(RefusedError, match="410 Gone: it no longer accepts reports"):
        tracker.create(bundle.report, bundle)
    receiver.answer = lambda d: (503, {"Retry-After": "120"}, b"maintenance")
    with pytest.raises(TransientError) as caught:
        tracker.create(bundle.report, bundle)
    assert caught.value.retry_after == 120.0
    receiver.answer = lambda d: (401, {}, b"bad signature")
    with pytest.raises(CredentialsError, match="rejected the signature"):
        tracker.create(bundle.report, bundle)


def test_occurrence_names_the_ticket(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url)
    bundle = make_bundle(tmp_path, "again")
    tracker.add_occurrence(TicketRef("webhook", "HOOK-7", "u"), bundle.report, bundle)
    payload = json.loads(receiver.deliveries[0]["body"])
    assert payload["type"] == "report.occurrence" and payload["data"]["ticket"] == {"key": "HOOK-7", "url": "u"}
    assert receiver.deliveries[0]["verified"]


def test_statuses_without_and_with_a_status_url(tmp_path, receiver):
    ref = TicketRef("webhook", "HOOK-7", "")
    plain = make_tracker(tmp_path, receiver.url).statuses([ref])["HOOK-7"]
    assert (plain.state, plain.status_name) == (TicketState.NEW, "filed")

    def answer(delivery):
        if delivery["path"].endswith("/HOOK-7"):
            return 200, {"Content-Type": "application/json"}, json.dumps({
                "state": "resolved", "status": "Done", "assignee": "Grace", "fixed_in": "2.0",
                "comments": [{"id": "c1", "author": "Grace", "body": "fixed"}]}).encode()
        return 404, {}, b""

    receiver.answer = answer
    base = receiver.url.rsplit("/", 1)[0]
    tracker = make_tracker(tmp_path, receiver.url, status_url=base + "/tickets/{key}")
    found = tracker.statuses([ref, TicketRef("webhook", "HOOK-8", "")])
    assert set(found) == {"HOOK-7"}
    status = found["HOOK-7"]
    assert (status.state, status.status_name, status.assignee, status.fixed_in) == \
        (TicketState.RESOLVED, "Done", "Grace", "2.0")
    assert [c.body for c in status.comments] == ["fixed"]
    assert receiver.deliveries[-1]["verified"]  # status polls are signed too (over an empty body)


def test_check_and_missing_secret(tmp_path, receiver):
    receiver.answer = lambda d: (405, {}, b"")
    results = make_tracker(tmp_path, receiver.url).check()
    assert [r.ok for r in results] == [True, True]
    weak = make_tracker(tmp_path, receiver.url, token="whsec_" + base64.b64encode(b"short").decode()).check()
    assert not weak[-1].ok and "only 5 bytes" in weak[-1].detail
    (line,) = make_tracker(tmp_path, receiver.url, token=None).check()
    assert not line.ok and "no webhook signing secret" in line.detail
    (line,) = make_tracker(tmp_path, "http://127.0.0.1:9/hook").check()
    assert not line.ok and "connection refused" in line.detail
    bundle = make_bundle(tmp_path)
    with pytest.raises(CredentialsError):
        make_tracker(tmp_path, receiver.url, token=None).create(bundle.report, bundle)


def test_comment_is_a_signed_event_with_a_stable_id(tmp_path, receiver):
    tracker = make_tracker(tmp_path, receiver.url)
    ref = TicketRef("webhook", "HOOK-7", "https://hooks.example.com/t/7")
    tracker.comment(ref, "It also fails on Firefox.", author="Ada Tester")
    tracker.comment(ref, "It also fails on Firefox.", author="Ada Tester")  # a retry of the same words
    first, again = receiver.deliveries
    assert first["verified"] and again["verified"]
    payload = json.loads(first["body"])
    assert payload["type"] == "report.comment" and payload["timestamp"] == "2026-01-05T09:00:00Z"
    assert payload["data"] == {"ticket": {"key": "HOOK-7", "url": "https://hooks.example.com/t/7"},
                               "author": "Ada Tester", "text": "It also fails on Firefox.", "project": "desk"}
    # Same ticket, author and text: same webhook-id, so the receiver's dedupe drops the retry.
    assert first["headers"]["webhook-id"] == again["headers"]["webhook-id"].strip()
    assert first["headers"]["webhook-id"].startswith("comment-")
    tracker.comment(ref, "Another thought", author="Ada Tester")
    assert receiver.deliveries[-1]["headers"]["webhook-id"] != first["headers"]["webhook-id"]


def test_comment_refusals(tmp_path, receiver):
    with pytest.raises(RefusedError, match="empty"):
        make_tracker(tmp_path, receiver.url).comment(TicketRef("webhook", "HOOK-7"), " ")
    with pytest.raises(CredentialsError):
        make_tracker(tmp_path, receiver.url, token=None).comment(TicketRef("webhook", "HOOK-7"), "hi")
    receiver.answer = lambda d: (410, {}, b"")
    with pytest.raises(RefusedError, match="410"):
        make_tracker(tmp_path, receiver.url).comment(TicketRef("webhook", "HOOK-7"), "hi")


def test_status_carries_description_and_filing_time(tmp_path, receiver):
    receiver.answer = lambda d: (200, {"Content-Type": "application/json"}, json.dumps({
        "state": "new", "description": "## Root cause\nA race.", "created_at": "2026-01-04T08:00:00Z"}).encode())
    base = receiver.url.rsplit("/", 1)[0]
    tracker = make_tracker(tmp_path, receiver.url, status_url=base + "/tickets/{key}")
    status = tracker.statuses([TicketRef("webhook", "HOOK-7", "")])["HOOK-7"]
    assert status.description == "## Root cause\nA race." and status.created_at.isoformat() == "2026-01-04T08:00:00+00:00"


def test_occurrence_carries_the_installation_id_and_the_receiver_may_give_counts_back(tmp_path, receiver):
    writer = BundleWriter(tmp_path / "reports", Report(title="again", fingerprint="brfp-42", installation_id="b" * 32))
    bundle = writer.commit()
    make_tracker(tmp_path, receiver.url).add_occurrence(TicketRef("webhook", "HOOK-7", ""), bundle.report, bundle)
    # The receiver counts the distinct installation_ids per ticket: reporter-app cannot read earlier deliveries.
    assert json.loads(receiver.deliveries[0]["body"])["data"]["installation_id"] == "b" * 32

    receiver.answer = lambda d: (200, {"Content-Type": "application/json"}, json.dumps(
        {"state": "new", "occurrences": 5, "installations": 3}).encode())
    base = receiver.url.rsplit("/", 1)[0]
    tracker = make_tracker(tmp_path, receiver.url, status_url=base + "/tickets/{key}")
    status = tracker.statuses([TicketRef("webhook", "HOOK-7", "")])["HOOK-7"]
    assert status.occurrence_summary == "5 occurrences on 3 machines"
    receiver.answer = lambda d: (200, {"Content-Type": "application/json"}, json.dumps(
        {"state": "new", "occurrences": "many", "installations": True}).encode())
    odd = tracker.statuses([TicketRef("webhook", "HOOK-7", "")])["HOOK-7"]
    assert (odd.occurrences, odd.installations) == (1, 0)  # what is not a positive count is not believed
