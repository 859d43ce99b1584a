"""A signed webhook: POST each report as JSON (attachments base64 inline) or multipart.

Signing follows the Standard Webhooks spec (standard-webhooks.md):

    webhook-id:        the report's idempotency key, so a receiver dedupes our retries
    webhook-timestamp: unix seconds
    webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>
                       key = base64-decoded part of the "whsec_<base64>" secret (the raw text otherwise)

and optionally GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret text, body)>`.

Every report's `installation_id` (report.json) lets the receiver count the distinct machines behind a ticket;
reporter-app cannot read the receiver's earlier deliveries, so the count is the receiver's, and its status answer
may give it back (`"installations": N`, shown in My reports).

The receiver may answer a 2xx with JSON `{"key": "...", "url": "..."}` naming its ticket; else the
ticket key is the webhook-id. `find()` knows only tickets a receiver named (kept in a small local
record): for the rest a re-send is harmless because the receiver dedupes on webhook-id.
410 Gone means "stop sending" (the spec's words) and becomes a RefusedError.

Payload (`type` / `timestamp` / `data`, as the spec recommends):

    {"type": "report.created" | "report.occurrence", "timestamp": "2026-01-05T09:00:00Z",
     "data": {<report.json fields>, "attachments": [{path, filename, kind, content_type, size,
              sha256, note, data_base64?}], "attachment_notes": [...], "text": "<plain text>",
              "ticket": {"key", "url"} (occurrences only)}}

Multipart: part `payload` (the JSON above without data_base64) plus one part per file, named
`attachment<N>`; the signature covers the exact multipart bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from urllib3 import encode_multipart_formdata

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock, parse_utc_iso, utc_iso
from reporter_app.config.options import Option
from reporter_app.fsutil import atomic_write_text
from reporter_app.model import Report
from reporter_app.render import plain_text
from reporter_app.trackers.base import (
    CheckResult,
    Comment,
    CredentialsError,
    Limits,
    RefusedError,
    TicketRef,
    TicketState,
    TicketStatus,
    Tracker,
    TrackerContext,
    TrackerError,
)
from reporter_app.trackers.fitting import fit_attachments
from reporter_app.trackers.http import HttpClient, http_status, timeouts

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # the spec: "between 24 bytes (192 bits) and 64 bytes"
RECORD_FILE = "webhook-tickets.json"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: `whsec_` + base64, or (lenient) the raw text."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CredentialsError("the webhook secret starts with whsec_ but the rest is not base64") from exc
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one delivery."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookTracker(Tracker):
    name = "webhook"
    options = (
        Option("signing_secret", str, "", "Secret that signs every delivery, as whsec_<base64> (Standard Webhooks). "
               "Stored in the OS keyring by `reporter-app login` or given as REPORTER_APP_TRACKER_TOKEN.",
               secret=True),
        Option("payload_format", str, "json", "json: one JSON body with attachments base64 inline; multipart: the "
               "JSON in a 'payload' part and each file as its own part.", choices=("json", "multipart")),
        Option("github_signature", bool, False, "Also send GitHub's X-Hub-Signature-256 header "
               "(HMAC-SHA256 of the body with the secret text)."),
        Option("status_url", str, "", "Optional URL template the receiver answers status on, e.g. "
               "https://hooks.example.com/tickets/{key}; empty: status stays 'filed'."),
        Option("max_attachment_mb", float, 10.0, "Largest file sent; bigger screenshots are shrunk and logs trimmed "
               "to fit. 0: no limit.", minimum=0, maximum=4096),
    )

    def __init__(self, context: TrackerContext) -> None:
        settings = context.settings
        self.url = str(settings.get("url") or "").strip()
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"tracker.url {self.url!r} must be the webhook receiver's address "
                             "(http:// or https://)")
        self.project = str(settings.get("project") or "")
        self.secret = context.token or ""
        self.payload_format = str(settings.get("payload_format") or "json")
        if self.payload_format not in ("json", "multipart"):
            raise ValueError(f"tracker.payload_format {self.payload_format!r}: expected 'json' or 'multipart'")
        self.github_signature = bool(settings.get("github_signature", False))
        self.status_url = str(settings.get("status_url") or "")
        if self.status_url and "{key}" not in self.status_url:
            raise ValueError(f"tracker.status_url {self.status_url!r} must contain {{key}} where the ticket key goes")
        mb = float(settings.get("max_attachment_mb", 10.0) or 0)
        self.max_attachment_bytes = int(mb * 1024 * 1024) if mb > 0 else None
        self.clock: Clock = context.clock or SystemClock()
        self.record_path = Path(context.data_dir) / RECORD_FILE
        session = context.session if context.session is not None else requests.Session()
        self.http = HttpClient(session, self.url, service=f"the webhook receiver at {self.url}",
                               timeout=timeouts(settings), clock=self.clock, explain=self._explain)

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        try:
            key = signing_key(self._require_secret())
        except CredentialsError as exc:
            return [CheckResult("webhook", False, exc.message)]
        results = []
        try:
            response = self.http.send("HEAD", self.url)
        except TrackerError as exc:
            return [CheckResult("webhook", False, exc.message)]
        if response.status_code in (404, 410) or response.status_code >= 500:
            results.append(CheckResult("webhook", False, f"{self.url} answered {response.status_code} "
                                                         f"{response.reason or ''}".rstrip()))
        else:
            # Any other answer (405 to a HEAD included) proves something is listening there.
            results.append(CheckResult("webhook", True, f"{self.url} answers (HTTP {response.status_code})"))
        strength = "" if len(key) >= MIN_SECRET_BYTES else f" (only {len(key)} bytes: the spec asks for 24 or more)"
        results.append(CheckResult("webhook secret", not strength, "signing with Standard Webhooks v1" +
                                   (" and X-Hub-Signature-256" if self.github_signature else "") + strength))
        return results

    def limits(self) -> Limits:
        return Limits(max_attachment_bytes=self.max_attachment_bytes)

    def find(self, key: str) -> TicketRef | None:
        for entry in self._records().values():
            if key and key in (entry.get("idempotency_key"), entry.get("fingerprint")) and entry.get("named"):
                return TicketRef(self.name, str(entry["key"]), str(entry.get("url", "")))
        return None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        answer = self._deliver("report.created", report, bundle, ticket=None)
        ref, named = self._ref_from(answer, report.idempotency_key)
        self._remember(report, ref, named)
        return ref

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        self._deliver("report.occurrence", report, bundle, ticket=ref)

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        """A `report.comment` event, signed like a report. The webhook-id is derived from the ticket, the
        author and the text, so a retried send carries the same id and the receiver's dedupe drops it."""
        if not text.strip():
            raise RefusedError("an empty comment was not sent to the webhook receiver")
        self._require_secret()
        digest = hashlib.sha256(f"{ref.key}\n{author}\n{text}".encode()).hexdigest()[:32]
        payload = {"type": "report.comment", "timestamp": utc_iso(self.clock.now()),
                   "data": {"ticket": {"key": ref.key, "url": ref.url}, "author": author, "text": text,
                            **({"project": self.project} if self.project else {})}}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {**self._headers(f"comment-{digest}", body), "Content-Type": "application/json"}
        self.http.request("POST", self.url, data=body, headers=headers)

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        found: dict[str, TicketStatus] = {}
        for ref in refs:
            if not self.status_url:
                found[ref.key] = TicketStatus(ref=ref, state=TicketState.NEW, status_name="filed")
                continue
            url = self.status_url.replace("{key}", quote(ref.key, safe=""))
            try:
                data = self.http.json("GET", url, headers=self._headers(f"status-{uuid.uuid4().hex}", b""))
            except RefusedError as exc:
                if http_status(exc) in (404, 410):
                    continue  # the receiver no longer knows it: left out, as the contract says
                raise
            if isinstance(data, dict):
                found[ref.key] = _status_from(ref, data)
        return found

    # -- delivery --------------------------------------------------------------------------
    def _deliver(self, event: str, report: Report, bundle: Bundle, ticket: TicketRef | None) -> Any:
        fitted = fit_attachments(bundle, self.max_attachment_bytes, "the webhook's")
        inline = self.payload_format == "json"
        files = []
        for upload in fitted.uploads:
            entry = {"path": upload.attachment.path, "filename": upload.filename, "kind": upload.attachment.kind,
                     "content_type": upload.content_type, "size": len(upload.data),
                     "sha256": hashlib.sha256(upload.data).hexdigest(), "note": upload.note or upload.attachment.note}
            if inline:
                entry["data_base64"] = base64.b64encode(upload.data).decode("ascii")
            files.append(entry)
        data = {**report.to_json(), "attachments": files, "attachment_notes": fitted.notes, "text": plain_text(report)}
        if self.project:
            data["project"] = self.project
        if ticket is not None:
            data["ticket"] = {"key": ticket.key, "url": ticket.url}
        payload = {"type": event, "timestamp": utc_iso(self.clock.now()), "data": data}
        payload_bytes = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if inline:
            body, content_type = payload_bytes, "application/json"
        else:
            fields: list[tuple[str, Any]] = [("payload", ("payload.json", payload_bytes, "application/json"))]
            fields += [(f"attachment{i}", (u.filename, u.data, u.content_type))
                       for i, u in enumerate(fitted.uploads, start=1)]
            body, content_type = encode_multipart_formdata(fields)
        headers = {**self._headers(report.idempotency_key, body), "Content-Type": content_type}
        response = self.http.request("POST", self.url, data=body, headers=headers)
        try:
            return response.json() if response.content else None
        except ValueError:
            return None  # a 2xx without JSON is a plain "accepted"

    def _headers(self, msg_id: str, body: bytes) -> dict[str, str]:
        secret = self._require_secret()
        timestamp = int(self.clock.now().timestamp())
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, msg_id, timestamp, body), "Accept": "application/json"}
        if self.github_signature:
            headers["X-Hub-Signature-256"] = github_signature(secret, body)
        return headers

    def _require_secret(self) -> str:
        if not self.secret:
            raise CredentialsError("no webhook signing secret: run `reporter-app login` (or set "
                                   "REPORTER_APP_TRACKER_TOKEN) with the receiver's whsec_... secret")
        return self.secret

    def _ref_from(self, answer: Any, msg_id: str) -> tuple[TicketRef, bool]:
        if isinstance(answer, dict) and isinstance(answer.get("key"), (str, int)) and str(answer["key"]):
            return TicketRef(self.name, str(answer["key"]), str(answer.get("url") or "")), True
        return TicketRef(self.name, msg_id, ""), False

    def _explain(self, response: requests.Response, detail: str) -> str:
        where = f"the webhook receiver at {self.url}"
        if response.status_code == 410:
            return f"{where} answered 410 Gone: it no longer accepts reports (fix tracker.url, then retry)"
        if response.status_code in (401, 403):
            return (f"{where} rejected the signature ({response.status_code}): check that its secret matches "
                    "the one stored with `reporter-app login`" + (f" ({detail})" if detail else ""))
        return f"{where} answered {response.status_code} {response.reason or ''}".rstrip() \
            + (f": {detail}" if detail else "")

    # -- local record of tickets the receiver named -----------------------------------------
    def _records(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _remember(self, report: Report, ref: TicketRef, named: bool) -> None:
        records = self._records()
        records[report.idempotency_key] = {"idempotency_key": report.idempotency_key,
                                           "fingerprint": report.fingerprint, "key": ref.key, "url": ref.url,
                                           "named": named, "at": utc_iso(self.clock.now())}
        try:
            atomic_write_text(self.record_path, json.dumps(records, indent=1))
        except OSError:
            pass  # only an optimisation for find(); the receiver's webhook-id dedupe is the real guard


def _status_from(ref: TicketRef, data: dict[str, Any]) -> TicketStatus:
    try:
        state = TicketState(str(data.get("state", "new")))
    except ValueError:
        state = TicketState.IN_PROGRESS
    comments = [Comment(id=str(c.get("id", i)), author=str(c.get("author", "")), body=str(c.get("body", "")),
                        created_at=_time(c.get("created_at")))
                for i, c in enumerate(data.get("comments") or []) if isinstance(c, dict)]
    return TicketStatus(ref=ref, state=state, status_name=str(data.get("status") or state.value),
                        assignee=str(data.get("assignee") or ""), comments=comments,
                        fixed_in=str(data.get("fixed_in") or ""), updated_at=_time(data.get("updated_at")),
                        title=str(data.get("title") or ""), priority=str(data.get("priority") or ""),
                        description=str(data.get("description") or ""), created_at=_time(data.get("created_at")),
                        # Optional: a receiver that counts reports and distinct installation_ids says so; 0 = unknown.
                        occurrences=_positive(data.get("occurrences"), 1),
                        installations=_positive(data.get("installations"), 0))


def _positive(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _time(value: object) -> Any:
    try:
        return parse_utc_iso(str(value)) if value else None
    except ValueError:
        return None
