"""GitLab issues over REST v4 (gitlab.com or self-managed).

    create          POST /projects/:id/uploads per file (multipart `file`) -> Markdown links; then POST the issue
    find            GET /projects/:id/issues?labels=<first label>&state=all, newest first, scanning descriptions
                    for the hidden key line (a database query: no index lag)
    add_occurrence  a note carrying the duplicate's own key (so a retry does not post it twice) and the count of
                    distinct installations read from the description and the notes
    statuses        GET /projects/:id/issues?iids[]=..  (one call per 100 issues), notes only for changed issues
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock
from reporter_app.config.options import Option
from reporter_app.model import Report
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
from reporter_app.trackers.installations import InstallationCount, count_installations, report_tag
from reporter_app.trackers.markdown_text import (
    classification_labels,
    has_occurrence,
    is_ours,
    issue_body,
    newest_issue_with_key,
    occurrence_body,
    string_list,
    title,
)

DEFAULT_URL = "https://gitlab.com"
MAX_DESCRIPTION = 1_048_576  # GitLab's description and note limit, in characters
PAGE = 100


class GitLabTracker(Tracker):
    name = "gitlab"
    options = (
        Option("token", str, "", "GitLab personal, project or group access token with the `api` scope. Stored by "
               "`reporter-app login` or REPORTER_APP_TRACKER_TOKEN.", secret=True),
        Option("labels", list, ("reporter-app",), "Labels on every new issue (created in the project if missing). "
               "The first one is how reporter-app finds its issues again after a crash, so keep it stable."),
        Option("classify_with_labels", bool, True, "Also label new issues impact-<level>, reach-<level> and component-<name> "
               "(the priority label P1-P4 is always added)."),
        Option("max_attachment_mb", float, 100.0, "The instance's maximum attachment size (Admin -> Settings -> "
               "General -> Account and limit; gitlab.com: 100). Bigger screenshots are shrunk and logs trimmed.",
               minimum=0.01, maximum=10240),
        Option("log_excerpt_lines", int, 40, "Newest lines of each log shown collapsed in the description.",
               minimum=0, maximum=1000),
        Option("find_scan_limit", int, 300, "How many of the newest labelled issues are searched for a report's "
               "key when a send is retried.", minimum=100, maximum=5000),
    )

    def __init__(self, context: TrackerContext) -> None:
        settings = context.settings
        self.base_url = str(settings.get("url") or DEFAULT_URL).rstrip("/")
        if not re.match(r"https?://", self.base_url):
            raise ValueError(f"tracker.url {self.base_url!r} must be the GitLab address, e.g. {DEFAULT_URL}")
        self.project = str(settings.get("project") or "").strip().strip("/")
        if not self.project:
            raise ValueError("tracker.project is empty: set it to the project's numeric id or its path "
                             "(e.g. acme/app)")
        # A path goes in one URL segment: "acme/app" -> "acme%2Fapp", as GitLab documents.
        self.project_path = f"/projects/{quote(self.project, safe='')}"
        self.labels = string_list(settings.get("labels", ("reporter-app",)))
        self.classify = bool(settings.get("classify_with_labels", True))
        self.max_attachment_bytes = int(float(settings.get("max_attachment_mb") or 100.0) * 1024 * 1024)
        self.excerpt_lines = int(settings.get("log_excerpt_lines", 40))
        self.scan_limit = int(settings.get("find_scan_limit") or 300)
        self.token = context.token
        self.clock: Clock = context.clock or SystemClock()
        session = context.session if context.session is not None else requests.Session()
        self.http = HttpClient(
            session, self.base_url + "/api/v4", service=f"GitLab at {self.base_url}",
            headers={"PRIVATE-TOKEN": self.token or "", "Accept": "application/json"},
            timeout=timeouts(settings), clock=self.clock, explain=self._explain,
        )
        self._web_url = ""
        self._notes: dict[int, tuple[str, list[dict[str, Any]]]] = {}

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        if not self.token:
            return [CheckResult("tracker", False, "no GitLab token: run `reporter-app login` "
                                                  "(or set REPORTER_APP_TRACKER_TOKEN)")]
        try:
            user = self.http.json("GET", "/user") or {}
            project = self.http.json("GET", self.project_path) or {}
        except TrackerError as exc:
            if http_status(exc) == 404:
                return [CheckResult("tracker", False, f"GitLab project {self.project!r} not found, or the token's "
                                                      "user cannot see it (check tracker.project)")]
            return [CheckResult("tracker", False, exc.message)]
        if project.get("issues_enabled") is False:
            return [CheckResult("tracker", False, f"GitLab project {self.project} has issues turned off")]
        who = user.get("username", "?")
        return [CheckResult("tracker", True, f"GitLab project {project.get('path_with_namespace', self.project)} "
                                             f"reachable as {who}, issues enabled")]

    def limits(self) -> Limits:
        return Limits(max_attachment_bytes=self.max_attachment_bytes, max_title_chars=255,
                      max_description_chars=MAX_DESCRIPTION)

    def find(self, key: str) -> TicketRef | None:
        if not key:
            return None
        self.require_token()
        issue = newest_issue_with_key(
            lambda extra, page: self.http.json("GET", f"{self.project_path}/issues", params={
                **extra, "state": "all", "order_by": "created_at", "sort": "desc", "per_page": PAGE, "page": page}),
            self.labels, self.scan_limit, PAGE, lambda issue: issue.get("description") or "", key)
        return self._ref(issue) if issue is not None else None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        self.require_token()
        uploads, links, notes = self._upload_all(bundle)
        payload: dict[str, Any] = {
            "title": title(report),
            "description": issue_body(report, uploads, links, notes, MAX_DESCRIPTION, self.excerpt_lines),
        }
        # The priority as a label ("P2"; statuses() also reads scoped "priority::P2"), for the SLA clock.
        extra = classification_labels(report) if self.classify else [report.priority.value]
        payload["labels"] = ",".join(dict.fromkeys([*self.labels, *extra]))
        issue = self.http.json("POST", f"{self.project_path}/issues", json_body=payload)
        if not isinstance(issue, dict) or "iid" not in issue:
            raise RefusedError(f"GitLab created the issue in {self.project} but answered without its iid")
        return self._ref(issue)

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        self.require_token()
        iid = self.issue_iid(ref)
        loaded = self._load_notes(iid)
        if any(has_occurrence(n.get("body") or "", report.idempotency_key) for n in loaded):
            return  # an earlier attempt already posted it: a retry is harmless
        # The description, for the count: the listing by iid (the same call statuses() makes).
        found = self.http.json("GET", f"{self.project_path}/issues", params={"iids[]": [iid], "state": "all"}) or []
        issue = next((i for i in found if isinstance(i, dict) and int(i.get("iid", 0)) == iid), None)
        if issue is None:
            raise RefusedError(f"GitLab issue #{iid} no longer exists (or the token's user cannot see it)")
        installations = _installations(issue, loaded, own=report_tag(report))
        uploads, links, notes = self._upload_all(bundle)
        body = occurrence_body(report, uploads, links, notes, self.clock.now(), installations)
        self.http.request("POST", f"{self.project_path}/issues/{iid}/notes", json_body={"body": body})

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        if not text.strip():
            raise RefusedError("an empty comment was not sent to GitLab")
        self.require_token()
        iid = self.issue_iid(ref)
        self.http.request("POST", f"{self.project_path}/issues/{iid}/notes", json_body={"body": with_author(text, author)})

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        self.require_token()
        by_iid = {self.issue_iid(ref): ref for ref in refs}
        found: dict[str, TicketStatus] = {}
        iids = sorted(by_iid)
        for start in range(0, len(iids), PAGE):
            chunk = iids[start:start + PAGE]
            issues = self.http.json("GET", f"{self.project_path}/issues", params={
                "iids[]": chunk, "state": "all", "per_page": PAGE}) or []
            for issue in issues:
                iid = int(issue["iid"])
                if iid in by_iid:
                    found[by_iid[iid].key] = self._status(issue, self._notes_for(issue))
        return found

    # -- helpers -----------------------------------------------------------------------------
    def require_token(self) -> None:
        if not self.token:
            raise CredentialsError("no GitLab token: run `reporter-app login` (or set REPORTER_APP_TRACKER_TOKEN); "
                                   "it needs the api scope")

    def issue_iid(self, ref: TicketRef) -> int:
        text = ref.key.strip().lstrip("#")
        if not text.isdigit():
            match = re.search(r"/issues/(\d+)", ref.url)
            if not match:
                raise RefusedError(f"{ref.key!r} is not a GitLab issue number")
            text = match.group(1)
        return int(text)

    def _ref(self, issue: dict[str, Any]) -> TicketRef:
        return TicketRef(backend=self.name, key=f"#{issue['iid']}", url=str(issue.get("web_url") or ""))

    def _upload_all(self, bundle: Bundle) -> tuple[list[Upload], dict[str, str], list[str]]:
        fitted = fit_attachments(bundle, self.max_attachment_bytes, "GitLab's")
        return fitted.uploads, {u.filename: self._upload(u) for u in fitted.uploads}, list(fitted.notes)

    def _upload(self, upload: Upload) -> str:
        try:
            data = self.http.json("POST", f"{self.project_path}/uploads",
                                  files=[("file", (upload.filename, upload.data, upload.content_type))])
        except RefusedError as exc:
            hint = "; lower tracker.max_attachment_mb to the instance's limit" if http_status(exc) == 413 else ""
            raise RefusedError(f"GitLab refused the attachment {upload.filename}: {exc.message}{hint}") from exc
        url = str((data or {}).get("url") or "")
        if not url:
            raise RefusedError(f"GitLab accepted {upload.filename} but answered without its URL")
        return url  # "/uploads/<secret>/<name>": GitLab resolves it inside the project's issues and notes

    def _load_notes(self, iid: int) -> list[dict[str, Any]]:
        notes: list[dict[str, Any]] = []
        for page in range(1, 11):
            batch = self.http.json("GET", f"{self.project_path}/issues/{iid}/notes",
                                   params={"sort": "asc", "order_by": "created_at", "per_page": PAGE,
                                           "page": page}) or []
            notes.extend(batch)
            if len(batch) < PAGE:
                break
        return notes

    def _notes_for(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        iid, updated = int(issue["iid"]), str(issue.get("updated_at") or "")
        cached = self._notes.get(iid)
        if cached is not None and cached[0] == updated:
            return cached[1]
        notes = self._load_notes(iid)
        self._notes[iid] = (updated, notes)
        return notes

    def _status(self, issue: dict[str, Any], notes: list[dict[str, Any]]) -> TicketStatus:
        people = [n for n in notes if not n.get("system") and not is_ours(n.get("body") or "")]
        ours = sum(1 for n in notes if not n.get("system") and is_ours(n.get("body") or ""))
        installations = _installations(issue, notes)
        assignees = issue.get("assignees") or ([issue["assignee"]] if issue.get("assignee") else [])
        if issue.get("state") == "closed":
            state, words = TicketState.CLOSED, "closed"
        else:
            # GitLab keeps no "reopened" state: the last state change in the system notes tells.
            changes = [n.get("body") for n in notes if n.get("system") and n.get("body") in ("closed", "reopened")]
            if changes and changes[-1] == "reopened":
                state, words = TicketState.REOPENED, "opened (reopened)"
            elif assignees:
                state, words = TicketState.IN_PROGRESS, "opened (assigned)"
            else:
                state, words = TicketState.NEW, "opened"
        labels = [str(label) for label in issue.get("labels") or []]
        priority = next((lb.split("::")[-1] for lb in labels
                         if lb.split("::")[-1].upper() in ("P1", "P2", "P3", "P4")), "")
        milestone = issue.get("milestone") or {}
        return TicketStatus(
            ref=self._ref(issue), state=state, status_name=words,
            assignee=", ".join(str(a.get("username", "")) for a in assignees if isinstance(a, dict)),
            comments=[_note(n) for n in people],
            fixed_in=str(milestone.get("title") or "") if isinstance(milestone, dict) else "",
            updated_at=_time(issue.get("updated_at")), title=str(issue.get("title") or ""), priority=priority,
            occurrences=1 + ours, description=str(issue.get("description") or ""),
            created_at=_time(issue.get("created_at")),
            installations=installations.seen, installations_exact=installations.exact,
        )

    def _explain(self, response: requests.Response, detail: str) -> str:
        status = response.status_code
        request = response.request
        what = f"{request.method} {(request.path_url or '').split('?')[0]}" if request is not None else ""
        detail = _gitlab_detail(response) or detail
        if status == 401:
            return f"GitLab rejected the token (401 {detail or 'Unauthorized'}): store a valid one with " \
                   "`reporter-app login` (it needs the api scope)"
        if status == 403:
            return f"GitLab refused {what} (403 {detail or 'Forbidden'}): the token's user needs at least the " \
                   f"Reporter role in {self.project}"
        if status == 404:
            return f"GitLab: {what}: {detail or 'Not Found'} (404): check tracker.project"
        return f"GitLab refused {what} ({status}): {detail or response.reason or 'no reason given'}"


def _installations(issue: dict[str, Any], notes: list[dict[str, Any]], own: str | None = None) -> InstallationCount:
    """Distinct installations in the description and the (non-system) notes; past the 1,000 notes read, "at least"."""
    people_and_ours = [str(n.get("body") or "") for n in notes if not n.get("system")]
    all_read = len(people_and_ours) >= int(issue.get("user_notes_count") or 0)
    return count_installations([str(issue.get("description") or ""), *people_and_ours], own=own, all_read=all_read)


def _gitlab_detail(response: requests.Response) -> str:
    """GitLab's {"message": "..."} or {"message": {"field": ["problem"]}} or {"error": "..."} as one line."""
    data = json_object(response)
    if data is None:
        return body_excerpt(response)
    message = data.get("message", data.get("error"))
    if isinstance(message, dict):
        return "; ".join(f"{k} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in message.items())
    if isinstance(message, list):
        return "; ".join(map(str, message))
    return str(message or "")


def _note(note: dict[str, Any]) -> Comment:
    author, body = comment_author(str((note.get("author") or {}).get("username", "")), str(note.get("body") or ""))
    return Comment(id=str(note.get("id", "")), author=author, body=body, created_at=_time(note.get("created_at")))


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


__all__ = ["GitLabTracker"]
