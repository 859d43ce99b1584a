"""Redmine over its REST API (tested against Redmine 5.0 from Debian 12).

    create          POST /uploads.json per file (octet-stream) -> tokens; POST /issues.json with them
    find            GET /issues.json?cf_N=key&status_id=*  (custom field), else the description's key line
    add_occurrence  PUT /issues/N.json with a "+1 occurrence" note (with the count of distinct installations read
                    from the description and journals) and its own uploads
    comment         PUT /issues/N.json with a note (the author named on its last line)
    statuses        GET /issues.json?issue_id=1,2,..&status_id=*, plus journals per changed issue

Every id (tracker, priority, status, custom field, category) is looked up by name: ids differ
between installations and enumeration ids are shared across types. /custom_fields.json needs an
admin key, so field *availability* comes from the project (`include=issue_custom_fields`, which
any member may read); the admin-only list only sharpens `check()` (is the key field a filter?).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock, parse_utc_iso
from reporter_app.config.options import Option, parse_pairs
from reporter_app.model import Priority, Report
from reporter_app.trackers.attribution import with_author
from reporter_app.trackers.base import (
    CheckResult,
    CredentialsError,
    Limits,
    RefusedError,
    TicketRef,
    TicketStatus,
    Tracker,
    TrackerContext,
    TrackerError,
)
from reporter_app.trackers.fitting import Upload, fit_attachments, human_size
from reporter_app.trackers.http import HttpClient, http_status, timeouts
from reporter_app.trackers.installations import count_installations, report_tag
from reporter_app.trackers.redmine_meta import FIELD_SETTINGS, Metadata, load_metadata
from reporter_app.trackers.redmine_status import ticket_status
from reporter_app.trackers.redmine_text import (
    FORMATS,
    KEY_MARKER,
    description,
    key_marker,
    occurrence_note,
)

DEFAULT_PRIORITY_MAP = ("P1=Immediate", "P2=Urgent", "P3=High", "P4=Normal")
MAX_SUBJECT = 255  # Redmine's issues.subject column
BATCH = 100  # Redmine's largest page
METADATA_TTL_SECONDS = 600.0  # a long-running tray app notices renamed fields within minutes
RECENT_SCAN = 100  # issues whose descriptions are scanned for a key line before falling back to search
_SIZE_IN_422 = re.compile(r"maximum allowed file size \((\d+)\)")


class RedmineTracker(Tracker):
    name = "redmine"
    options = (
        Option("api_key", str, "", "Redmine API access key (My account -> API access key). Stored in the OS keyring "
               "by `reporter-app login` or given as REPORTER_APP_TRACKER_TOKEN; never in a config file.", secret=True),
        Option("tracker_name", str, "Bug", "Redmine tracker (issue type) of new tickets."),
        Option("priority_map", list, DEFAULT_PRIORITY_MAP,
               "Priority P1..P4 -> Redmine priority name, as 'P1=Immediate' entries. A priority left out gets "
               "Redmine's default priority."),
        Option("impact_field", str, "impact", "Issue custom field that receives the impact (blocker, major, ...); "
               "empty: impact only in the description."),
        Option("reach_field", str, "reach", "Issue custom field that receives the reach (just_me, my_team, "
               "many_users); empty: reach only in the description."),
        Option("fingerprint_field", str, "fingerprint", "Issue custom field that receives the duplicate "
               "fingerprint (mark it 'Used as a filter'); empty: a line in the description."),
        Option("idempotency_field", str, "idempotency_key", "Issue custom field that receives the report's "
               "idempotency key (mark it 'Used as a filter'); empty: a line in the description."),
        Option("fixed_fields", list, (), "Custom fields set on every new ticket, as 'Field name=value' entries "
               "(e.g. 'Found by=QA')."),
        Option("max_attachment_mb", float, 5.0, "Largest attachment Redmine accepts (Administration -> Settings -> "
               "Files; non-admins cannot read it). Bigger screenshots are shrunk and logs trimmed to fit.",
               minimum=0.01, maximum=4096),
        Option("text_formatting", str, "textile", "Redmine's text formatting (Administration -> Settings -> "
               "General).", choices=FORMATS),
    )

    def __init__(self, context: TrackerContext) -> None:
        settings = context.settings
        self.base_url = str(settings.get("url") or "").rstrip("/")
        if not re.match(r"https?://", self.base_url):
            raise ValueError(f"tracker.url {self.base_url!r} must be the Redmine address, "
                             "e.g. https://redmine.example.com")
        self.project = str(settings.get("project") or "").strip()
        if not self.project:
            raise ValueError("tracker.project is empty: set it to the Redmine project identifier (e.g. bugreports)")
        self.token = context.token
        self.clock: Clock = context.clock or SystemClock()
        self.tracker_name = str(settings.get("tracker_name") or "Bug")
        self.priority_map = parse_pairs(settings.get("priority_map", DEFAULT_PRIORITY_MAP), "priority_map")
        unknown = sorted(set(self.priority_map) - {p.value for p in Priority})
        if unknown:
            raise ValueError(f"tracker.priority_map: {', '.join(unknown)} is not a priority (use P1, P2, P3, P4)")
        self.fixed_fields = parse_pairs(settings.get("fixed_fields", ()), "fixed_fields")
        self.field_names = {role: str(settings.get(setting, default) or "")
                            for role, (setting, default) in FIELD_SETTINGS.items()}
        self.max_attachment_bytes = int(float(settings.get("max_attachment_mb") or 5.0) * 1024 * 1024)
        self.formatting = str(settings.get("text_formatting") or "textile")
        if self.formatting not in FORMATS:
            raise ValueError(f"tracker.text_formatting {self.formatting!r}: expected one of {', '.join(FORMATS)}")
        session = context.session if context.session is not None else requests.Session()
        self.http = HttpClient(
            session, self.base_url, service=f"Redmine at {self.base_url}",
            headers={"X-Redmine-API-Key": self.token or "", "Accept": "application/json"},
            timeout=timeouts(settings), clock=self.clock, explain=self._explain,
        )
        self._meta: Metadata | None = None
        self._meta_at = 0.0
        # issue id -> (updated_on, journals): the poller asks often, journals change rarely.
        self._journals: dict[int, tuple[str, list[dict[str, Any]]]] = {}

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        from reporter_app.trackers.redmine_check import run_checks

        return run_checks(self)

    def limits(self) -> Limits:
        return Limits(max_attachment_bytes=self.max_attachment_bytes, max_title_chars=MAX_SUBJECT)

    def find(self, key: str) -> TicketRef | None:
        if not key:
            return None
        meta = self.metadata()
        # The key may be an idempotency key or a fingerprint; each lives in its field when the project
        # has it, else in the description's key line.
        all_fields_answered = True
        for role in ("idempotency_key", "fingerprint"):
            field_id = meta.field_id(role)
            if field_id is None:
                all_fields_answered = False
                continue
            issue, trusted = self._find_by_field(meta, field_id, key)
            if issue is not None:
                return self._ref(int(issue["id"]))
            all_fields_answered = all_fields_answered and trusted
        if all_fields_answered:
            return None  # both filters worked and matched nothing: no ticket carries this key
        issue_id = self._find_by_key_line(meta, key)
        return self._ref(issue_id) if issue_id is not None else None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        meta = self.metadata()
        fitted = fit_attachments(bundle, self.max_attachment_bytes, "Redmine's")
        uploads = [self._upload(u) for u in fitted.uploads]
        issue: dict[str, Any] = {
            "project_id": meta.project_id,
            "subject": _subject(report),
            "description": description(report, fitted.uploads, fitted.notes, self.formatting),
            "uploads": uploads,
        }
        if meta.tracker_id is not None:
            issue["tracker_id"] = meta.tracker_id
        priority_id = meta.priorities.get(self.priority_map.get(report.priority.value, ""))
        if priority_id is not None:
            issue["priority_id"] = priority_id
        custom = self._custom_field_values(meta, report)
        if custom:
            issue["custom_fields"] = custom
        if report.component:
            category_id = self._category_id(report.component)
            if category_id is not None:
                issue["category_id"] = category_id
        data = self.http.json("POST", "/issues.json", json_body={"issue": issue})
        try:
            return self._ref(int(data["issue"]["id"]))
        except (TypeError, KeyError, ValueError):
            raise RefusedError(f"Redmine at {self.base_url} created the issue but answered without its id") from None

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        issue_id = self.issue_id(ref)
        issue = self._issue(issue_id, include="journals")
        marker = key_marker(report.idempotency_key)
        notes = [str(j.get("notes") or "") for j in issue.get("journals") or []]
        if any(_has_line(n, marker) for n in notes):
            return  # an earlier attempt already added this occurrence: a retry is harmless
        # include=journals returns every journal: the count sees the whole ticket.
        installations = count_installations([str(issue.get("description") or ""), *notes], own=report_tag(report))
        fitted = fit_attachments(bundle, self.max_attachment_bytes, "Redmine's")
        uploads = [self._upload(u) for u in fitted.uploads]
        note = occurrence_note(report, fitted.uploads, fitted.notes, self.formatting, self.clock.now(),
                               installations)
        self.http.request("PUT", f"/issues/{issue_id}.json", json_body={"issue": {"notes": note, "uploads": uploads}})

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        if not text.strip():
            raise RefusedError("an empty comment was not sent to Redmine")
        issue_id = self.issue_id(ref)
        self._require_token()
        try:
            self.http.request("PUT", f"/issues/{issue_id}.json",
                              json_body={"issue": {"notes": with_author(text, author)}})
        except RefusedError as exc:
            if http_status(exc) == 404:
                raise RefusedError(f"Redmine issue #{issue_id} no longer exists (or the key's user cannot see it)") \
                    from exc
            raise

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        by_id = {self.issue_id(ref): ref for ref in refs}
        if not by_id:
            return {}
        meta = self.metadata()
        found: dict[str, TicketStatus] = {}
        ids = sorted(by_id)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            data = self.http.json("GET", "/issues.json", params={
                "issue_id": ",".join(map(str, chunk)), "status_id": "*", "limit": BATCH})
            for issue in (data or {}).get("issues") or []:
                issue_id = int(issue["id"])
                if issue_id not in by_id:
                    continue
                journals = self._journals_for(issue)
                found[by_id[issue_id].key] = ticket_status(by_id[issue_id], issue, journals, meta)
        return found

    # -- metadata (ids by name), cached ------------------------------------------------------
    def metadata(self, refresh: bool = False) -> Metadata:
        self._require_token()
        now = self.clock.monotonic()
        if refresh or self._meta is None or now - self._meta_at > METADATA_TTL_SECONDS:
            self._meta = load_metadata(self.http, self.project, self.tracker_name, self.field_names)
            self._meta_at = now
        return self._meta

    # -- helpers -----------------------------------------------------------------------------
    def issue_id(self, ref: TicketRef) -> int:
        text = ref.key.strip().lstrip("#")
        if not text.isdigit():
            match = re.search(r"/issues/(\d+)", ref.url)
            if not match:
                raise RefusedError(f"{ref.key!r} is not a Redmine issue number")
            text = match.group(1)
        return int(text)

    def _ref(self, issue_id: int) -> TicketRef:
        return TicketRef(backend=self.name, key=f"#{issue_id}", url=f"{self.base_url}/issues/{issue_id}")

    def _require_token(self) -> None:
        if not self.token:
            raise CredentialsError("no Redmine API key: run `reporter-app login` (or set REPORTER_APP_TRACKER_TOKEN); "
                                   "the key is under My account -> API access key")

    def _issue(self, issue_id: int, include: str = "") -> dict[str, Any]:
        params = {"include": include} if include else None
        try:
            data = self.http.json("GET", f"/issues/{issue_id}.json", params=params)
        except RefusedError as exc:
            if http_status(exc) == 404:
                raise RefusedError(f"Redmine issue #{issue_id} no longer exists (or the key's user cannot see it)") \
                    from exc
            raise
        issue: dict[str, Any] = (data or {}).get("issue") or {}
        return issue

    def _upload(self, upload: Upload) -> dict[str, str]:
        try:
            data = self.http.json("POST", "/uploads.json", params={"filename": upload.filename}, data=upload.data,
                                  headers={"Content-Type": "application/octet-stream"})
        except RefusedError as exc:
            hint = ""
            match = _SIZE_IN_422.search(exc.message)
            if match:
                hint = (f"; set tracker.max_attachment_mb to {int(match.group(1)) / 2**20:g} or less so "
                        "reporter-app shrinks files to fit")
            raise RefusedError(f"Redmine refused the attachment {upload.filename} ({human_size(len(upload.data))}): "
                               f"{exc.message}{hint}") from exc
        token = ((data or {}).get("upload") or {}).get("token")
        if not token:
            raise RefusedError(f"Redmine at {self.base_url} accepted {upload.filename} but returned no upload token")
        entry = {"token": str(token), "filename": upload.filename, "content_type": upload.content_type}
        if upload.note:
            entry["description"] = upload.note[:255]  # attachments.description is a 255-character column
        return entry

    def _custom_field_values(self, meta: Metadata, report: Report) -> list[dict[str, Any]]:
        # role -> (value, other wordings a list field may use for it)
        values: dict[str, tuple[str, tuple[str, ...]]] = {
            "impact": (report.impact.value, (report.impact.plain_words,)),
            "reach": (report.reach.value, (report.reach.plain_words,)),
            "fingerprint": (report.fingerprint, ()),
            "idempotency_key": (report.idempotency_key, ()),
        }
        out: list[dict[str, Any]] = []
        for role, (value, wordings) in values.items():
            field_id = meta.field_id(role)
            if field_id is not None and value:
                out.append({"id": field_id, "value": meta.field_value(field_id, value, wordings)})
        for name, value in self.fixed_fields.items():
            field_id = meta.fields.get(name)
            if field_id is not None:  # unknown names are reported by check(), never guessed
                out.append({"id": field_id, "value": value})
        return out

    def _category_id(self, component: str) -> int | None:
        meta = self.metadata()
        if meta.categories is None:
            try:
                data = self.http.json("GET", f"/projects/{self.project}/issue_categories.json")
                meta.categories = {str(c["name"]): int(c["id"]) for c in (data or {}).get("issue_categories") or []}
            except TrackerError:
                meta.categories = {}  # categories are a nicety; the component is in the description anyway
        return meta.categories.get(component)

    def _find_by_field(self, meta: Metadata, field_id: int, key: str) -> tuple[dict[str, Any] | None, bool]:
        """(issue, trusted): trusted means Redmine honoured the filter, so "no issue" is a real answer."""
        data = self.http.json("GET", "/issues.json", params={
            "project_id": meta.project_id, "status_id": "*", f"cf_{field_id}": key, "sort": "id:asc", "limit": 25})
        issues = (data or {}).get("issues") or []
        for issue in issues:
            if _field_value(issue, field_id) == key:
                return issue, True
        # A field not marked "Used as a filter" makes Redmine ignore cf_N and list everything; then
        # the answer proves nothing and the description must be searched.
        honoured = not issues and meta.filterable.get(field_id, True)
        return None, honoured

    def _find_by_key_line(self, meta: Metadata, key: str) -> int | None:
        """Tickets without a key field carry `reporter-app key: K` in their description."""
        data = self.http.json("GET", "/issues.json", params={
            "project_id": meta.project_id, "status_id": "*", "sort": "id:desc", "limit": RECENT_SCAN})
        for issue in (data or {}).get("issues") or []:
            if _description_has_key(issue.get("description") or "", key):
                return int(issue["id"])
        # Older tickets: Redmine's search is a database query, so it is consistent (no index lag).
        data = self.http.json("GET", f"/projects/{self.project}/search.json",
                              params={"q": key, "issues": 1, "limit": 25})
        for result in (data or {}).get("results") or []:
            if result.get("type", "").startswith("issue") and result.get("id"):
                issue = self._issue(int(result["id"]))
                if _description_has_key(issue.get("description") or "", key):
                    return int(result["id"])
        return None

    def _journals_for(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        issue_id, updated = int(issue["id"]), str(issue.get("updated_on") or "")
        cached = self._journals.get(issue_id)
        if cached is not None and cached[0] == updated:
            return cached[1]
        response = self.http.request("GET", f"/issues/{issue_id}.json", params={"include": "journals"})
        journals = list(((response.json() or {}).get("issue") or {}).get("journals") or [])
        # updated_on has one-second precision: a change later in the same second keeps it. Cache only
        # answers given after that second had passed (by the server's own Date header).
        if _server_second_passed(response.headers.get("Date"), updated):
            self._journals[issue_id] = (updated, journals)
        else:
            self._journals.pop(issue_id, None)
        return journals

    def _explain(self, response: requests.Response, detail: str) -> str:
        status, where = response.status_code, f"Redmine at {self.base_url}"
        request = response.request
        what = f"{request.method} {(request.path_url or '').split('?')[0]}" if request is not None else ""
        if status == 401:
            return (f"{where} rejected the API key (401 Unauthorized): store the right key with `reporter-app login` "
                    "(Redmine: My account -> API access key)")
        if status == 403:
            return (f"{where} refused {what} (403 Forbidden): the key's user lacks the permission, or the REST API "
                    "is off (Administration -> Settings -> API)")
        if status == 404:
            return f"{where}: {what} not found (404)"
        if status == 413:
            return (f"{where} (or a proxy in front of it) refused a too large request (413): "
                    "lower tracker.max_attachment_mb")
        if status == 422:
            return f"Redmine refused it (422): {detail or 'no reason given'}"
        return f"{where} answered {status} {response.reason or ''}".rstrip() + (f": {detail}" if detail else "") \
            + (f" ({what})" if what else "")


def _subject(report: Report) -> str:
    subject = " ".join(report.title.split())
    if not subject:
        first = report.description.strip().splitlines()
        subject = " ".join(first[0].split()) if first else "Bug report"
    return subject if len(subject) <= MAX_SUBJECT else subject[:MAX_SUBJECT - 3].rstrip() + "..."


def _server_second_passed(date_header: str | None, updated_on: str) -> bool:
    try:
        server_now = email.utils.parsedate_to_datetime(date_header or "")
        return server_now > parse_utc_iso(updated_on)
    except (TypeError, ValueError, IndexError):
        return False


def _field_value(issue: Mapping[str, Any], field_id: int) -> Any:
    for field in issue.get("custom_fields") or []:
        if field.get("id") == field_id:
            return field.get("value")
    return None


def _has_line(text: str, line: str) -> bool:
    return any(candidate.strip() == line for candidate in text.splitlines())


def _description_has_key(text: str, key: str) -> bool:
    """True when the key line names `key` as the report key or the fingerprint."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(KEY_MARKER):
            continue
        own, _, rest = line[len(KEY_MARKER):].partition(" ")
        if own == key or rest.strip().endswith(f"fingerprint: {key}"):
            return True
    return False


__all__ = ["RedmineTracker", "parse_pairs"]
