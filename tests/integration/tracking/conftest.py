"""A desk to act out a ticket's life: reports filed through the real AppContext, an engineer acting on the
real tracker, an injected clock.

`desk` is parametrized by backend: local, the real Redmine (``tests.support.redmine``; skipped without one) and
the Jira, GitHub and GitLab loopback fakes of the contract tier (every request checked against the vendor's
description). Each contributes a config, a token and an `Engineer` (``engineers.py``) that does, through the
tracker's own API, what a human engineer does. The fakes stamp their changes with the desk's injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.clock import FakeClock
from reporter_app.collect import Evidence
from reporter_app.credentials import TOKEN_ENV
from reporter_app.model import Impact, Priority, Reach
from reporter_app.outbox import OutboxState
from reporter_app.trackers.base import TicketState
from reporter_app.tracking.changes import TicketChange
from reporter_app.tracking.service import Tracking
from tests.integration.contract.fake_github import FakeGitHub
from tests.integration.contract.fake_gitlab import FakeGitLab
from tests.integration.contract.fake_jira import EMAIL as JIRA_EMAIL
from tests.integration.contract.fake_jira import TOKEN as JIRA_TOKEN
from tests.integration.contract.fake_jira import FakeJira
from tests.integration.tracking.engineers import (
    GitHubEngineer,
    GitLabEngineer,
    JiraEngineer,
    LocalEngineer,
    RedmineEngineer,
)
from tests.support.redmine import Redmine

REPORTER = "Ada Tester"


class Engineer(Protocol):
    """What someone on the team does to a ticket, through the tracker's own API."""

    full_workflow: bool  # False: the tracker knows open/closed only (GitHub, GitLab)

    def move(self, key: str, state: TicketState) -> None: ...
    def assign(self, key: str, who: str) -> None: ...
    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None: ...
    def fix_in(self, key: str, version: str) -> None: ...
    def person(self, who: str) -> str: ...  # how the tracker shows someone ("bob" -> "Bob Engineer")
    def status_name(self, state: TicketState) -> str: ...


@dataclass
class Setup:
    """One backend, ready for one test: its [tracker] table, environment (the token) and engineer."""

    config: str
    env: dict[str, str]
    engineer: Callable[[AppContext], Engineer]
    server: Any = None  # the fake, for tests that count requests


def _close_fake(fake: Any) -> None:
    fake.close()
    assert fake.violations == [], "requests that break the vendor's contract:\n" + "\n".join(fake.violations)


def _local(request: pytest.FixtureRequest, shared: Path, clock: FakeClock) -> Setup:
    return Setup(f'[tracker]\nbackend = "local"\nfolder = "{shared / "tickets"}"\n', {},
                 lambda ctx: LocalEngineer(ctx.tracker()))  # type: ignore[arg-type]


def _redmine(request: pytest.FixtureRequest, shared: Path, clock: FakeClock) -> Setup:
    redmine: Redmine = request.getfixturevalue("redmine")
    # Filed with the non-admin reporter's key, as a real user would; the engineer uses the admin key.
    token = redmine.reporter_api_key or redmine.api_key
    # The server stamps what it does with the real time: the desk's clock starts there (on a whole minute),
    # and the engineer dates each change by the desk's clock, which only runs ahead of the real one.
    clock.current = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    engineer = RedmineEngineer(redmine, clock)
    return Setup(f'[tracker]\nbackend = "redmine"\nurl = "{redmine.url}"\nproject = "{redmine.project}"\n',
                 {TOKEN_ENV: token}, lambda ctx: engineer)


def _jira(request: pytest.FixtureRequest, shared: Path, clock: FakeClock) -> Setup:
    fake = FakeJira(flavor="cloud")
    fake.index_lag = False  # read-after-write is the contract tests' subject, not the lifecycle's
    fake.time_source = clock.now
    request.addfinalizer(lambda: _close_fake(fake))
    return Setup(f'[tracker]\nbackend = "jira"\nurl = "{fake.url}"\nproject = "APP"\nflavor = "cloud"\n'
                 f'email = "{JIRA_EMAIL}"\nimpact_field = "Impact"\nreach_field = "Reach"\n',
                 {TOKEN_ENV: JIRA_TOKEN}, lambda ctx: JiraEngineer(fake), fake)


