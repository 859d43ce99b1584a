"""GitHub issue -> TicketStatus, the poller's ETag cache, and `doctor` checks for the GitHub backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reporter_app.trackers.attribution import comment_author
from reporter_app.trackers.base import (
    CheckResult,
    Comment,
    TicketRef,
    TicketState,
    TicketStatus,
    TrackerError,
)
from reporter_app.trackers.http import http_status
from reporter_app.trackers.installations import count_installations
from reporter_app.trackers.markdown_text import is_ours

if TYPE_CHECKING:
    from reporter_app.trackers.github import GitHubTracker, Repo


@dataclass
class IssueCache:
    """Per issue: the last body with its ETag, and its comments keyed by (comment count, updated_at).

    The status poller asks every few minutes; a 304 costs no rate limit and comments are only re-read
    when the issue says they changed.
    """

    issues: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    comment_lists: dict[int, tuple[tuple[int, str], list[dict[str, Any]]]] = field(default_factory=dict)

    def conditional_headers(self, number: int) -> dict[str, str]:
        cached = self.issues.get(number)
        return {"If-None-Match": cached[0]} if cached and cached[0] else {}

    def issue(self, number: int) -> dict[str, Any] | None:
        cached = self.issues.get(number)
        return cached[1] if cached else None

    def store(self, number: int, issue: dict[str, Any], etag: str) -> None:
        self.issues[number] = (etag, issue)

    def comments(self, number: int, issue: dict[str, Any],
                 load: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        stamp = (int(issue.get("comments") or 0), str(issue.get("updated_at") or ""))
        cached = self.comment_lists.get(number)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        comments = load() if stamp[0] else []
        self.comment_lists[number] = (stamp, comments)
        return comments


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def normalised_state(issue: dict[str, Any]) -> tuple[TicketState, str]:
    """(state, GitHub's own words): closed as completed is "resolved", not planned or duplicate is "closed"."""
    reason = str(issue.get("state_reason") or "")
    if issue.get("state") == "closed":
        if reason in ("", "completed"):
            return TicketState.RESOLVED, "closed (completed)"
        return TicketState.CLOSED, f"closed ({reason.replace('_', ' ')})"
    if reason == "reopened":
        return TicketState.REOPENED, "open (reopened)"
    if issue.get("assignees") or issue.get("assignee"):
        return TicketState.IN_PROGRESS, "open (assigned)"
    return TicketState.NEW, "open"


def ticket_status(ref: TicketRef, issue: dict[str, Any], comments: list[dict[str, Any]]) -> TicketStatus:
    state, words = normalised_state(issue)
    assignees = issue.get("assignees") or ([issue["assignee"]] if issue.get("assignee") else [])
    people = [c for c in comments if not is_ours(c.get("body") or "")]
    ours = len(comments) - len(people)
    installations = count_installations([str(issue.get("body") or ""), *(str(c.get("body") or "") for c in comments)],
                                        all_read=len(comments) >= int(issue.get("comments") or 0))
    milestone = issue.get("milestone") or {}
    priority = next((str(label.get("name")) for label in issue.get("labels") or []
                     if isinstance(label, dict) and str(label.get("name", "")).upper() in ("P1", "P2", "P3", "P4")), "")
    return TicketStatus(
        ref=ref, state=state, status_name=words,
        assignee=", ".join(str(a.get("login", "")) for a in assignees if isinstance(a, dict)),
        comments=[_comment(c) for c in people],
        fixed_in=str(milestone.get("title") or "") if isinstance(milestone, dict) else "",
        updated_at=_time(issue.get("updated_at")), title=str(issue.get("title") or ""),
        priority=priority, occurrences=1 + ours,
        description=str(issue.get("body") or ""), created_at=_time(issue.get("created_at")),
        installations=installations.seen, installations_exact=installations.exact,
    )


def _comment(data: dict[str, Any]) -> Comment:
    author, body = comment_author(str((data.get("user") or {}).get("login", "")), str(data.get("body") or ""))
    return Comment(id=str(data.get("id", "")), author=author, body=body, created_at=_time(data.get("created_at")))


# -- doctor ---------------------------------------------------------------------------------------
def run_checks(tracker: GitHubTracker) -> list[CheckResult]:
    if not tracker.token:
        return [CheckResult("tracker", False, "no GitHub token: run `reporter-app login` "
                                              "(or set REPORTER_APP_TRACKER_TOKEN)")]
    results: list[CheckResult] = []
    try:
        repo = _repository(tracker, tracker.repo)
    except TrackerError as exc:
        return [CheckResult("tracker", False, exc.message)]
    if repo is None:
        return [CheckResult("tracker", False, f"GitHub repository {tracker.repo} not found, or the token cannot see it "
                                              "(check tracker.repository and the token's repository access)")]
    if not repo.get("has_issues", True):
        results.append(CheckResult("tracker", False, f"{tracker.repo} has issues turned off (Settings -> Features)"))
    else:
        results.append(CheckResult("tracker", True, f"GitHub repository {tracker.repo} reachable, issues enabled"))
    push = (repo.get("permissions") or {}).get("push")
    if tracker.labels and push is False:
        results.append(CheckResult("labels", False, f"the token cannot push to {tracker.repo}, so GitHub drops the "
                                                    f"labels {', '.join(tracker.labels)}: give it Triage or Write"))
    results.extend(_attachment_checks(tracker))
    return results


def _repository(tracker: GitHubTracker, repo: Repo) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = tracker.http.json("GET", repo.path) or {}
    except TrackerError as exc:
        if http_status(exc) == 404:
            return None
        raise
    return data


def _attachment_checks(tracker: GitHubTracker) -> list[CheckResult]:
    repo = tracker.attachments_repo
    if repo is None:
        return [CheckResult("attachments", True, "no attachments repository: screenshots are not uploaded, logs are "
                                                 "shown as excerpts (set tracker.attachments_repository)")]
    try:
        data = _repository(tracker, repo)
        if data is None:
            return [CheckResult("attachments", False, f"attachments repository {repo} not found, or the token "
                                                      "cannot see it")]
        if (data.get("permissions") or {}).get("push") is False:
            return [CheckResult("attachments", False, f"the token cannot write to {repo} (needs Contents: write)")]
        tracker.http.json("GET", f"{repo.path}/branches/{tracker.branch}")
    except TrackerError as exc:
        if http_status(exc) == 404:
            return [CheckResult("attachments", False, f"branch {tracker.branch!r} does not exist in {repo}: "
                                                      "create it (or change tracker.attachments_branch)")]
        return [CheckResult("attachments", False, exc.message)]
    return [CheckResult("attachments", True, f"files go to {repo}@{tracker.branch}")]
