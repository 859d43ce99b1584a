"""GitHub Issues over REST (api.github.com or GitHub Enterprise's /api/v3).

    create          PUT /repos/{attachments repo}/contents/reports/<report id>/<file> per file (the REST API
                    cannot attach files to issues), then POST /repos/{repo}/issues linking them
    find            GET /repos/{repo}/issues?labels=<first label>&state=all, newest first, scanning bodies for
                    the hidden key line; this listing is strongly consistent, /search/issues lags minutes
    add_occurrence  a comment carrying the duplicate's own key (so a retry does not post it twice) and the count of
                    distinct installations read from the issue body and its comments
    statuses        GET /repos/{repo}/issues/{n} with ETags (a 304 costs no rate limit), comments when changed

Rate limits: 429, and 403 with `retry-after` or `x-ratelimit-remaining: 0` (primary and secondary limits) are
transient; any other 403 is a permission problem.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from reporter_app.bundle import Bundle
from reporter_app.clock import Clock, SystemClock
from reporter_app.config.options import Option
from reporter_app.model import Report
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
    TransientError,
)
from reporter_app.trackers.fitting import Upload, fit_attachments
from reporter_app.trackers.github_status import IssueCache, ticket_status
from reporter_app.trackers.http import (
    HttpClient,
    body_excerpt,
    http_status,
    json_object,
    parse_retry_after,
    timeouts,
)
from reporter_app.trackers.installations import count_installations, report_tag
from reporter_app.trackers.markdown_text import (
    classification_labels,
    has_occurrence,
    issue_body,
    newest_issue_with_key,
    occurrence_body,
    string_list,
    title,
)

if TYPE_CHECKING:  # tracking imports the trackers; at run time these are imported where used
    from reporter_app.tracking.poller import ConditionalResult
    from reporter_app.tracking.store import Validators

API_URL = "https://api.github.com"
MAX_BODY = 65536  # GitHub's issue and comment body limit, in characters
PAGE = 100
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute" when a secondary limit gives no header
ATTACHMENTS_DIR = "reports"


class GitHubHttp(HttpClient):
    """HttpClient that knows GitHub answers rate limits with 403 as well as 429."""

    def error_for(self, response: requests.Response) -> TrackerError | None:
        if response.status_code in (403, 429) and _rate_limited(response):
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock.now())
            if retry_after is None and response.headers.get("x-ratelimit-remaining") == "0":
                reset = response.headers.get("x-ratelimit-reset", "")
                if reset.isdigit():
                    retry_after = max(float(reset) - self.clock.now().timestamp(), 0.0)
            if retry_after is None:
                retry_after = SECONDARY_LIMIT_WAIT
            detail = _github_detail(response)
            error = TransientError(f"GitHub rate limit ({response.status_code}): {detail or 'try again later'}",
                                   retry_after)
            setattr(error, "http_status", response.status_code)
            return error
        return super().error_for(response)


def _rate_limited(response: requests.Response) -> bool:
    if response.status_code == 429 or "retry-after" in response.headers:
        return True
    if response.headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in (response.text or "")[:500].lower()


def _github_detail(response: requests.Response) -> str:
    """GitHub's {"message", "errors": [{"resource","field","code","message"}]} as one readable line."""
    data = json_object(response)
    if data is None:
        return body_excerpt(response)
    parts = [str(data.get("message") or "").strip()]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            text = error.get("message") or " ".join(
                str(error[k]) for k in ("resource", "field", "code") if error.get(k))
            parts.append(str(text))
        else:
            parts.append(str(error))
    return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str

    @classmethod
    def parse(cls, text: str, setting: str) -> Repo:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)\s*", text or "")
        if not match:
            raise ValueError(f"tracker.{setting} {text!r} must be owner/name, e.g. acme/app")
        return cls(match.group(1), match.group(2))

    @property
    def path(self) -> str:
        return f"/repos/{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubTracker(Tracker):
    name = "github"
    options = (
        Option("token", str, "", "GitHub token (fine-grained: Issues read/write, plus Contents read/write on the "
               "attachments repository). Stored by `reporter-app login` or REPORTER_APP_TRACKER_TOKEN.", secret=True),
        Option("repository", str, "", "owner/name of the repository that receives the issues (default: "
               "tracker.project)."),
        Option("labels", list, ("reporter-app",), "Labels on every new issue. The first one is how reporter-app "
               "finds its issues again after a crash, so keep it stable."),
        Option("classify_with_labels", bool, True, "Also label new issues impact-<level>, reach-<level> and component-<name> "
               "(the priority label P1-P4 is always added)."),
        Option("attachments_repository", str, "", "owner/name that stores screenshots and logs (committed through "
               "the contents API and linked from the issue); empty: no files, log excerpts only."),
        Option("attachments_branch", str, "reporter-app-attachments", "Existing branch of the attachments "
               "repository that receives the files."),
        Option("max_attachment_mb", float, 25.0, "Largest file committed per attachment; bigger screenshots are "
               "shrunk and logs trimmed to fit.", minimum=0.01, maximum=100),
        Option("log_excerpt_lines", int, 40, "Newest lines of each log shown collapsed in the issue body.",
               minimum=0, maximum=1000),
        Option("find_scan_limit", int, 300, "How many of the newest labelled issues are searched for a report's "
               "key when a send is retried.", minimum=100, maximum=5000),
    )

    def __init__(self, context: TrackerContext) -> None:
        settings = context.settings
        self.api_url = str(settings.get("url") or API_URL).rstrip("/")
        if not re.match(r"https?://", self.api_url):
            raise ValueError(f"tracker.url {self.api_url!r} must be the API address, e.g. {API_URL} "
                             "(GitHub Enterprise: https://github.example.com/api/v3)")
        self.repo = Repo.parse(str(settings.get("repository") or settings.get("project") or ""), "repository")
        attachments = str(settings.get("attachments_repository") or "")
        self.attachments_repo = Repo.parse(attachments, "attachments_repository") if attachments else None
        self.branch = str(settings.get("attachments_branch") or "reporter-app-attachments")
        self.labels = string_list(settings.get("labels", ("reporter-app",)))
        self.classify = bool(settings.get("classify_with_labels", True))
        self.max_attachment_bytes = int(float(settings.get("max_attachment_mb") or 25.0) * 1024 * 1024)
        self.excerpt_lines = int(settings.get("log_excerpt_lines", 40))
        self.scan_limit = int(settings.get("find_scan_limit") or 300)
        self.token = context.token
        self.clock: Clock = context.clock or SystemClock()
        session = context.session if context.session is not None else requests.Session()
        self.http = GitHubHttp(
            session, self.api_url, service=f"GitHub at {self.api_url}",
            headers={"Authorization": f"Bearer {self.token or ''}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28"},
            timeout=timeouts(settings), clock=self.clock, explain=self._explain,
        )
        self._cache = IssueCache()

    # -- verbs -----------------------------------------------------------------------------
    def check(self) -> list[CheckResult]:
        from reporter_app.trackers.github_status import run_checks

        return run_checks(self)

    def limits(self) -> Limits:
        return Limits(max_attachment_bytes=self.max_attachment_bytes if self.attachments_repo else None,
                      max_title_chars=255, max_description_chars=MAX_BODY)

    def find(self, key: str) -> TicketRef | None:
        if not key:
            return None
        self.require_token()
        issue = newest_issue_with_key(
            lambda extra, page: self.http.json("GET", f"{self.repo.path}/issues", params={
                **extra, "state": "all", "sort": "created", "direction": "desc", "per_page": PAGE, "page": page}),
            self.labels, self.scan_limit, PAGE,
            lambda issue: None if "pull_request" in issue else issue.get("body") or "", key)
        return self._ref(issue) if issue is not None else None

    def create(self, report: Report, bundle: Bundle) -> TicketRef:
        self.require_token()
        uploads, links, notes = self._commit_files(report, bundle)
        body = issue_body(report, uploads, links, notes, MAX_BODY, self.excerpt_lines)
        payload: dict[str, Any] = {"title": title(report), "body": body}
        # The priority as a label ("P2"): GitHub has no priority field, and statuses() reads it back so
        # the SLA follows engineering when they relabel it.
        labels = [*self.labels, *(classification_labels(report) if self.classify else [report.priority.value])]
        payload["labels"] = list(dict.fromkeys(labels))
        issue = self.http.json("POST", f"{self.repo.path}/issues", json_body=payload)
        if not isinstance(issue, dict) or "number" not in issue:
            raise RefusedError(f"GitHub created the issue in {self.repo} but answered without its number")
        return self._ref(issue)

    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        self.require_token()
        number = self.issue_number(ref)
        comments = self._comments(number)
        if any(has_occurrence(c.get("body") or "", report.idempotency_key) for c in comments):
            return  # an earlier attempt already posted it: a retry is harmless
        issue = self._issue_if_changed(number)  # the body, for the count (a 304 from the cache is free)
        if issue is None:
            raise RefusedError(f"GitHub issue #{number} no longer exists (or the token cannot see it)")
        installations = count_installations(
            [str(issue.get("body") or ""), *(str(c.get("body") or "") for c in comments)], own=report_tag(report),
            all_read=len(comments) >= int(issue.get("comments") or 0))  # past 1,000 comments: "at least"
        uploads, links, notes = self._commit_files(report, bundle)
        body = occurrence_body(report, uploads, links, notes, self.clock.now(), installations)
        self.http.request("POST", f"{self.repo.path}/issues/{number}/comments", json_body={"body": body[:MAX_BODY]})

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        if not text.strip():
            raise RefusedError("an empty comment was not sent to GitHub")
        self.require_token()
        number = self.issue_number(ref)
        body = with_author(text, author)
        if len(body) > MAX_BODY:
            raise RefusedError(f"the comment is {len(body)} characters; GitHub takes at most {MAX_BODY}")
        self.http.request("POST", f"{self.repo.path}/issues/{number}/comments", json_body={"body": body})

    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        self.require_token()
        found: dict[str, TicketStatus] = {}
        for ref in refs:
            number = self.issue_number(ref)
            issue = self._issue_if_changed(number)
            if issue is None:
                continue
            comments = self._cache.comments(number, issue, functools.partial(self._comments, number))
            found[ref.key] = ticket_status(self._ref(issue), issue, comments)
        return found

    def statuses_conditional(self, refs: Sequence[TicketRef],
                             validators: Mapping[str, Validators]) -> ConditionalResult:
        """The poller's form of statuses(): its stored ETags go out as If-None-Match, and a 304 (which
        costs no rate limit) means "unchanged", so the ticket is skipped. Survives restarts, unlike the
        in-memory cache statuses() uses."""
        from reporter_app.tracking.poller import ConditionalResult
        from reporter_app.tracking.store import Validators

        self.require_token()
        result = ConditionalResult(statuses={})
        for ref in refs:
            number = self.issue_number(ref)
            etag = validators[ref.key].etag if ref.key in validators else ""
            response = self.http.send("GET", f"{self.repo.path}/issues/{number}",
                                      headers={"If-None-Match": etag} if etag else None)
            if response.status_code == 304:
                result.not_modified.add(ref.key)
                continue
            error = self.http.error_for(response)
            if error is not None:
                if http_status(error) in (404, 410):
                    continue  # gone: left out, as statuses() does
                raise error
            issue: dict[str, Any] = response.json()
            self._cache.store(number, issue, response.headers.get("ETag", ""))
            comments = self._cache.comments(number, issue, functools.partial(self._comments, number))
            result.statuses[ref.key] = ticket_status(self._ref(issue), issue, comments)
            result.validators[ref.key] = Validators(etag=response.headers.get("ETag", ""),
                                                    last_modified=response.headers.get("Last-Modified", ""))
        return result

    # -- helpers -----------------------------------------------------------------------------
    def require_token(self) -> None:
        if not self.token:
            raise CredentialsError("no GitHub token: run `reporter-app login` (or set REPORTER_APP_TRACKER_TOKEN); "
                                   "it needs Issues read/write on " + str(self.repo))

    def issue_number(self, ref: TicketRef) -> int:
        text = ref.key.strip().lstrip("#")
        if not text.isdigit():
            match = re.search(r"/issues/(\d+)", ref.url)
            if not match:
                raise RefusedError(f"{ref.key!r} is not a GitHub issue number")
            text = match.group(1)
        return int(text)

    def _ref(self, issue: dict[str, Any]) -> TicketRef:
        number = int(issue["number"])
        url = str(issue.get("html_url") or f"https://github.com/{self.repo}/issues/{number}")
        return TicketRef(backend=self.name, key=f"#{number}", url=url)

    def _issue_if_changed(self, number: int) -> dict[str, Any] | None:
        """The issue, from cache when GitHub says 304; None when it is gone (404/410)."""
        headers = self._cache.conditional_headers(number)
        path = f"{self.repo.path}/issues/{number}"
        response = self.http.send("GET", path, headers=headers)
        if response.status_code == 304:
            return self._cache.issue(number)
        error = self.http.error_for(response)
        if error is not None:
            if http_status(error) in (404, 410):
                return None
            raise error
        issue: dict[str, Any] = response.json()
        self._cache.store(number, issue, response.headers.get("ETag", ""))
        return issue

    def _comments(self, number: int) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        for page in range(1, 11):  # 1,000 comments is plenty for a bug report
            batch = self.http.json("GET", f"{self.repo.path}/issues/{number}/comments",
                                   params={"per_page": PAGE, "page": page}) or []
            comments.extend(batch)
            if len(batch) < PAGE:
                break
        return comments

    def _commit_files(self, report: Report, bundle: Bundle) -> tuple[list[Upload], dict[str, str], list[str]]:
        """Fitted uploads, filename -> link for those committed, and notes on what changed or was left out."""
        if self.attachments_repo is None:
            fitted = fit_attachments(bundle, None)
            notes = list(fitted.notes)
            files = [u.filename for u in fitted.uploads if u.attachment.kind != "log"]
            if files:
                notes.append("not attached (no tracker.attachments_repository is configured): " + ", ".join(files))
            return fitted.uploads, {}, notes
        fitted = fit_attachments(bundle, self.max_attachment_bytes, "the configured")
        links = {u.filename: self._commit(report, u) for u in fitted.uploads}
        return fitted.uploads, links, list(fitted.notes)

    def _commit(self, report: Report, upload: Upload) -> str:
        assert self.attachments_repo is not None
        repo = self.attachments_repo
        file_path = f"{ATTACHMENTS_DIR}/{report.id}/{upload.filename}"
        url_path = f"{repo.path}/contents/{quote(file_path)}"
        payload = {"message": f"reporter-app: {upload.filename} of report {report.id}",
                   "content": base64.b64encode(upload.data).decode("ascii"), "branch": self.branch}
        try:
            data = self.http.json("PUT", url_path, json_body=payload)
        except RefusedError as exc:
            # 422 "sha wasn't supplied": an earlier attempt already committed this file (paths are per report).
            if http_status(exc) != 422:
                raise RefusedError(f"GitHub refused to store {upload.filename} in {repo}@{self.branch}: "
                                   f"{exc.message}") from exc
            data = {"content": self.http.json("GET", url_path, params={"ref": self.branch})}
        content = (data or {}).get("content") or {}
        html = str(content.get("html_url") or f"https://github.com/{repo}/blob/{self.branch}/{quote(file_path)}")
        # ?raw=true serves the bytes, so screenshots render inline (also for private repositories).
        return html + "?raw=true" if upload.content_type.startswith("image/") else html

    def _explain(self, response: requests.Response, detail: str) -> str:
        status = response.status_code
        request = response.request
        what = f"{request.method} {(request.path_url or '').split('?')[0]}" if request is not None else ""
        detail = _github_detail(response) or detail
        if status == 401:
            return ("GitHub rejected the token (401 Bad credentials): store a valid one with `reporter-app login`")
        if status == 403:
            return (f"GitHub refused {what} (403): {detail or 'forbidden'}; the token needs Issues: write on "
                    f"{self.repo}" + (f" and Contents: write on {self.attachments_repo}" if self.attachments_repo
                                      else ""))
        if status == 404:
            return (f"GitHub: {what}: {detail or 'Not Found'} (404): the repository does not exist or the token "
                    "cannot see it")
        if status == 413:
            return f"GitHub refused a too large request (413): lower tracker.max_attachment_mb ({what})"
        return f"GitHub refused {what} ({status}): {detail or response.reason or 'no reason given'}"


__all__ = ["GitHubTracker"]
