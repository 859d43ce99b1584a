"""Distinct installations against the real Redmine: two data dirs (two installation ids) report one root cause.

Each "machine" is its own home (config, data dir with its own installation-id, outbox, fingerprint map) with the
real outbox and sender; the shared Redmine is the one of ``tests.support.redmine`` (pristine per test).
"""

from __future__ import annotations

from pathlib import Path

from reporter_app.app import AppContext, Draft
from reporter_app.bundle import BundleWriter
from reporter_app.collect import Evidence
from reporter_app.credentials import TOKEN_ENV
from reporter_app.detect.dedup import INSTALLATION_ID_FILE
from reporter_app.model import Impact, Report, Reporter
from reporter_app.sender import SendOutcome, SendResult
from reporter_app.trackers.base import TicketRef
from reporter_app.trackers.installations import report_tag
from tests.support.redmine import Redmine

FINGERPRINT = "brfp-0123456789ab"


class Machine:
    def __init__(self, home: Path, redmine: Redmine, name: str) -> None:
        home.mkdir(parents=True)
        (home / "config.toml").write_text(
            f'[reporter]\nname = "{name}"\n\n'
            f'[tracker]\nbackend = "redmine"\nurl = "{redmine.url}"\nproject = "{redmine.project}"\n',
            encoding="utf-8")
        self.ctx = AppContext.load(home=str(home), env={TOKEN_ENV: redmine.reporter_api_key or redmine.api_key})

    def report(self, title: str) -> SendOutcome:
        _bundle, entry = self.ctx.submit(Draft(title=title, description="The checkout page shows a blank total.",
                                               impact=Impact.MAJOR, fingerprint=FINGERPRINT), Evidence())
        outcomes = self.ctx.send_pending()
        assert outcomes is not None and [o.entry.id for o in outcomes] == [entry.id], outcomes
        return outcomes[0]


def _notes(redmine: Redmine, issue_id: int) -> list[str]:
    return [j["notes"] for j in redmine.issue(issue_id)["journals"] if (j.get("notes") or "").startswith("+1")]


def test_two_machines_one_ticket_and_the_notes_count_installations(redmine: Redmine, tmp_path: Path) -> None:
    ada, bob = Machine(tmp_path / "ada", redmine, "Ada"), Machine(tmp_path / "bob", redmine, "Bob")
    assert ada.report("Blank total at checkout").result == SendResult.FILED
    [issue] = redmine.issues()
    adas_id = (ada.ctx.paths.data_dir / INSTALLATION_ID_FILE).read_text().strip()
    # The ticket names Ada's installation by its tag only: the raw id never leaves the machine.
    assert "reporter-app installation: " in issue["description"] and adas_id not in issue["description"]

    outcome = bob.report("Checkout total is empty")
    bobs_id = (bob.ctx.paths.data_dir / INSTALLATION_ID_FILE).read_text().strip()
    assert len({adas_id, bobs_id}) == 2 and len(bobs_id) == 32  # made once per data dir, random
    assert outcome.result == SendResult.OCCURRENCE and outcome.ticket is not None
    assert outcome.ticket.key == f"#{issue['id']}"  # one ticket: Bob's sender found it by the fingerprint
    [bobs] = _notes(redmine, issue["id"])
    assert bobs.startswith("+1 occurrence: reported again by Bob")
    assert "Distinct installations reporting it: 2." in bobs

    assert ada.report("Blank total again").result == SendResult.OCCURRENCE
    notes = _notes(redmine, issue["id"])
    assert len(notes) == 2 and "Distinct installations reporting it: 2." in notes[-1]  # Ada again: still 2
    assert len(redmine.issues()) == 1

    status = bob.ctx.tracker().statuses([TicketRef("redmine", f"#{issue['id']}")])[f"#{issue['id']}"]
    assert (status.occurrences, status.installations, status.installations_exact) == (3, 2, True)
    assert status.occurrence_summary == "3 occurrences on 2 machines"


def test_a_ticket_filed_before_installation_ids_gives_a_lower_bound(redmine: Redmine, tmp_path: Path) -> None:
    bob = Machine(tmp_path / "bob", redmine, "Bob")
    # As an older reporter-app filed it: a report.json without installation_id.
    old = Report(title="Blank total at checkout", fingerprint=FINGERPRINT, reporter=Reporter("Ada"))
    assert old.installation_id == "" and report_tag(old) == ""
    ref = bob.ctx.tracker().create(old, BundleWriter(tmp_path / "old-reports", old).commit())

    assert bob.report("Checkout total is empty").result == SendResult.OCCURRENCE
    [note] = _notes(redmine, int(ref.key.lstrip("#")))
    assert "Distinct installations reporting it: at least 1 (some earlier reports carry no installation id)." \
        in note
    status = bob.ctx.tracker().statuses([ref])[ref.key]
    assert status.occurrence_summary == "2 occurrences on at least 1 machine"
