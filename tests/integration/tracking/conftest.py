"""A desk to act out a ticket's life: reports filed through the real AppContext, an engineer acting on the
real tracker, an injected clock.

`desk` is parametrized by backend. Each backend contributes a config and an `Engineer` that does, through the
tracker's own API, what a human engineer does; the Redmine, Jira, GitHub and GitLab variants join `BACKENDS`
when those backends land (their servers come from `tests.support`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.clock import FakeClock
from reporter_app.collect import Evidence
from reporter_app.model import Impact, Priority, Reach
from reporter_app.outbox import OutboxState
from reporter_app.trackers.base import TicketState
from reporter_app.trackers.local import LocalTracker
from reporter_app.tracking.changes import TicketChange
from reporter_app.tracking.service import Tracking

REPORTER = "Ada Tester"


class Engineer(Protocol):
    """What someone on the team does to a ticket, through the tracker's own API."""

    def move(self, key: str, state: TicketState) -> None: ...
    def assign(self, key: str, who: str) -> None: ...
    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None: ...
    def fix_in(self, key: str, version: str) -> None: ...


@dataclass
class LocalEngineer:
    tracker: LocalTracker
    names: dict[TicketState, str] = field(default_factory=lambda: {
        TicketState.NEW: "New", TicketState.IN_PROGRESS: "In Progress", TicketState.RESOLVED: "Resolved",
        TicketState.CLOSED: "Closed", TicketState.REOPENED: "Reopened"})

    def move(self, key: str, state: TicketState) -> None:
        self.tracker.update(key, status=self.names[state])

    def assign(self, key: str, who: str) -> None:
        self.tracker.update(key, assignee=who)

    def comment(self, key: str, text: str, author: str = "Bob Engineer") -> None:
        self.tracker.update(key, comment=text, author=author)

    def fix_in(self, key: str, version: str) -> None:
        self.tracker.update(key, fixed_in=version)


@dataclass
class Backend:
    config: Callable[[Path], str]  # TOML [tracker] table for a shared tracker under this directory
    engineer: Callable[[AppContext], Engineer]


BACKENDS: dict[str, Backend] = {
    "local": Backend(
        config=lambda shared: f'[tracker]\nbackend = "local"\nfolder = "{shared / "tickets"}"\n',
        engineer=lambda ctx: LocalEngineer(ctx.tracker()),  # type: ignore[arg-type]
    ),
}


@dataclass
class Desk:
    ctx: AppContext
    clock: FakeClock
    engineer: Engineer
    tracking: Tracking
    start: datetime

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


def make_ctx(home: Path, shared: Path, backend: str, clock: FakeClock, name: str = REPORTER) -> AppContext:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[reporter]\nname = "{name}"\nemail = "ada@example.com"\nrole = "support"\n\n'
        + BACKENDS[backend].config(shared), encoding="utf-8")
    return AppContext.load(home=str(home), env={"REPORTER_APP_SYSTEM_CONFIG": str(shared / "none.toml")},
                           clock=clock)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def desk(tmp_path: Path, backend: str) -> Iterator[Desk]:
    clock = FakeClock()
    ctx = make_ctx(tmp_path / "ada", tmp_path, backend, clock)
    tracking = Tracking(ctx)
    yield Desk(ctx=ctx, clock=clock, engineer=BACKENDS[backend].engineer(ctx), tracking=tracking,
               start=clock.now())
    tracking.close()
    ctx.outbox.close()
