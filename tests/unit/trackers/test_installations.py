"""Distinct installations per ticket: the tag, the shared scan, and the marker as each backend renders it.

Every rendering is read back by the same `count_installations` the backends use, so a format that hides or
mangles the marker fails here rather than as a wrong count on a real ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reporter_app.model import Report, Reporter
from reporter_app.trackers.base import TicketRef, TicketState, TicketStatus
from reporter_app.trackers.installations import (
    InstallationCount,
    count_installations,
    installation_line,
    installation_tag,
    report_tag,
)
from reporter_app.trackers.jira_text import (
    adf_description,
    adf_occurrence,
    adf_plain,
    wiki_description,
    wiki_occurrence,
)
from reporter_app.trackers.markdown_text import is_ours, issue_body, occurrence_body
from reporter_app.trackers.redmine_text import description, occurrence_note

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FP = "brfp-1a2b3c4d5e6f"
ADA, BOB, CY = "a" * 32, "b" * 32, "c" * 32


def report(installation: str = ADA, fingerprint: str = FP, text: str = "Pressed Pay.") -> Report:
    return Report(title="Checkout fails", description=text, fingerprint=fingerprint, installation_id=installation,
                  reporter=Reporter("Ada Tester"), created_at=WHEN)


def note(installation: str) -> str:
    """A Redmine "+1" journal of one installation (any backend's would do: the scan is format-blind)."""
    return occurrence_note(report(installation), [], [], "textile", WHEN)


def ticket(installation: str = ADA) -> str:
    return description(report(installation), [], [], "textile")


# -- the tag -------------------------------------------------------------------------------------------------
def test_tag_is_stable_per_root_cause_and_unlinkable_across_tickets() -> None:
    tag = installation_tag(ADA, FP)
    assert len(tag) == 16 and int(tag, 16) >= 0
    assert installation_tag(ADA, FP) == tag  # every report of this machine and root cause: one tag
    assert installation_tag(BOB, FP) != tag  # another machine
    assert installation_tag(ADA, "brfp-ffffffffffff") != tag  # same machine, another ticket: not linkable
    assert ADA not in installation_line(report()) and tag in installation_line(report())  # never the raw id
    assert installation_tag("", FP) == "" and installation_line(report("")) == ""  # an old bundle: no marker


# -- the scan ------------------------------------------------------------------------------------------------
def test_several_machines_are_counted_once_each_with_this_report() -> None:
    count = count_installations([ticket(ADA), note(BOB), note(ADA), note(BOB)], own=report_tag(report(CY)))
    assert count == InstallationCount(3, exact=True)
    assert count.line == "Distinct installations reporting it: 3."


def test_repeats_and_retries_of_one_machine_count_once() -> None:
    # The ticket, two earlier "+1"s, a note posted twice by a retry, and now a third report: all from Ada.
    entries = [ticket(ADA), note(ADA), note(ADA), note(ADA)]
    assert count_installations(entries, own=report_tag(report(ADA))) == InstallationCount(1, exact=True)
    assert count_installations(entries, own=report_tag(report(BOB))).line == "Distinct installations reporting it: 2."


def test_old_ticket_without_markers_counts_what_it_sees_and_says_at_least() -> None:
    old = description(report(""), [], [], "textile")  # filed by a version without installation ids
    count = count_installations([old, note(BOB)], own=report_tag(report(CY)))
    assert count == InstallationCount(2, exact=False)
    assert count.line == "Distinct installations reporting it: at least 2 (some earlier reports carry no " \
                         "installation id)."
    # Only the old ticket, seen by a newer version's first "+1": the ticket itself is someone, so at least 1.
    assert count_installations([old], own="").words == "at least 1"


def test_peoples_comments_never_count_and_never_make_it_a_lower_bound() -> None:
    entries = [ticket(ADA), "Can you send the export file?", "— Bo (via reporter-app)\nLooking into it"]
    assert count_installations(entries) == InstallationCount(1, exact=True)


def test_an_unread_part_of_the_notes_or_an_unmarked_own_report_is_a_lower_bound() -> None:
    assert count_installations([ticket(ADA)], own=report_tag(report(BOB)), all_read=False).words == "at least 2"
    assert count_installations([ticket(ADA)], own="").words == "at least 1"  # this report has no id (old bundle)
    assert count_installations([]) == InstallationCount(0, exact=True)


def test_a_quoted_or_malformed_tag_is_not_invented() -> None:
    text = "reporter-app installation: xyz\nreporter-app installation: 0123456789abcdef0\nreporter-app key: ra-1"
    assert count_installations([text]) == InstallationCount(0, exact=False)


# -- every backend's rendering is read back -------------------------------------------------------------------
def _renderings(installation: str) -> dict[str, tuple[str, str]]:
    """(description, occurrence note) as each backend writes them, as text the scan gets back from the tracker."""
    r = report(installation)
    count = InstallationCount(2)
    return {
        "redmine-textile": (description(r, [], [], "textile"), occurrence_note(r, [], [], "textile", WHEN, count)),
        "redmine-markdown": (description(r, [], [], "markdown"),
                             occurrence_note(r, [], [], "markdown", WHEN, count)),
        "jira-cloud": (adf_plain(adf_description(r, [], [])), adf_plain(adf_occurrence(r, [], [], WHEN, count))),
        "jira-dc": (wiki_description(r, [], []), wiki_occurrence(r, [], [], WHEN, count)),
        "markdown": (issue_body(r, [], {}, [], 65536), occurrence_body(r, [], {}, [], WHEN, count)),
    }


@pytest.mark.parametrize("backend", ["redmine-textile", "redmine-markdown", "jira-cloud", "jira-dc", "markdown"])
def test_each_format_carries_the_marker_and_the_note_says_the_count(backend: str) -> None:
    ada_ticket, ada_note = _renderings(ADA)[backend]
    bob_ticket, bob_note = _renderings(BOB)[backend]
    assert count_installations([ada_ticket, bob_note, ada_note]) == InstallationCount(2, exact=True)
    assert "Distinct installations reporting it: 2." in ada_note
    assert "Distinct installations reporting it" not in ada_ticket  # a new ticket is one machine: no noise
    # The marker sits just above the key line, which stays last (find() and the retry check rely on it).
    last = ada_note.rstrip().splitlines()
    assert "reporter-app installation: " + report_tag(report(ADA)) in last[-2] and "ra-" in last[-1]


def test_markdown_marker_is_a_hidden_comment_and_our_note_is_still_ours() -> None:
    body, note_text = _renderings(ADA)["markdown"]
    tag = report_tag(report(ADA))
    assert f"<!-- reporter-app installation: {tag} -->" in body
    assert f"<!-- reporter-app installation: {tag} -->" in note_text and is_ours(note_text)


def test_a_report_without_installation_id_renders_as_before() -> None:
    for ticket_text, note_text in _renderings("").values():
        assert "reporter-app installation" not in ticket_text + note_text


def test_markdown_body_cut_to_the_limit_keeps_both_markers() -> None:
    r = report(ADA, text="x" * 5000)
    body = issue_body(r, [], {}, [], 1200)
    assert len(body) <= 1200
    assert count_installations([body]) == InstallationCount(1) and body.rstrip().endswith("-->")


# -- what My reports shows -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("occurrences", "installations", "exact", "expected"), [
    (1, 1, True, ""),
    (1, 0, True, ""),
    (1, 0, False, ""),  # a lone report filed by an older version
    (3, 2, True, "3 occurrences on 2 machines"),
    (2, 1, True, "2 occurrences on 1 machine"),
    (4, 2, False, "4 occurrences on at least 2 machines"),
    (3, 0, True, "3 occurrences"),  # a backend that cannot tell (webhook without counts)
])
def test_occurrence_summary(occurrences: int, installations: int, exact: bool, expected: str) -> None:
    status = TicketStatus(ref=TicketRef("redmine", "#1"), state=TicketState.NEW, status_name="New",
                          occurrences=occurrences, installations=installations, installations_exact=exact)
    assert status.occurrence_summary == expected


# -- report.json -----------------------------------------------------------------------------------------------
def test_report_json_keeps_the_installation_id_and_reads_old_bundles_without_it() -> None:
    data = report(ADA).to_json()
    assert data["installation_id"] == ADA and Report.from_json(data).installation_id == ADA
    del data["installation_id"]
    assert Report.from_json(data).installation_id == ""
    with pytest.raises(ValueError, match="installation_id must be a string"):
        Report.from_json({**data, "installation_id": 7})
