"""Post-incident sections for P1/P2 reports, and reading "Root cause" back from what the tracker shows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reporter_app.model import Impact, Priority, Reach, Report
from reporter_app.render import plain_sections, plain_text
from reporter_app.trackers.base import Comment
from reporter_app.tracking.incident import PLACEHOLDER, incident_sections, root_cause_filled, section_body

from .conftest import T0, status


def report(priority: Priority) -> Report:
    return Report(title="Checkout fails", impact=Impact.BLOCKER, reach=Reach.MANY_USERS, priority=priority,
                  priority_reason="many users cannot continue", created_at=T0)


def test_p1_and_p2_get_incident_root_cause_and_prevention_sections():
    sections = incident_sections(report(Priority.P1), users_affected=250, money_lost=True)
    assert [h for h, _ in sections] == ["Incident", "Root cause", "Prevention"]
    incident = sections[0][1]
    assert "When noticed: 2026-01-05 09:00 UTC" in incident
    assert "Many users, about 250 user(s)" in incident
    assert "I can't continue; money is being lost (many users cannot continue)" in incident
    assert sections[1][1] == PLACEHOLDER
    assert incident_sections(report(Priority.P3)) == []
    assert incident_sections(report(Priority.P4)) == []


def test_the_rendered_ticket_reads_back_as_not_filled_in():
    r = report(Priority.P2)
    description = plain_text(r).replace("reporter-app key", "\n".join(
        f"## {h}\n{b}\n" for h, b in incident_sections(r)) + "\nreporter-app key")
    assert section_body(description, "Root cause") == PLACEHOLDER
    assert root_cause_filled(WithDescription(description)) is False
    assert len(plain_sections(r)) >= 1  # the template is additive


@dataclass
class WithDescription:
    """A status from a tracker that shows the description (TicketStatus does not have it yet)."""

    description: str
    comments: tuple = ()


@pytest.mark.parametrize(("text", "filled"), [
    ("## Root cause\nThe cache key ignored the locale.\n\n## Prevention\nA test.", True),
    ("## Root cause\n\n## Prevention\nA test.", False),
    (f"## Root cause\n{PLACEHOLDER}\n## Prevention\n", False),
    ("h2. Root cause\n\nDisk full on db-2.\n\nh2. Prevention\n", True),
    ("*Root cause*\nTBD\n", False),
    ("**Root cause:**\nExpired certificate\n", True),
    ("Root cause:\nnightly job raced the backup\n", True),
    ("Root cause: the nightly job raced the backup", True),
    ("## What happened\nIt broke.\n", False),
])
def test_root_cause_sections_in_each_markup(text, filled):
    assert root_cause_filled(WithDescription(text)) is filled


def test_a_comment_can_carry_the_root_cause_and_nothing_readable_is_unknown():
    answered = status(comments=(Comment("1", "Bob", "## Root cause\nA race in the cache."),))
    assert root_cause_filled(answered) is True
    assert root_cause_filled(status(comments=(Comment("1", "Bob", "fixed"),))) is None
    assert root_cause_filled(status(comments=(Comment("1", "Bob", "## Root cause\n"),))) is False
