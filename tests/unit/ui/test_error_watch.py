"""Detected error -> prompt -> pre-filled form, in the real flow (offscreen, local tracker, a real temp log)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence
from reporter_app.detect.dedup import DedupDecision, FingerprintMap
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.detect.service import DetectionService
from reporter_app.detect.watch import LogWatcher
from reporter_app.model import Impact
from reporter_app.trackers.base import TicketRef
from ui.core_worker import CoreWorker
from ui.dedup_banner import DedupBanner
from ui.error_watch import ErrorWatch
from ui.report_flow import ReportFlow
from ui.tray import AppFace, TrayActions

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")

TRACE = """\
Traceback (most recent call last):
  File "/srv/shop/app/views.py", line 12, in checkout
    pay(order)
KeyError: 'currency'
2026-01-05 09:00:01 INFO shop: next request
"""


class Setup:
    def __init__(self, home: Path) -> None:
        self.log = home / "app.log"
        self.log.write_text("", encoding="utf-8")
        (home / "config.toml").write_text(
            f'[capture]\nactivity_events = 0\n\n[[logs]]\nname = "app"\npath = "{self.log}"\n\n'
            '[detect]\nenabled = true\n', encoding="utf-8")
        self.ctx = AppContext.load()
        self.core = CoreWorker()
        self.flow = ReportFlow(self.ctx, self.core)
        self.face = AppFace(TrayActions(""), force_window=True)
        self.filed = 0

        def factory() -> DetectionService:
            # Polling keeps the test independent of inotify timing; the interval keeps it quick.
            watcher = LogWatcher([str(self.log)], poll_interval=0.05, idle_flush=0.1, use_inotify=False)
            return DetectionService(self.ctx, watcher=watcher)

        self.watch = ErrorWatch(self.ctx, self.core, self.flow, self.face, on_filed=self._filed,
                                service_factory=factory)
        self.watch.start()
        assert self.watch.wait_ready(10)

    def _filed(self) -> None:
        self.filed += 1

    def append(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(text)

    def close(self) -> None:
        self.watch.stop()
        if self.watch.prompt is not None:
            self.watch.prompt.close()
        self.flow.shutdown()
        self.core.shutdown()
        self.face.hide()
        if self.face.window is not None:
            self.face.window.deleteLater()


@pytest.fixture
def setup(qtbot: QtBot, reporter_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.delenv("DISPLAY", raising=False)
    made = Setup(reporter_home)
    qtbot.addWidget(made.flow.form)
    yield made
    made.close()


def test_a_detected_error_prompts_and_opens_the_prefilled_form(qtbot: QtBot, setup: Setup) -> None:
    with qtbot.waitSignal(setup.watch.prompt_shown, timeout=10_000) as shown:
        setup.append(TRACE)
    assert shown.args == ["KeyError: 'currency'"]
    assert setup.watch.prompt is not None and setup.watch.prompt.isVisible()
    assert setup.watch.prompt.message.text() == "Error detected: KeyError: 'currency' — Report it?"
    assert setup.face.window is not None
    assert setup.face.window.message.text() == "Error detected: KeyError: 'currency' — Report it?"

    with qtbot.waitSignal(setup.watch.form_prefilled):
        setup.watch.prompt.report_button.click()
    form = setup.flow.form
    assert form.isVisible() and not setup.watch.prompt.isVisible()
    assert form.title_edit.text() == "KeyError: 'currency'"
    assert "pay(order)" in form.description_edit.toPlainText()
    assert not form.dedup_banner.isVisible()  # nothing filed yet: no offer
    # The trace with its context arrives with the other logs, checkable like them.
    qtbot.waitUntil(lambda: any("detected-app" in form.attachments.item(i).text()
                                for i in range(form.attachments.count())), timeout=10_000)
    draft = form.draft()
    assert draft.fingerprint.startswith("brfp-") and draft.merge_duplicates

    form.impact_group.buttons()[1].click()
    with qtbot.waitSignal(setup.flow.report_queued, timeout=10_000) as queued:
        form.request_submit()
    report_id = queued.args[0]
    bundle = setup.ctx.paths.reports_dir / report_id
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert report["fingerprint"] == draft.fingerprint
    assert (bundle / "logs" / "detected-app.txt").is_file()


def test_not_now_snoozes_the_error(qtbot: QtBot, setup: Setup) -> None:
    with qtbot.waitSignal(setup.watch.prompt_shown, timeout=10_000):
        setup.append(TRACE)
    assert setup.watch.prompt is not None
    setup.watch.prompt.later_button.click()
    assert setup.watch.pending is None and not setup.watch.prompt.isVisible()
    service = setup.watch.service
    assert service is not None
    [silence] = service.policy.silences()
    assert silence.fingerprint.startswith("brfp-") and silence.kind == "snooze"


def test_banner_offers_the_known_ticket_and_new_report_declines_the_merge(qtbot: QtBot) -> None:
    banner = DedupBanner()
    qtbot.addWidget(banner)
    ref = TicketRef(backend="redmine", key="#42", url="")
    banner.offer(DedupDecision("brfp-0123456789ab", ref, "tracker", "In Progress", "", None))
    assert not banner.isHidden()
    assert banner.label.text() == "Already reported as #42 (In Progress): add my occurrence and follow it"
    assert banner.merge_duplicates
    banner.new_button.click()
    assert not banner.merge_duplicates and banner.fingerprint == "brfp-0123456789ab"
    banner.clear()
    assert banner.merge_duplicates and banner.fingerprint == "" and banner.isHidden()


def _file_elsewhere(title: str) -> str:
    """Another installation sharing the local tracker filed this trace: the tracker knows it, this map doesn't."""
    fingerprint = fingerprint_event(detect_events(TRACE.splitlines())[0])
    other = AppContext.load()
    other.submit(Draft(title=title, impact=Impact.MAJOR, fingerprint=fingerprint), Evidence())
    outcomes = other.send_pending()
    assert outcomes is not None and [o.ticket.key for o in outcomes if o.ticket] == ["LOCAL-1"]
    other.outbox.close()
    FingerprintMap.in_data_dir(other.paths.data_dir).unlink(fingerprint)
    return fingerprint


