"""A Jira fake: Cloud requests checked against ../shared/specs/jira-cloud-platform-v3.json; Data Center (v2)
requests against the same operations (v2 and v3 share their shapes) plus the v2 differences by hand.

Beyond the schemas (Jira's are mostly free-form) it enforces what Jira itself rejects: non-ADF or empty
ADF text on Cloud, fields missing from the create screen, unknown priorities, long summaries, attachments
without X-Atlassian-Token, JQL naming a key that does not exist. On Cloud the search index lags: a new
issue is invisible to /search/jql until `index()` runs, unless its id is in reconcileIssues.
"""

from __future__ import annotations

import base64
import itertools
import re
from datetime import datetime, timezone
from typing import Any

from tests.integration.contract import openapi
from tests.integration.contract.fakeserver import FakeServer, Reply, Request, route

API = r"/rest/api/(?P<v>[23])"
ISSUE = API + r"/issue/(?P<key>[A-Z]+-\d+)"
EMAIL, TOKEN, PAT = "ada@example.com", "jira-api-token", "dc-pat"
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
STATUSES = {"To Do": "new", "In Progress": "indeterminate", "Reopened": "new", "Done": "done", "Closed": "done"}
SCREEN: list[dict[str, Any]] = [
    {"fieldId": "summary", "name": "Summary", "required": True, "schema": {"type": "string", "system": "summary"}},
    {"fieldId": "issuetype", "name": "Issue Type", "required": True, "schema": {"type": "issuetype"}},
    {"fieldId": "project", "name": "Project", "required": True, "schema": {"type": "project"}},
    {"fieldId": "description", "name": "Description", "required": False, "schema": {"type": "string"}},
    {"fieldId": "labels", "name": "Labels", "required": False, "schema": {"type": "array", "items": "string"}},
    {"fieldId": "priority", "name": "Priority", "required": False, "hasDefaultValue": True,
     "schema": {"type": "priority"}, "allowedValues": [{"id": str(i + 1), "name": n} for i, n in enumerate(PRIORITIES)]},
    {"fieldId": "customfield_10050", "name": "Impact", "required": False,
     "schema": {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"},
     "allowedValues": [{"id": str(20 + i), "value": v} for i, v in enumerate(["blocker", "major", "minor", "cosmetic"])]},
    {"fieldId": "customfield_10051", "name": "Reach", "required": False,
     "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}},
]
OFF_SCREEN = [{"id": "customfield_10060", "name": "Team", "custom": True}]


def jira_error(status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"errorMessages": messages or [], "errors": errors or {}})


def _adf_problems(node: Any, where: str) -> list[str]:
    if not (isinstance(node, dict) and node.get("type") == "doc" and node.get("version") == 1
            and isinstance(node.get("content"), list)):
        return [f"{where}: Operation value must be an Atlassian Document (see the Atlassian Document Format)"]
    problems: list[str] = []

    def walk(n: Any) -> None:
        if not isinstance(n, dict) or not isinstance(n.get("type"), str):
            problems.append("INVALID_INPUT")
            return
        if n["type"] == "text" and not n.get("text"):
            problems.append("INVALID_INPUT")  # what Jira answers for an empty text node
        for child in n.get("content") or []:
            walk(child)

    walk(node)
    return problems


class FakeJira(FakeServer):
    name = "jira"

    def __init__(self, flavor: str = "cloud", project: str = "APP") -> None:
        self.flavor = flavor
        self.project = project
        self.v = "3" if flavor == "cloud" else "2"
        self.issues: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, list[tuple[str, str, bytes]]] = {}
        self.indexed: set[str] = set()
        self.index_lag = flavor == "cloud"
        self.screen = [dict(f) for f in SCREEN]
        self.upload_limit = 10 * 1024 * 1024
        self._ids = itertools.count(10000)
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        self.api = openapi.load("jira-cloud-platform-v3.json")
        super().__init__()

    def now(self) -> str:
        self._clock = self.tick(self._clock)  # every change moves updated_at
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def index(self) -> None:
        """The search index catches up."""
        self.indexed = set(self.issues)

    # -- contract ----------------------------------------------------------------------------
    def validate(self, request: Request) -> list[str]:
        match = re.match(r"/rest/api/([23])(/.*)", request.path)
        if not match or match.group(1) != self.v:
            return [f"{self.flavor} Jira speaks /rest/api/{self.v}, not {request.path}"]
        rest = match.group(2)
        if self.v == "2" and rest == "/search":
            body = request.json() if request.body else {}
            unknown = set(body) - {"jql", "startAt", "maxResults", "fields", "expand", "validateQuery", "properties"}
            return [f"unknown /search field {k!r}" for k in sorted(unknown)]
        problems = self.api.check(request.method, "/rest/api/3" + rest, request.query, request.headers, request.body)
        if rest.endswith("/attachments") and request.headers.get("x-atlassian-token") != "no-check":
            problems.append("attachments need X-Atlassian-Token: no-check")
        if rest.endswith("/attachments"):
            names = [p[0] for p in request.multipart()]
            if not names or set(names) != {"file"}:
                problems.append(f"attachment parts must be named 'file', got {names}")
        return problems

    def authorize(self, request: Request) -> Reply | None:
        expected = ("Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()) if self.flavor == "cloud" \
            else f"Bearer {PAT}"
        if request.headers.get("authorization") != expected:
            return Reply(401, "Client must be authenticated to access this resource.")
        return None

    # -- metadata ----------------------------------------------------------------------------
    @route("GET", API + "/myself")
    def myself(self, request: Request, v: str) -> Reply:
        return Reply(200, {"accountId": "557058:ada", "displayName": "Ada Tester", "name": "ada"})

    @route("GET", API + r"/issue/createmeta/(?P<p>[^/]+)/issuetypes")
    def issue_types(self, request: Request, v: str, p: str) -> Reply:
        if p != self.project:
            return jira_error(404, [f"No project could be found with key '{p}'."])
        types = [{"id": "10001", "name": "Bug", "subtask": False}, {"id": "10002", "name": "Task", "subtask": False}]
        key = "issueTypes" if self.flavor == "cloud" else "values"
        return Reply(200, {key: types, "startAt": 0, "maxResults": 50, "total": len(types)})

    @route("GET", API + r"/issue/createmeta/(?P<p>[^/]+)/issuetypes/(?P<tid>\d+)")
    def issue_type_fields(self, request: Request, v: str, p: str, tid: str) -> Reply:
        start, size = int(request.q("startAt", "0")), int(request.q("maxResults", "50"))
        page = self.screen[start:start + size]
        key = "fields" if self.flavor == "cloud" else "values"
        return Reply(200, {key: page, "startAt": start, "maxResults": size, "total": len(self.screen)})

    @route("GET", API + "/field")
    def fields(self, request: Request, v: str) -> Reply:
        return Reply(200, [{"id": f["fieldId"], "name": f["name"], "custom": f["fieldId"].startswith("customfield")}
                           for f in self.screen] + OFF_SCREEN)

    @route("GET", API + "/attachment/meta")
    def attachment_meta(self, request: Request, v: str) -> Reply:
        return Reply(200, {"enabled": True, "uploadLimit": self.upload_limit})

    # -- issues ------------------------------------------------------------------------------
    @route("POST", API + "/issue")
    def create(self, request: Request, v: str) -> Reply:
        fields = request.json().get("fields") or {}
        on_screen = {f["fieldId"]: f for f in self.screen}
        errors = {k: f"Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
                  for k in fields if k not in on_screen}
        if len(fields.get("summary") or "") >= 255:
            errors["summary"] = "Summary must be less than 255 characters."
        if (fields.get("priority") or {}).get("name", "Medium") not in PRIORITIES:
            errors["priority"] = "Specify a valid 'id' or 'name' for Priority"
        impact = fields.get("customfield_10050")
        if impact is not None and not (isinstance(impact, dict) and impact.get("value") in
                                       ["blocker", "major", "minor", "cosmetic"]):
            errors["customfield_10050"] = f"Option value '{impact}' is not valid"
        if errors:
            return jira_error(400, [], errors)
        if "description" in fields:
            if self.flavor == "cloud":
                problems = _adf_problems(fields["description"], "description")
                if problems:
                    return jira_error(400, [p for p in problems if p == "INVALID_INPUT"][:1],
                                      {"description": p for p in problems if p != "INVALID_INPUT"})
            elif not isinstance(fields["description"], str):
                return jira_error(400, [], {"description": "Operation value must be a string"})
        number = len(self.issues) + 1
        key, issue_id = f"{self.project}-{number}", str(next(self._ids))
        now = self.now()
        self.issues[key] = {"id": issue_id, "key": key, "fields": {
            **fields, "status": {"name": "To Do", "statusCategory": {"key": "new"}},
            "priority": fields.get("priority") or {"name": "Medium"}, "assignee": None, "fixVersions": [],
            "resolution": None, "created": now, "updated": now, "comment": {"comments": [], "total": 0}}}
        self.attachments[key] = []
        if not self.index_lag:
            self.indexed.add(key)
        return Reply(201, {"id": issue_id, "key": key, "self": f"{self.url}/rest/api/{v}/issue/{issue_id}"})

    @route("GET", ISSUE)
    def get_issue(self, request: Request, v: str, key: str) -> Reply:
        issue = self.issues.get(key)
        if issue is None:
            return jira_error(404, ["Issue does not exist or you do not have permission to see it."])
        return Reply(200, self._view(issue, request.q("fields", "*all").split(",")))

    def _view(self, issue: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        wanted = issue["fields"] if "*all" in fields else {k: v for k, v in issue["fields"].items() if k in fields}
        return {"id": issue["id"], "key": issue["key"], "fields": wanted}

    @route("POST", ISSUE + "/attachments")
    def attach(self, request: Request, v: str, key: str) -> Reply:
        if key not in self.issues:
            return jira_error(404, ["Issue does not exist or you do not have permission to see it."])
        out = []
        for _, filename, ctype, data in request.multipart():
            if len(data) > self.upload_limit:
                return Reply(413, {"errorMessages": [f"The file {filename} is too large to attach."]})
            self.attachments[key].append((filename, ctype, data))
            out.append({"id": str(next(self._ids)), "filename": filename, "mimeType": ctype, "size": len(data)})
        return Reply(200, out)

    @route("GET", ISSUE + "/comment")
    def comments(self, request: Request, v: str, key: str) -> Reply:
        issue = self.issues.get(key)
        if issue is None:
            return jira_error(404, ["Issue does not exist or you do not have permission to see it."])
        comments = list(issue["fields"]["comment"]["comments"])
        if request.q("orderBy") == "-created":
            comments.reverse()
        return Reply(200, {"comments": comments, "startAt": 0, "maxResults": 100, "total": len(comments)})

    @route("POST", ISSUE + "/comment")
    def add_comment(self, request: Request, v: str, key: str) -> Reply:
        issue = self.issues.get(key)
        if issue is None:
            return jira_error(404, ["Issue does not exist or you do not have permission to see it."])
        body = request.json().get("body")
        if self.flavor == "cloud":
            problems = _adf_problems(body, "comment")
            if problems:
                return jira_error(400, problems[:1])
        elif not isinstance(body, str):
            return jira_error(400, [], {"comment": "Comment body can not be empty!"})
        return Reply(201, self.comment(key, body, "Ada Tester"))

    def comment(self, key: str, body: Any, author: str) -> dict[str, Any]:
        now = self.now()
        comment = {"id": str(next(self._ids)), "author": {"displayName": author}, "body": body, "created": now,
                   "updated": now}
        store = self.issues[key]["fields"]["comment"]
        store["comments"].append(comment)
        store["total"] += 1
        self.issues[key]["fields"]["updated"] = now
        return comment

    # -- search ------------------------------------------------------------------------------
    @route("POST", API + "/search/jql")
    def search_jql(self, request: Request, v: str) -> Reply:
        body = request.json()
        visible = self.indexed | {k for k, i in self.issues.items()
                                  if int(i["id"]) in set(body.get("reconcileIssues") or [])}
        return self._search(body, visible, cloud=True)

    @route("POST", API + "/search")
    def search_v2(self, request: Request, v: str) -> Reply:
        if v == "3":
            return jira_error(410, ["The requested API has been removed. Please migrate to /rest/api/3/search/jql."])
        return self._search(request.json(), set(self.issues), cloud=False)

    def _search(self, body: dict[str, Any], visible: set[str], cloud: bool) -> Reply:
        jql, fields = body.get("jql", ""), body.get("fields") or ["id"]
        keys_in = re.fullmatch(r'key in \(([^)]*)\)', jql)
        by_label = re.fullmatch(r'project = "([^"]+)" AND labels = "([^"]+)" ORDER BY created DESC', jql)
        if keys_in:
            keys = [k.strip().strip('"') for k in keys_in.group(1).split(",")]
            missing = [k for k in keys if k not in self.issues]
            if missing:
                return jira_error(400, [f"An issue with key '{missing[0]}' does not exist for field 'key'."])
            hits = [self.issues[k] for k in keys if k in visible]
        elif by_label:
            hits = [i for k, i in sorted(self.issues.items(), reverse=True)
                    if k in visible and by_label.group(2) in (i["fields"].get("labels") or [])]
        else:
            return jira_error(400, [f"The fake does not understand the JQL {jql!r}"])
        hits = hits[:int(body.get("maxResults", 50))]
        issues = [self._view(i, fields) for i in hits]
        if cloud:
            return Reply(200, {"issues": issues, "isLast": True})
        return Reply(200, {"issues": issues, "startAt": 0, "maxResults": body.get("maxResults", 50),
                           "total": len(issues)})

    # -- what engineers do -------------------------------------------------------------------
    def engineer(self, key: str, *, status: str | None = None, assignee: str | None = None,
                 fix_version: str | None = None, comment: str | None = None, author: str = "Grace Dev") -> None:
        with self.lock:
            fields = self.issues[key]["fields"]
            if status is not None:
                fields["status"] = {"name": status, "statusCategory": {"key": STATUSES[status]}}
            if assignee is not None:
                fields["assignee"] = {"displayName": assignee, "accountId": "x"}
            if fix_version is not None:
                fields["fixVersions"] = [{"id": "1", "name": fix_version}]
            if comment is not None:
                body: Any = comment if self.flavor != "cloud" else {
                    "type": "doc", "version": 1,
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": comment}]}]}
                self.comment(key, body, author)
            fields["updated"] = self.now()
