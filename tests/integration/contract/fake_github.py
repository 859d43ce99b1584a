"""A GitHub REST fake: requests checked against ../shared/specs/github-rest-2020-08.json, answers as documented.

State: repositories with issues, comments, labels, branches and committed files. Engineers' actions
(close, assign, milestone, comment) go through `engineer()`, as a person would click them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from tests.integration.contract import openapi
from tests.integration.contract.fakeserver import FakeServer, Reply, Request, route

DOCS = "https://docs.github.com/rest"
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def gh_error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Reply:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
    if errors is not None:
        body["errors"] = errors
    return Reply(status, body)


@dataclass
class FakeRepo:
    full_name: str
    push: bool = True
    has_issues: bool = True
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    branches: set[str] = field(default_factory=lambda: {"main"})
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)


class FakeGitHub(FakeServer):
    name = "github"
    token = "ghp_test"
    me = "reporter-bot"

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self._ids = itertools.count(1000)
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        self.api = openapi.load("github-rest-2020-08.json")
        super().__init__()

    def add_repo(self, full_name: str, **kw: Any) -> FakeRepo:
        self.repos[full_name] = FakeRepo(full_name, **kw)
        return self.repos[full_name]

    def now(self) -> str:
        self._clock = self.tick(self._clock)  # every change moves updated_at
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- contract ----------------------------------------------------------------------------
    def validate(self, request: Request) -> list[str]:
        problems = self.api.check(request.method, request.path, request.query, request.headers, request.body)
        if request.headers.get("accept") != "application/vnd.github+json":
            problems.append(f"Accept is {request.headers.get('accept')!r}, GitHub documents application/vnd.github+json")
        if not request.headers.get("x-github-api-version"):
            problems.append("X-GitHub-Api-Version header missing")
        return problems

    def authorize(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return gh_error(401, "Bad credentials")
        return None

    def _repo(self, owner: str, repo: str) -> FakeRepo | None:
        return self.repos.get(f"{owner}/{repo}")

    # -- repositories ------------------------------------------------------------------------
    @route("GET", REPO)
    def get_repo(self, request: Request, owner: str, repo: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None:
            return gh_error(404, "Not Found")
        return Reply(200, {"id": 1, "full_name": found.full_name, "has_issues": found.has_issues, "private": True,
                           "permissions": {"admin": False, "push": found.push, "pull": True}})

    @route("GET", REPO + r"/branches/(?P<branch>[^/]+)")
    def get_branch(self, request: Request, owner: str, repo: str, branch: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None or unquote(branch) not in found.branches:
            return gh_error(404, "Branch not found")
        return Reply(200, {"name": unquote(branch), "commit": {"sha": "0" * 40}, "protected": False})

    @route("PUT", REPO + r"/contents/(?P<path>.+)")
    def put_contents(self, request: Request, owner: str, repo: str, path: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None:
            return gh_error(404, "Not Found")
        data = request.json()
        branch = data.get("branch", "main")
        if branch not in found.branches:
            return gh_error(404, f"Branch {branch} not found")
        key = (branch, unquote(path))
        if key in found.files and "sha" not in data:
            return gh_error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if not found.push:
            return gh_error(403, "Resource not accessible by personal access token")
        found.files[key] = base64.b64decode(data["content"], validate=True)
        return Reply(201, {"content": self._content(found, key), "commit": {"sha": "1" * 40}})

    @route("GET", REPO + r"/contents/(?P<path>.+)")
    def get_contents(self, request: Request, owner: str, repo: str, path: str) -> Reply:
        found = self._repo(owner, repo)
        key = (request.q("ref", "main"), unquote(path))
        if found is None or key not in found.files:
            return gh_error(404, "Not Found")
        return Reply(200, {**self._content(found, key), "type": "file", "encoding": "base64",
                           "content": base64.b64encode(found.files[key]).decode()})

    def _content(self, repo: FakeRepo, key: tuple[str, str]) -> dict[str, Any]:
        branch, path = key
        return {"name": path.rsplit("/", 1)[-1], "path": path, "sha": hashlib.sha1(repo.files[key]).hexdigest(),
                "size": len(repo.files[key]), "html_url": f"https://github.com/{repo.full_name}/blob/{branch}/{path}",
                "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{branch}/{path}?token=T"}

    # -- issues ------------------------------------------------------------------------------
    @route("POST", REPO + "/issues")
    def create_issue(self, request: Request, owner: str, repo: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None:
            return gh_error(404, "Not Found")
        if not found.has_issues:
            return gh_error(410, "Issues are disabled for this repo")
        data = request.json()
        if not data.get("title", "").strip():
            return gh_error(422, "Validation Failed", [{"resource": "Issue", "field": "title", "code": "missing_field"}])
        if len(data.get("body") or "") > 65536:
            return gh_error(422, "Validation Failed", [{"resource": "Issue", "field": "body", "code": "custom",
                                                        "message": "body is too long (maximum is 65536 characters)"}])
        labels = [lb if isinstance(lb, str) else lb["name"] for lb in data.get("labels") or []]
        if not found.push:
            labels = []  # "Labels are silently dropped otherwise"
        found.labels.update(labels)
        number = len(found.issues) + 1
        now = self.now()
        issue = {"id": next(self._ids), "node_id": f"I_{number}", "number": number, "title": data["title"],
                 "body": data.get("body"), "state": "open", "state_reason": None, "locked": False,
                 "labels": [{"name": n} for n in labels], "assignee": None, "assignees": [], "milestone": None,
                 "comments": 0, "created_at": now, "updated_at": now, "closed_at": None,
                 "user": {"login": self.me}, "html_url": f"https://github.com/{found.full_name}/issues/{number}"}
        found.issues[number] = issue
        found.comments[number] = []
        return Reply(201, issue)

    @route("GET", REPO + "/issues")
    def list_issues(self, request: Request, owner: str, repo: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None:
            return gh_error(404, "Not Found")
        state = request.q("state", "open")
        wanted = {lb for lb in request.q("labels").split(",") if lb}
        issues = [i for i in found.issues.values()
                  if (state == "all" or i["state"] == state) and wanted <= {lb["name"] for lb in i["labels"]}]
        issues.sort(key=lambda i: i["number"], reverse=request.q("direction", "desc") == "desc")
        per_page, page = int(request.q("per_page", "30")), int(request.q("page", "1"))
        return Reply(200, issues[(page - 1) * per_page:page * per_page])

    @route("GET", REPO + r"/issues/(?P<number>\d+)")
    def get_issue(self, request: Request, owner: str, repo: str, number: str) -> Reply:
        found = self._repo(owner, repo)
        issue = found.issues.get(int(number)) if found else None
        if issue is None:
            return gh_error(404, "Not Found")
        etag = '"' + hashlib.sha1(repr(sorted(issue.items())).encode()).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, issue, {"ETag": etag})

    @route("GET", REPO + r"/issues/(?P<number>\d+)/comments")
    def list_comments(self, request: Request, owner: str, repo: str, number: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None or int(number) not in found.issues:
            return gh_error(404, "Not Found")
        per_page, page = int(request.q("per_page", "30")), int(request.q("page", "1"))
        return Reply(200, found.comments[int(number)][(page - 1) * per_page:page * per_page])

    @route("POST", REPO + r"/issues/(?P<number>\d+)/comments")
    def add_comment(self, request: Request, owner: str, repo: str, number: str) -> Reply:
        found = self._repo(owner, repo)
        if found is None or int(number) not in found.issues:
            return gh_error(404, "Not Found")
        return Reply(201, self.comment(found, int(number), self.me, request.json()["body"]))

    def comment(self, repo: FakeRepo, number: int, author: str, body: str) -> dict[str, Any]:
        now = self.now()
        comment = {"id": next(self._ids), "body": body, "user": {"login": author}, "created_at": now,
                   "updated_at": now}
        repo.comments[number].append(comment)
        repo.issues[number]["comments"] += 1
        repo.issues[number]["updated_at"] = now
        return comment

    # -- what engineers do -------------------------------------------------------------------
    def engineer(self, full_name: str, number: int, *, state: str | None = None, reason: str | None = None,
                 assignee: str | None = None, milestone: str | None = None, comment: str | None = None,
                 author: str = "dev") -> None:
        with self.lock:
            repo = self.repos[full_name]
            issue = repo.issues[number]
            if state is not None:
                issue["state"], issue["state_reason"] = state, reason
            if assignee is not None:
                issue["assignee"] = {"login": assignee}
                issue["assignees"] = [{"login": assignee}]
            if milestone is not None:
                issue["milestone"] = {"number": 1, "title": milestone}
            if comment is not None:
                self.comment(repo, number, author, comment)
            issue["updated_at"] = self.now()
