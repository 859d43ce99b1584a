"""Engineers acting on real trackers, as a person on the team would: through the tracker's own API.

Each one changes status, assigns, comments, closes, reopens and sets a fixed-in version, and says how
the tracker shows a person (`person`) and a state (`status_name`), so the lifecycle tests read the same
for every backend.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timezone
from functools import cached_property
from typing import Any

from reporter_app.clock import FakeClock
from reporter_app.trackers.base import TicketState
from reporter_app.trackers.local import LocalTracker
from tests.integration.contract.fake_github import FakeGitHub
from tests.integration.contract.fake_gitlab import FakeGitLab
from tests.integration.contract.fake_jira import FakeJira
from tests.support.redmine import Redmine

LOCAL_NAMES = {TicketState.NEW: "New", TicketState.IN_PROGRESS: "In Progress", TicketState.RESOLVED: "Resolved",
               TicketState.CLOSED: "Closed", TicketState.REOPENED: "Reopened"}


@dataclass
class LocalEngineer:
    tracker: LocalTracker
    full_workflow = True  # a status per state, In Progress included

    def move(self, key: str, state: TicketState) -> None:
        self.tracker.update(key, status=LOCAL_NAMES[state])

    def assign(self, key: str, who: str) -> None:
        self.tracker.update(key, assignee=who)

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        self.tracker.update(key, comment=text, author=author)

    def fix_in(self, key: str, version: str) -> None:
        self.tracker.update(key, fixed_in=version)

    def person(self, who: str) -> str:
        return who

    def status_name(self, state: TicketState) -> str:
        return LOCAL_NAMES[state]


# -- Redmine ----------------------------------------------------------------------------------------
# login -> (first name, last name): Redmine shows "first last". "bob" is the assignee and "Bob Engineer".
REDMINE_PEOPLE = {"bob": ("Bob", "Engineer"), "carol": ("Carol", "QA"), "ada": ("Ada", "Tester")}
# Reopening in Redmine is a move from a closed status back to an open one; the backend reads it from journals.
REDMINE_STATUS = {TicketState.NEW: "New", TicketState.IN_PROGRESS: "In Progress", TicketState.RESOLVED: "Resolved",
                  TicketState.CLOSED: "Closed", TicketState.REOPENED: "New"}


@dataclass
class RedmineEngineer:
    """The admin key changes status, assignee and version (as a manager may); the people comment as themselves
    (`X-Redmine-Switch-User`), so the journals carry their names, as they would on a real team."""

    redmine: Redmine
    clock: FakeClock
    full_workflow = True
    _users: dict[str, int] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)

    def _put(self, key: str, issue: dict[str, Any], user: str = "") -> None:
        headers = {"X-Redmine-Switch-User": user} if user else {}
        response = self.redmine.request("PUT", f"/issues/{key.lstrip('#')}.json", json={"issue": issue},
                                        headers=headers)
        assert response.status_code == 204, f"{response.status_code}: {response.text[:300]}"
        self._stamp(int(key.lstrip("#")))

    def _stamp(self, issue_id: int) -> None:
        """Date the change at the desk's clock, not the server's: the injected clock makes the SLA figures
        exact ("answered 20 minutes after filing"). The desk's clock starts at the real time and only runs
        ahead of it, so updated_on still only grows, as the poller expects."""
        db = self.redmine.server.db_path
        assert db is not None, "this Redmine has no REDMINE_DB"
        when = self.clock.now().astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000000")
        conn = sqlite3.connect(db, timeout=30)
        try:
            with conn:
                conn.execute("UPDATE issues SET updated_on = ? WHERE id = ?", (when, issue_id))
                conn.execute("UPDATE journals SET created_on = ? WHERE id = (SELECT max(id) FROM journals "
                             "WHERE journalized_type = 'Issue' AND journalized_id = ?)", (when, issue_id))
        finally:
            conn.close()

    @cached_property
    def _developer_role(self) -> int:
        roles = self.redmine.get_json("/roles.json")["roles"]
        return int(next(r["id"] for r in roles if r["name"] == "Developer"))

    def _user(self, login: str) -> int:
        if login not in self._users:
            first, last = REDMINE_PEOPLE[login]
            response = self.redmine.request("POST", "/users.json", json={"user": {
                "login": login, "firstname": first, "lastname": last, "mail": f"{login}@example.com",
                "password": "engineer-pass-123"}})
            assert response.status_code == 201, response.text[:300]
            user_id = int(response.json()["user"]["id"])
            response = self.redmine.request("POST", f"/projects/{self.redmine.project}/memberships.json", json={
                "membership": {"user_id": user_id, "role_ids": [self._developer_role]}})
            assert response.status_code == 201, response.text[:300]
            self._users[login] = user_id
        return self._users[login]

    def _login_of(self, name: str) -> str:
        for login, (first, last) in REDMINE_PEOPLE.items():
            if name in (login, f"{first} {last}"):
                return login
        raise KeyError(f"no Redmine test user named {name!r}")

    def move(self, key: str, state: TicketState) -> None:
        self._put(key, {"status_id": self.redmine.status_id(REDMINE_STATUS[state])})

    def assign(self, key: str, who: str) -> None:
        self._put(key, {"assigned_to_id": self._user(self._login_of(who))})

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        login = self._login_of(author)
        self._user(login)
        self._put(key, {"notes": text}, user=login)

    def fix_in(self, key: str, version: str) -> None:
        if version not in self._versions:
            response = self.redmine.request("POST", f"/projects/{self.redmine.project}/versions.json",
                                            json={"version": {"name": version}})
            assert response.status_code == 201, response.text[:300]
            self._versions[version] = int(response.json()["version"]["id"])
        self._put(key, {"fixed_version_id": self._versions[version]})

    def person(self, who: str) -> str:
        first, last = REDMINE_PEOPLE[self._login_of(who)]
        return f"{first} {last}"

    def status_name(self, state: TicketState) -> str:
        return REDMINE_STATUS[state]


# -- Jira -------------------------------------------------------------------------------------------
JIRA_STATUS = {TicketState.NEW: "To Do", TicketState.IN_PROGRESS: "In Progress", TicketState.RESOLVED: "Done",
               TicketState.CLOSED: "Closed", TicketState.REOPENED: "Reopened"}


@dataclass
class JiraEngineer:
    fake: FakeJira
    full_workflow = True

    def move(self, key: str, state: TicketState) -> None:
        self.fake.engineer(key, status=JIRA_STATUS[state])

    def assign(self, key: str, who: str) -> None:
        self.fake.engineer(key, assignee=who)

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        self.fake.engineer(key, comment=text, author=author)

    def fix_in(self, key: str, version: str) -> None:
        self.fake.engineer(key, fix_version=version)

    def person(self, who: str) -> str:
        return who

    def status_name(self, state: TicketState) -> str:
        return JIRA_STATUS[state]


# -- GitHub and GitLab: open or closed; "in progress" is being assigned -----------------------------------
@dataclass
class GitHubEngineer:
    fake: FakeGitHub
    repo: str = "acme/app"
    full_workflow = False

    def move(self, key: str, state: TicketState) -> None:
        # Closed as completed reads as resolved, as not planned as closed; "in progress" has no state of its own.
        state_and_reason = {TicketState.NEW: ("open", None), TicketState.IN_PROGRESS: ("open", None),
                            TicketState.RESOLVED: ("closed", "completed"), TicketState.CLOSED: ("closed", "not_planned"),
                            TicketState.REOPENED: ("open", "reopened")}[state]
        self.fake.engineer(self.repo, int(key.lstrip("#")), state=state_and_reason[0], reason=state_and_reason[1])

    def assign(self, key: str, who: str) -> None:
        self.fake.engineer(self.repo, int(key.lstrip("#")), assignee=who)

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        self.fake.engineer(self.repo, int(key.lstrip("#")), comment=text, author=author)

    def fix_in(self, key: str, version: str) -> None:
        self.fake.engineer(self.repo, int(key.lstrip("#")), milestone=version)

    def person(self, who: str) -> str:
        return who

    def status_name(self, state: TicketState) -> str:
        return {TicketState.REOPENED: "open (reopened)", TicketState.RESOLVED: "closed (completed)",
                TicketState.CLOSED: "closed (not planned)"}.get(state, "open")


@dataclass
class GitLabEngineer:
    fake: FakeGitLab
    project: int = 7
    full_workflow = False

    def move(self, key: str, state: TicketState) -> None:
        # GitLab has opened and closed only: resolved and closed are both "close"; new and in progress are no move.
        if state in (TicketState.RESOLVED, TicketState.CLOSED):
            self.fake.engineer(self.project, int(key.lstrip("#")), state_event="close")
        elif state == TicketState.REOPENED:
            self.fake.engineer(self.project, int(key.lstrip("#")), state_event="reopen")

    def assign(self, key: str, who: str) -> None:
        self.fake.engineer(self.project, int(key.lstrip("#")), assignee=who)

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        self.fake.engineer(self.project, int(key.lstrip("#")), comment=text, author=author)

    def fix_in(self, key: str, version: str) -> None:
        self.fake.engineer(self.project, int(key.lstrip("#")), milestone=version)

    def person(self, who: str) -> str:
        return who

    def status_name(self, state: TicketState) -> str:
        return {TicketState.REOPENED: "opened (reopened)", TicketState.RESOLVED: "closed",
                TicketState.CLOSED: "closed"}.get(state, "opened")
