"""Jira Cloud (REST v3, ADF) and Jira Data Center (REST v2, wiki markup, PAT bearer).

    create          POST /issue with fields found in the project's createmeta, then POST /issue/{key}/attachments
                    per file (multipart `file`, X-Atlassian-Token: no-check), sized by /attachment/meta
    find            labels = "<key>": Cloud POST /search/jql with reconcileIssues (the ids this process created:
                    the index lags, and reconciled ids are read-after-write), Data Center /search
    add_occurrence  a comment carrying the duplicate's key line (checked first, so a retry does not repeat it) and
                    the count of distinct installations read from the description and the comments
    statuses        one search for `key in (...)` with status, assignee, fixVersions and comments

The report's idempotency key and fingerprint are labels: exact, indexed, and never shown as clutter.
"""

from __future__ import annotations

import base64
import re
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import requests

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock
from reporter_app.config.options import Option, parse_pairs
from reporter_app.model import Priority, Report
from reporter_app.trackers.attribution import comment_author, with_author
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
from reporter_app.trackers.fitting import Upload, fit_attachments
from reporter_app.trackers.http import (
    HttpClient,
    body_excerpt,
    http_status,
    json_object,
    timeouts,
)
from reporter_app.trackers.installations import count_installations, report_tag
from reporter_app.trackers.jira_meta import Metadata, load_metadata
from reporter_app.trackers.jira_text import (
    KEY_LINE,
    OCCURRENCE_LINE,
    adf_description,
    adf_doc,
    adf_occurrence,
    adf_paragraphs,
    adf_plain,
    wiki_description,
    wiki_occurrence,
)
from reporter_app.trackers.markdown_text import string_list

FLAVORS = ("cloud", "datacenter")
DEFAULT_PRIORITY_MAP = ("P1=Highest", "P2=High", "P3=Medium", "P4=Low")
MAX_SUMMARY = 254  # Jira: "Summary must be less than 255 characters"
METADATA_TTL_SECONDS = 600.0
RECONCILE_MAX = 50  # /search/jql accepts at most 50 reconcileIssues
BATCH = 50
STATUS_FIELDS = ["summary", "status", "assignee", "fixVersions", "priority", "updated", "resolution", "comment",
                 "description", "created"]