def test_a_ticket_the_tracker_knows_is_offered_then_repeats_become_plus_ones(qtbot: QtBot, setup: Setup) -> None:
    fingerprint = _file_elsewhere("KeyError: 'currency'")
    with qtbot.waitSignal(setup.watch.prompt_shown, timeout=10_000):
        setup.append(TRACE)
    with qtbot.waitSignal(setup.watch.form_prefilled):
        setup.watch.open_pending()
    form = setup.flow.form
    assert not form.dedup_banner.isHidden()
    assert form.dedup_banner.label.text().startswith("Already reported as LOCAL-1")
    assert form.draft().merge_duplicates and form.draft().fingerprint == fingerprint
    form.dedup_banner.new_button.click()
    assert not form.draft().merge_duplicates

    # The lookup remembered LOCAL-1: the next time it happens nobody is asked, a "+1" is queued.
    with qtbot.assertNotEmitted(setup.watch.prompt_shown, wait=500), \
            qtbot.waitSignal(setup.watch.repeats_queued, timeout=10_000) as queued:
        setup.append(TRACE)
    assert queued.args == [1] and setup.filed == 1  # the outbox was kicked
    bundles = [json.loads((p / "report.json").read_text(encoding="utf-8"))
               for p in setup.ctx.paths.reports_dir.iterdir() if (p / "report.json").is_file()]
    [plus_one] = [b for b in bundles if b["description"].startswith("Seen again")]
    assert plus_one["fingerprint"] == fingerprint and plus_one["merge_duplicates"]
    assert "New since the last report: 1 occurrence" in plus_one["description"]
    assert plus_one["title"] == "KeyError: 'currency'"