def _github(request: pytest.FixtureRequest, shared: Path, clock: FakeClock) -> Setup:
    fake = FakeGitHub()
    fake.add_repo("acme/app")
    fake.time_source = clock.now
    request.addfinalizer(lambda: _close_fake(fake))
    return Setup(f'[tracker]\nbackend = "github"\nurl = "{fake.url}"\nrepository = "acme/app"\n',
                 {TOKEN_ENV: FakeGitHub.token}, lambda ctx: GitHubEngineer(fake), fake)


def _gitlab(request: pytest.FixtureRequest, shared: Path, clock: FakeClock) -> Setup:
    fake = FakeGitLab()
    fake.add_project(7, "acme/app")
    fake.time_source = clock.now
    request.addfinalizer(lambda: _close_fake(fake))
    return Setup(f'[tracker]\nbackend = "gitlab"\nurl = "{fake.url}"\nproject = "acme/app"\n',
                 {TOKEN_ENV: FakeGitLab.token}, lambda ctx: GitLabEngineer(fake), fake)


# backend -> how to set it up for one test (the real Redmine comes from tests.support, the others are fakes)
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path, FakeClock], Setup]] = {
    "local": _local, "redmine": _redmine, "jira": _jira, "github": _github, "gitlab": _gitlab,
}


@dataclass
class Desk:
    ctx: AppContext
    clock: FakeClock
    engineer: Engineer
    tracking: Tracking
    start: datetime
    setup: Setup

    def file(self, title: str, priority: Priority = Priority.P1, description: str = "") -> str:
        draft = Draft(title=title, description=description, impact=Impact.BLOCKER, reach=Reach.MY_TEAM,
                      priority=priority)
        _, entry = self.ctx.submit(draft, Evidence())
        self.ctx.send_pending()
        entry = self.ctx.outbox.get(entry.id)
        assert entry.state == OutboxState.FILED, entry.last_error
        return entry.ticket_key

    def at(self, minutes: float) -> None:
        """Move the clock forward to start + minutes (never back)."""
        delta = (self.start + timedelta(minutes=minutes)) - self.clock.now()
        assert delta >= timedelta(0), "the desk's clock only moves forward"
        self.clock.advance(delta.total_seconds())

    def poll_when_due(self) -> list[TicketChange]:
        """Let the clock run to the next due look (as the tray's timer would), then poll."""
        due = self.tracking.store.next_due_at()
        if due is not None and due > self.clock.now():
            self.clock.advance((due - self.clock.now()).total_seconds())
        return self.tracking.poll()


def make_ctx(home: Path, shared: Path, setup: Setup, clock: FakeClock, name: str = REPORTER) -> AppContext:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[reporter]\nname = "{name}"\nemail = "ada@example.com"\nrole = "support"\n\n' + setup.config,
        encoding="utf-8")
    return AppContext.load(home=str(home), env={"REPORTER_APP_SYSTEM_CONFIG": str(shared / "none.toml"),
                                                **setup.env}, clock=clock)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def desk_for(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Desk:
    clock = FakeClock()
    setup = BACKENDS[backend](request, tmp_path, clock)
    ctx = make_ctx(tmp_path / "ada", tmp_path, setup, clock)
    tracking = Tracking(ctx)

    def close() -> None:
        tracking.close()
        ctx.outbox.close()

    request.addfinalizer(close)
    return Desk(ctx=ctx, clock=clock, engineer=setup.engineer(ctx), tracking=tracking, start=clock.now(),
                setup=setup)


@pytest.fixture
def desk(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Desk:
    return desk_for(request, tmp_path, backend)
