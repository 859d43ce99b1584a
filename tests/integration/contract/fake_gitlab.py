"""A GitLab REST v4 fake. No machine-readable description is kept for GitLab (see ../shared/specs/README.md),
so requests are checked by hand against the shapes in ../shared/notes/tracker-apis.md section 3 and GitLab's
issues/notes/uploads documentation: known parameters only, documented types and values, `file` for uploads.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from tests.integration.contract.fakeserver import FakeServer, Reply, Request, route

PROJECT = r"/api/v4/projects/(?P<pid>[^/]+)"
ISSUE_FIELDS = {"title": str, "description": str, "labels": str, "issue_type": str, "confidential": bool,
                "assignee_ids": list, "milestone_id": int, "due_date": str}
LIST_PARAMS = {"labels", "state", "order_by", "sort", "per_page", "page", "iids[]", "search", "in", "created_after"}
ENUMS = {"state": {"opened", "closed", "all"}, "sort": {"asc", "desc"},
         "order_by": {"created_at", "updated_at", "priority", "due_date", "relative_position", "label_priority",
                      "milestone_due", "popularity", "weight", "title"},
         "issue_type": {"issue", "incident", "test_case", "task"}}
INTEGERS = {"per_page", "page", "iids[]"}


@dataclass
class FakeProject:
    id: int
    path: str
    issues_enabled: bool = True
    max_attachment_bytes: int = 100 * 1024 * 1024
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # url -> (content type, bytes)
    labels: set[str] = field(default_factory=set)


class FakeGitLab(FakeServer):
    name = "gitlab"
    token = "glpat-test"
    me = "reporter-bot"

    def __init__(self) -> None:
        self.projects: dict[int, FakeProject] = {}
        self._ids = itertools.count(500)
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        super().__init__()

    def add_project(self, pid: int, path: str, **kw: Any) -> FakeProject:
        self.projects[pid] = FakeProject(pid, path, **kw)
        return self.projects[pid]

    def now(self) -> str:
        self._clock = self.tick(self._clock)  # every change moves updated_at
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    # -- contract ----------------------------------------------------------------------------
    def validate(self, request: Request) -> list[str]:
        problems: list[str] = []
        if not request.path.startswith("/api/v4/"):
            problems.append("not under /api/v4")
        if "/projects/" in request.path and re.match(r"/api/v4/projects/[^/%]+/[^/]+/(issues|uploads)", request.path):
            problems.append("a project path must be URL-encoded in one segment (acme%2Fapp)")
        for name, values in request.query.items():
            if request.method == "GET" and request.path.endswith("/issues") and name not in LIST_PARAMS:
                problems.append(f"unknown issue list parameter {name!r}")
            for value in values:
                if name in ENUMS and value not in ENUMS[name]:
                    problems.append(f"{name}={value!r} is not one of {sorted(ENUMS[name])}")
                if name in INTEGERS and not value.isdigit():
                    problems.append(f"{name}={value!r} is not an integer")
        if request.method in ("POST", "PUT") and request.path.endswith("/uploads"):
            parts = request.multipart() if "multipart/form-data" in request.headers.get("content-type", "") else []
            if [p[0] for p in parts] != ["file"]:
                problems.append("uploads take one multipart/form-data part named 'file'")
        elif request.method in ("POST", "PUT") and request.body:
            problems.extend(self._check_json(request))
        return problems

    def _check_json(self, request: Request) -> list[str]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return ["JSON bodies need Content-Type: application/json"]
        try:
            data = request.json()
        except ValueError:
            return ["body is not JSON"]
        if request.path.endswith("/notes"):
            ok = isinstance(data, dict) and set(data) == {"body"} and isinstance(data["body"], str)
            return [] if ok else ['a note is {"body": "..."}']
        if request.method == "POST" and request.path.endswith("/issues"):
            problems = [f"unknown issue field {k!r}" for k in data if k not in ISSUE_FIELDS]
            problems += [f"{k} must be {t.__name__}" for k, t in ISSUE_FIELDS.items() if k in data
                         and not isinstance(data[k], t)]
            if "issue_type" in data and data["issue_type"] not in ENUMS["issue_type"]:
                problems.append("issue_type not documented")
            return problems + ([] if "title" in data else ["title is required"])
        return []

    def authorize(self, request: Request) -> Reply | None:
        if request.headers.get("private-token") != self.token:
            return Reply(401, {"message": "401 Unauthorized"})
        return None

    def _project(self, pid: str) -> FakeProject | None:
        text = unquote(pid)
        for project in self.projects.values():
            if text in (str(project.id), project.path):
                return project
        return None

    # -- routes ------------------------------------------------------------------------------
    @route("GET", r"/api/v4/user")
    def user(self, request: Request) -> Reply:
        return Reply(200, {"id": 1, "username": self.me})

    @route("GET", PROJECT)
    def get_project(self, request: Request, pid: str) -> Reply:
        project = self._project(pid)
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        return Reply(200, {"id": project.id, "path_with_namespace": project.path,
                           "issues_enabled": project.issues_enabled,
                           "web_url": f"https://gitlab.example.com/{project.path}"})

    @route("POST", PROJECT + "/uploads")
    def upload(self, request: Request, pid: str) -> Reply:
        project = self._project(pid)
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        [(_, filename, ctype, data)] = request.multipart()
        if len(data) > project.max_attachment_bytes:
            return Reply(413, "413 Request Entity Too Large")
        secret = f"{next(self._ids):032x}"
        url = f"/uploads/{secret}/{filename}"
        project.uploads[url] = (ctype, data)
        alt = filename.rsplit(".", 1)[0]
        markdown = f"![{alt}]({url})" if ctype.startswith("image/") else f"[{filename}]({url})"
        return Reply(201, {"id": next(self._ids), "alt": alt, "url": url, "markdown": markdown,
                           "full_path": f"/-/project/{project.id}{url}"})

    @route("POST", PROJECT + "/issues")
    def create_issue(self, request: Request, pid: str) -> Reply:
        project = self._project(pid)
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        data = request.json()
        if len(data["title"]) > 255:
            return Reply(400, {"message": {"title": ["is too long (maximum is 255 characters)"]}})
        labels = [lb for lb in (data.get("labels") or "").split(",") if lb]
        project.labels.update(labels)  # missing labels are created
        iid = len(project.issues) + 1
        now = self.now()
        issue = {"id": next(self._ids), "iid": iid, "project_id": project.id, "title": data["title"],
                 "description": data.get("description"), "state": "opened", "labels": labels, "assignee": None,
                 "assignees": [], "milestone": None, "user_notes_count": 0, "created_at": now, "updated_at": now,
                 "author": {"username": self.me},
                 "web_url": f"https://gitlab.example.com/{project.path}/-/issues/{iid}"}
        project.issues[iid] = issue
        project.notes[iid] = []
        return Reply(201, issue)

    @route("GET", PROJECT + "/issues")
    def list_issues(self, request: Request, pid: str) -> Reply:
        project = self._project(pid)
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        state = request.q("state", "all")
        wanted = {lb for lb in request.q("labels").split(",") if lb}
        iids = {int(v) for v in request.query.get("iids[]", [])}
        issues = [i for i in project.issues.values() if (state == "all" or i["state"] == state)
                  and wanted <= set(i["labels"]) and (not iids or i["iid"] in iids)]
        issues.sort(key=lambda i: i["iid"], reverse=request.q("sort", "desc") == "desc")
        per_page, page = int(request.q("per_page", "20")), int(request.q("page", "1"))
        return Reply(200, issues[(page - 1) * per_page:page * per_page])

    @route("GET", PROJECT + r"/issues/(?P<iid>\d+)/notes")
    def list_notes(self, request: Request, pid: str, iid: str) -> Reply:
        project = self._project(pid)
        if project is None or int(iid) not in project.issues:
            return Reply(404, {"message": "404 Issue Not Found"})
        per_page, page = int(request.q("per_page", "20")), int(request.q("page", "1"))
        return Reply(200, project.notes[int(iid)][(page - 1) * per_page:page * per_page])

    @route("POST", PROJECT + r"/issues/(?P<iid>\d+)/notes")
    def add_note(self, request: Request, pid: str, iid: str) -> Reply:
        project = self._project(pid)
        if project is None or int(iid) not in project.issues:
            return Reply(404, {"message": "404 Issue Not Found"})
        return Reply(201, self.note(project, int(iid), self.me, request.json()["body"]))

    def note(self, project: FakeProject, iid: int, author: str, body: str, system: bool = False) -> dict[str, Any]:
        now = self.now()
        note = {"id": next(self._ids), "body": body, "author": {"username": author}, "system": system,
                "created_at": now, "updated_at": now}
        project.notes[iid].append(note)
        if not system:
            project.issues[iid]["user_notes_count"] += 1
        project.issues[iid]["updated_at"] = now
        return note

    # -- what engineers do -------------------------------------------------------------------
    def engineer(self, pid: int, iid: int, *, state_event: str | None = None, assignee: str | None = None,
                 milestone: str | None = None, comment: str | None = None, author: str = "dev") -> None:
        with self.lock:
            project = self.projects[pid]
            issue = project.issues[iid]
            if state_event is not None:
                issue["state"] = "closed" if state_event == "close" else "opened"
                self.note(project, iid, author, "closed" if state_event == "close" else "reopened", system=True)
            if assignee is not None:
                issue["assignees"] = [{"username": assignee}]
                issue["assignee"] = {"username": assignee}
            if milestone is not None:
                issue["milestone"] = {"id": 1, "title": milestone}
            if comment is not None:
                self.note(project, iid, author, comment)
            issue["updated_at"] = self.now()
