"""Redmine pieces that need no server: settings parsing, ticket text, state normalisation."""

from __future__ import annotations

import pytest

from reporter_app.model import Attachment, Report, Reporter
from reporter_app.trackers.base import TicketRef, TicketState, TrackerContext
from reporter_app.trackers.fitting import Upload
from reporter_app.trackers.redmine import RedmineTracker, parse_pairs
from reporter_app.trackers.redmine_meta import Metadata, StatusInfo
from reporter_app.trackers.redmine_status import state_of, ticket_status
from reporter_app.trackers.redmine_text import description

STATUSES = {1: StatusInfo("New", False), 2: StatusInfo("In Progress", False), 3: StatusInfo("Resolved", False),
            4: StatusInfo("Feedback", False), 5: StatusInfo("Closed", True), 6: StatusInfo("Rejected", True),
            7: StatusInfo("Won't fix", True), 8: StatusInfo("Testing", False)}


def meta() -> Metadata:
    return Metadata(project_id=1, project_name="Bugs", user_id=5, user_name="Rita", trackers={"Bug": 1},
                    tracker_id=1, priorities={}, statuses=STATUSES, fields={}, field_names={}, field_info={})


def test_pairs_from_a_toml_array_or_table():
    assert parse_pairs(["P1=Immediate", " P2 = Urgent "], "priority_map") == {"P1": "Immediate", "P2": "Urgent"}
    assert parse_pairs({"P1": "Immediate"}, "priority_map") == {"P1": "Immediate"}
    with pytest.raises(ValueError, match="tracker.priority_map: 'P1' should look like 'KEY=value'"):
        parse_pairs(["P1"], "priority_map")


@pytest.mark.parametrize("settings, message", [
    ({"url": "redmine.example.com", "project": "x"}, "must be the Redmine address"),
    ({"url": "https://r.example", "project": ""}, "tracker.project is empty"),
    ({"url": "https://r.example", "project": "x", "priority_map": ["P9=High"]}, "P9 is not a priority"),
])
def test_bad_settings_are_refused_at_construction(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        RedmineTracker(TrackerContext(settings=settings, data_dir=tmp_path, token="k"))


@pytest.mark.parametrize("name, closed, state", [
    ("New", False, TicketState.NEW), ("In Progress", False, TicketState.IN_PROGRESS),
    ("Feedback", False, TicketState.IN_PROGRESS), ("Resolved", False, TicketState.RESOLVED),
    ("Closed", True, TicketState.CLOSED), ("Rejected", True, TicketState.CLOSED),
    ("Won't fix", True, TicketState.CLOSED), ("Testing", False, TicketState.IN_PROGRESS),
])
def test_state_by_name_with_a_closed_fallback(name, closed, state):
    assert state_of(name, closed) == state


def journal(jid, user_id, notes="", change=None):
    details = [{"property": "attr", "name": "status_id", "old_value": change[0], "new_value": change[1]}] \
        if change else []
    return {"id": jid, "user": {"id": user_id, "name": f"user{user_id}"}, "notes": notes, "details": details,
            "created_on": "2026-01-05T10:00:00Z"}


def test_reopened_comments_and_occurrences_come_from_journals():
    ref = TicketRef("redmine", "#1")
    issue = {"id": 1, "status": {"id": 1, "name": "New", "is_closed": False}, "subject": "s",
             "assigned_to": {"name": "Grace"}, "fixed_version": {"name": "1.2"}, "priority": {"name": "High"},
             "updated_on": "2026-01-05T10:00:00Z"}
    journals = [journal(1, 9, "Fixed", ("1", "5")), journal(2, 5, "+1 occurrence: reported again by Ada"),
                journal(3, 5, "note by our own user"), journal(4, 9, "Still broken", ("5", "1"))]
    status = ticket_status(ref, issue, journals, meta())
    assert status.state == TicketState.REOPENED
    assert [(c.author, c.body) for c in status.comments] == [("user9", "Fixed"), ("user9", "Still broken")]
    assert status.occurrences == 2 and status.assignee == "Grace" and status.fixed_in == "1.2"
    # Reopened and then taken up again is simply in progress (the last status change decides).
    journals.append(journal(5, 9, "", ("1", "2")))
    issue["status"] = {"id": 2, "name": "In Progress", "is_closed": False}
    assert ticket_status(ref, issue, journals, meta()).state == TicketState.IN_PROGRESS


def test_description_in_textile_and_markdown():
    report = Report(title="t", description="It broke", reporter=Reporter("Ada"), fingerprint="brfp-1",
                    system={"os": {"name": "Debian 12", "kernel": "6.1"}})
    shot = Upload(Attachment("screenshot.png", "screenshot", "image/png", 3, "x"), "screenshot.png", b"png",
                  "image/png")
    textile = description(report, [shot], ["logs/app.txt: the oldest 3 lines were left out"], "textile")
    assert "h3. What happened\n\nIt broke" in textile and "<pre>\nOS: Debian 12 (kernel 6.1" in textile
    assert "!screenshot.png!" in textile and '* attachment:"screenshot.png" (screenshot, 3 bytes)' in textile
    assert "h3. Changed to fit the tracker\n\n* logs/app.txt: the oldest 3 lines" in textile
    assert textile.endswith(f"reporter-app key: {report.idempotency_key} · fingerprint: brfp-1\n")
    markdown = description(report, [shot], [], "markdown")
    assert "### What happened" in markdown and "```\nOS: Debian 12 (kernel 6.1" in markdown
    assert "![screenshot.png](screenshot.png)" in markdown