class JiraTracker(Tracker):
    name = "jira"
    options = (
        Option("token", str, "", "Jira Cloud: an API token (with tracker.email); Data Center: a personal access "
               "token. Stored by `reporter-app login` or REPORTER_APP_TRACKER_TOKEN.", secret=True),
        Option("flavor", str, "cloud", "cloud: Jira Cloud REST v3 (ADF); datacenter: Jira Data Center/Server "
               "REST v2 (wiki markup, PAT).", choices=FLAVORS),
        Option("email", str, "", "Cloud: the Atlassian account e-mail that owns the API token (basic auth). Empty: "
               "the token is sent as a bearer token (scoped tokens via https://api.atlassian.com/ex/jira/<cloudId>)."),
        Option("issue_type", str, "Bug", "Issue type of new tickets, by name."),
        Option("priority_map", list, DEFAULT_PRIORITY_MAP, "Priority P1..P4 -> Jira priority name, as 'P1=Highest' "
               "entries; empty: Jira's default priority."),
        Option("impact_field", str, "", "Field (name or id) that receives the impact; empty: an impact-<level> "
               "label."),
        Option("reach_field", str, "", "Field (name or id) that receives the reach; empty: a reach-<level> label."),
        Option("fixed_fields", list, (), "Fields set on every new ticket, as 'Field name=value' entries."),
        Option("labels", list, ("reporter-app",), "Labels on every new ticket (no spaces)."),
        Option("log_excerpt_lines", int, 40, "Newest lines of each log shown (collapsed) in the description.",
               minimum=0, maximum=1000),
    )

    def __init__(self, context: TrackerContext) -> None:
        settings = context.settings
        self.base_url = str(settings.get("url") or "").rstrip("/")
        if not re.match(r"https?://", self.base_url):
            raise ValueError(f"tracker.url {self.base_url!r} must be the Jira address, "
                             "e.g. https://acme.atlassian.net")
        self.project = str(settings.get("project") or "").strip()
        if not self.project:
            raise ValueError("tracker.project is empty: set it to the Jira project key (e.g. APP)")
        self.flavor = str(settings.get("flavor") or "cloud")
        if self.flavor not in FLAVORS:
            raise ValueError(f"tracker.flavor {self.flavor!r}: expected one of {', '.join(FLAVORS)}")
        self.cloud = self.flavor == "cloud"
        self.api = "/rest/api/3" if self.cloud else "/rest/api/2"
        self.issue_type = str(settings.get("issue_type") or "Bug")
        self.priority_map = parse_pairs(settings.get("priority_map", DEFAULT_PRIORITY_MAP), "priority_map")
        unknown = sorted(set(self.priority_map) - {p.value for p in Priority})
        if unknown:
            raise ValueError(f"tracker.priority_map: {', '.join(unknown)} is not a priority (use P1, P2, P3, P4)")
        self.impact_field = str(settings.get("impact_field") or "")
        self.reach_field = str(settings.get("reach_field") or "")
        self.fixed_fields = parse_pairs(settings.get("fixed_fields", ()), "fixed_fields")
        self.labels = string_list(settings.get("labels", ("reporter-app",)))
        bad = [label for label in self.labels if re.search(r"\s", label)]
        if bad:
            raise ValueError(f"tracker.labels: Jira labels cannot contain spaces ({', '.join(map(repr, bad))})")
        self.excerpt_lines = int(settings.get("log_excerpt_lines", 40))
        self.token = context.token
        self.clock: Clock = context.clock or SystemClock()
        email = str(settings.get("email") or "")
        if self.cloud and email:
            auth = "Basic " + base64.b64encode(f"{email}:{self.token or ''}".encode()).decode("ascii")
        else:
            auth = f"Bearer {self.token or ''}"
        session = context.session if context.session is not None else requests.Session()
        self.http = HttpClient(session, self.base_url, service=f"Jira at {self.base_url}",
                               headers={"Authorization": auth, "Accept": "application/json"},
                               timeout=timeouts(settings), clock=self.clock, explain=self._explain)
        self._meta: Metadata | None = None
        self._meta_at = 0.0
        # Ids of issues this process created: /search/jql reconciles them, so a retry finds them at once.
        self._recent: deque[int] = deque(maxlen=RECONCILE_MAX)

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        from reporter_app.trackers.jira_meta import run_checks

        return run_checks(self)

    def limits(self) -> Limits:
        return Limits(max_attachment_bytes=self.metadata().upload_limit, max_title_chars=MAX_SUMMARY,
                      max_description_chars=32767)

    def find(self, key: str) -> TicketRef | None:
        if not key:
            return None
        self.require_token()
        jql = f"project = {_quote(self.project)} AND labels = {_quote(key)} ORDER BY created DESC"
        for issue in self._search(jql, ["labels"], 5):
            if key in ((issue.get("fields") or {}).get("labels") or []):
                return self._ref(issue)
        return None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        self.require_token()
        meta = self.metadata()
        fitted = fit_attachments(bundle, meta.upload_limit, "Jira's") if meta.attachments_enabled else None
        uploads = fitted.uploads if fitted else []
        notes = list(fitted.notes) if fitted else ["attachments are turned off on this Jira: nothing attached"]
        description: Any = (adf_description(report, uploads, notes, self.excerpt_lines) if self.cloud
                            else wiki_description(report, uploads, notes, self.excerpt_lines))
        fields = self._fields(meta, report, description)
        data = self.http.json("POST", f"{self.api}/issue", json_body={"fields": fields})
        if not isinstance(data, dict) or not data.get("key"):
            raise RefusedError(f"Jira created the issue in {self.project} but answered without its key")
        if str(data.get("id", "")).isdigit():
            self._recent.append(int(data["id"]))
        ref = self._ref(data)
        # The issue exists now: a failed upload must not make the outbox retry (find would then stop it, and
        # the files would vanish silently). Failures are named in a comment on the ticket instead.
        failed = self._attach_all(ref.key, uploads)
        if failed:
            self._comment_best_effort(ref.key, "Not attached (the tracker refused them): " + "; ".join(failed))
        return ref

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        self.require_token()
        marker = KEY_LINE + report.idempotency_key
        comments, total = self._comments(ref.key)
        texts = [_body_text(comment.get("body")) for comment in comments]
        if any(marker in text for text in texts):
            return  # an earlier attempt already posted it: a retry is harmless
        issue = self._issue(ref.key, ["description"])
        if issue is None:
            raise RefusedError(f"Jira issue {ref.key} no longer exists (or the account cannot see it)")
        description = _body_text((issue.get("fields") or {}).get("description"))
        # Only the newest 100 comments are listed: beyond that the count is a lower bound, and says so. So is it when
        # the project's screen has no description field: the first report's machine left no marker.
        installations = count_installations([description, *texts], own=report_tag(report),
                                            all_read=total <= len(comments) and bool(description.strip()))
        meta = self.metadata()
        fitted = fit_attachments(bundle, meta.upload_limit, "Jira's") if meta.attachments_enabled else None
        # Files of a "+1" get the report's short id in front, so they don't shadow the first report's.
        uploads = [Upload(u.attachment, f"{report.id[:8]}-{u.filename}", u.data, u.content_type, u.note)
                   for u in (fitted.uploads if fitted else [])]
        notes = list(fitted.notes) if fitted else []
        notes.extend(f"not attached: {f}" for f in self._attach_all(ref.key, uploads))
        now = self.clock.now()
        body: Any = adf_occurrence(report, uploads, notes, now, installations) if self.cloud else \
            wiki_occurrence(report, uploads, notes, now, installations)
        self.http.request("POST", f"{self.api}/issue/{ref.key}/comment", json_body={"body": body})

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        if not text.strip():
            raise RefusedError("an empty comment was not sent to Jira")
        self.require_token()
        full = with_author(text, author)
        # Cloud v3 takes comments as ADF only; Data Center v2 takes wiki markup, where plain text is fine.
        body: Any = adf_doc(adf_paragraphs(full)) if self.cloud else full
        try:
            self.http.request("POST", f"{self.api}/issue/{ref.key}/comment", json_body={"body": body})
        except RefusedError as exc:
            if http_status(exc) == 404:
                raise RefusedError(f"Jira issue {ref.key} no longer exists (or the account cannot see it)") from exc
            raise

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        self.require_token()
        keys = sorted({ref.key for ref in refs})
        found: dict[str, TicketStatus] = {}
        for start in range(0, len(keys), BATCH):
            chunk = keys[start:start + BATCH]
            try:
                issues = self._search(f"key in ({', '.join(map(_quote, chunk))})", STATUS_FIELDS, len(chunk))
            except RefusedError as exc:
                # JQL fails as a whole when one key no longer exists (deleted or moved): ask one by one.
                if http_status(exc) != 400:
                    raise
                issues = [i for i in (self._issue(k, STATUS_FIELDS) for k in chunk) if i is not None]
            for issue in issues:
                found[str(issue["key"])] = self._status(issue)
        return found

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self, refresh: bool = False) -> Metadata:
        self.require_token()
        now = self.clock.monotonic()
        if refresh or self._meta is None or now - self._meta_at > METADATA_TTL_SECONDS:
            self._meta = load_metadata(self)
            self._meta_at = now
        return self._meta

    def require_token(self) -> None:
        if not self.token:
            raise CredentialsError("no Jira token: run `reporter-app login` (or set REPORTER_APP_TRACKER_TOKEN)")

    # -- helpers -----------------------------------------------------------------------------
    def _fields(self, meta: Metadata, report: Report, description: Any) -> dict[str, Any]:
        summary = " ".join(report.title.split()) or "Bug report"
        if len(summary) > MAX_SUMMARY:
            summary = summary[:MAX_SUMMARY - 3].rstrip() + "..."
        fields: dict[str, Any] = {"project": {"key": self.project}, "issuetype": {"id": meta.issue_type_id},
                                  "summary": summary}
        if "description" in meta.screen:
            fields["description"] = description
        labels = list(self.labels) + [report.idempotency_key] + ([report.fingerprint] if report.fingerprint else [])
        for setting, value in ((self.impact_field, report.impact.value), (self.reach_field, report.reach.value)):
            fid = meta.field_id(setting)
            if fid is not None and fid in meta.screen:
                fields[fid] = meta.value_for(fid, value, self.cloud)
        if not self.impact_field:
            labels.append(f"impact-{report.impact.value}")
        if not self.reach_field:
            labels.append(f"reach-{report.reach.value}")
        if "labels" in meta.screen:
            fields["labels"] = labels
        priority = self.priority_map.get(report.priority.value)
        if priority and "priority" in meta.screen and (not meta.screen["priority"].allowed
                                                       or priority in meta.screen["priority"].allowed):
            fields["priority"] = {"name": priority}
        if report.component and "components" in meta.screen and report.component in meta.screen["components"].allowed:
            fields["components"] = [{"name": report.component}]
        for name, value in self.fixed_fields.items():
            fid = meta.field_id(name)
            if fid is not None and fid in meta.screen:  # unknown names are reported by check(), never guessed
                fields[fid] = meta.value_for(fid, value, self.cloud)
        return fields

    def _search(self, jql: str, fields: list[str], max_results: int) -> list[dict[str, Any]]:
        if self.cloud:
            body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": max_results}
            if self._recent:
                body["reconcileIssues"] = list(self._recent)
            data = self.http.json("POST", f"{self.api}/search/jql", json_body=body)
        else:
            data = self.http.json("POST", f"{self.api}/search", json_body={
                "jql": jql, "fields": fields, "maxResults": max_results, "startAt": 0})
        return list((data or {}).get("issues") or [])

    def _issue(self, key: str, fields: list[str]) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = self.http.json("GET", f"{self.api}/issue/{key}",
                                                  params={"fields": ",".join(fields)}) or {}
        except RefusedError as exc:
            if http_status(exc) == 404:
                return None
            raise
        return data

    def _comments(self, key: str) -> tuple[list[dict[str, Any]], int]:
        """The newest 100 comments, and how many the issue has in all."""
        data = self.http.json("GET", f"{self.api}/issue/{key}/comment",
                              params={"orderBy": "-created", "maxResults": 100}) or {}
        comments = list(data.get("comments") or [])
        return comments, int(data.get("total") or len(comments))

    def _attach_all(self, key: str, uploads: list[Upload]) -> list[str]:
        failed: list[str] = []
        for upload in uploads:
            try:
                # X-Atlassian-Token: without it Jira answers "XSRF check failed"; requests sets the multipart type.
                self.http.request("POST", f"{self.api}/issue/{key}/attachments", headers={
                    "X-Atlassian-Token": "no-check"}, files=[("file", (upload.filename, upload.data,
                                                                       upload.content_type))])
            except TrackerError as exc:
                failed.append(f"{upload.filename} ({exc.message})")
        return failed

    def _comment_best_effort(self, key: str, text: str) -> None:
        body: Any = adf_doc(adf_paragraphs(text)) if self.cloud else text
        try:
            self.http.request("POST", f"{self.api}/issue/{key}/comment", json_body={"body": body})
        except TrackerError:
            pass  # the attachments are still in the report on disk; nothing more can be said to Jira now

    def _ref(self, issue: dict[str, Any]) -> TicketRef:
        key = str(issue["key"])
        return TicketRef(backend=self.name, key=key, url=f"{self.base_url}/browse/{key}")

    def _status(self, issue: dict[str, Any]) -> TicketStatus:
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        name = str(status.get("name") or "")
        category = str((status.get("statusCategory") or {}).get("key") or "")
        if "reopen" in name.lower():
            state = TicketState.REOPENED
        elif category == "done":
            state = TicketState.CLOSED if name.lower() == "closed" else TicketState.RESOLVED
        elif category == "indeterminate":
            state = TicketState.IN_PROGRESS
        else:
            state = TicketState.NEW
        comments = [c for c in (fields.get("comment") or {}).get("comments") or [] if isinstance(c, dict)]
        texts = [_body_text(c.get("body")) for c in comments]
        people = [c for c, t in zip(comments, texts) if KEY_LINE not in t]
        ours = sum(1 for t in texts if t.startswith(OCCURRENCE_LINE))
        listed = fields.get("comment") or {}
        description = _body_text(fields.get("description"))
        installations = count_installations(  # a lower bound past the comments listed, or without a description
            [description, *texts],
            all_read=int(listed.get("total") or len(comments)) <= len(comments) and bool(description.strip()))
        assignee = fields.get("assignee") or {}
        return TicketStatus(
            ref=self._ref(issue), state=state, status_name=name,
            assignee=str(assignee.get("displayName") or assignee.get("name") or "") if assignee else "",
            comments=[_comment(c) for c in people],
            fixed_in=", ".join(str(v.get("name")) for v in fields.get("fixVersions") or [] if isinstance(v, dict)),
            updated_at=_time(fields.get("updated")), title=str(fields.get("summary") or ""),
            priority=str((fields.get("priority") or {}).get("name") or ""), occurrences=1 + ours,
            description=_description_text(fields.get("description")), created_at=_time(fields.get("created")),
            installations=installations.seen, installations_exact=installations.exact,
        )

    def _explain(self, response: requests.Response, detail: str) -> str:
        status, where = response.status_code, f"Jira at {self.base_url}"
        request = response.request
        what = f"{request.method} {(request.path_url or '').split('?')[0]}" if request is not None else ""
        detail = jira_detail(response) or detail
        if status == 401:
            hint = ("check tracker.email and the API token (a scoped token only works through "
                    "https://api.atlassian.com/ex/jira/<cloudId>)") if self.cloud else \
                "store a valid personal access token with `reporter-app login`"
            return f"{where} rejected the credentials (401): {hint}"
        if status == 403:
            return f"{where} refused {what} (403): {detail or 'the account lacks the permission'}"
        if status == 404:
            return f"{where}: {what}: {detail or 'not found'} (404)"
        if status == 413:
            return f"{where} refused a too large attachment (413): {detail or 'over the attachment limit'}"
        return f"Jira refused {what} ({status}): {detail or response.reason or 'no reason given'}"


def jira_detail(response: requests.Response) -> str:
    """Jira's {"errorMessages": [...], "errors": {"field": "message"}} as one readable line."""
    data = json_object(response)
    if data is None:
        return body_excerpt(response)
    parts = [str(m) for m in data.get("errorMessages") or []]
    errors = data.get("errors")
    if isinstance(errors, dict):
        parts.extend(f"{k}: {v}" for k, v in errors.items())
    return "; ".join(parts) or body_excerpt(response)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(data: dict[str, Any]) -> Comment:
    account = str((data.get("author") or {}).get("displayName", ""))
    author, body = comment_author(account, _body_text(data.get("body")).strip())
    return Comment(id=str(data.get("id", "")), author=author, body=body, created_at=_time(data.get("created")))


def _description_text(body: Any) -> str:
    # Headings kept as "### X" so stats can read the post-incident sections back (Data Center: "h3. X" as is).
    return (adf_plain(body, headings=True) if isinstance(body, dict) else str(body or "")).strip()


def _body_text(body: Any) -> str:
    return adf_plain(body) if isinstance(body, dict) else str(body or "")


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None


__all__ = ["JiraTracker"]
