"""A stack trace pasted into the manual form gives the report its fingerprint and the "already reported" offer.

The form and banner alone (offscreen), then the real ReportFlow with a core worker, the local tracker's
fingerprint map and a real temp home: the lookup runs on the core worker and answers the banner.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext
from reporter_app.detect.dedup import DedupDecision, FingerprintMap
from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event
from reporter_app.model import Role
from reporter_app.trackers.base import TicketRef
from ui.core_worker import CoreWorker
from ui.report_flow import ReportFlow
from ui.report_form import ReportForm

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")

PASTED = """When I pay, the page goes blank. The console said:

Traceback (most recent call last):
  File "/srv/shop/app/views.py", line 12, in checkout
    pay(order)
  File "/srv/shop/app/payments.py", line 40, in pay
    raise PaymentError(f"card declined for order {order.id}")
app.errors.PaymentError: card declined for order 17

and then nothing works."""
LOGGED = """2026-01-05 09:00:00,120 ERROR shop.views: checkout failed
Traceback (most recent call last):
  File "/home/ada/shop/app/views.py", line 14, in checkout
    pay(order)
  File "/home/ada/shop/app/payments.py", line 41, in pay
    raise PaymentError(f"card declined for order {order.id}")
app.errors.PaymentError: card declined for order 4242
"""
OTHER = 'Traceback (most recent call last):\n  File "/srv/a.py", line 1, in main\n    f()\nKeyError: \'x\'\n'


def logged_fingerprint() -> str:
    """What the log watcher calls the same error (other paths, lines and order number: the same root cause)."""
    return fingerprint_event(detect_events(LOGGED.splitlines())[0])


def decision(fingerprint: str, key: str = "") -> DedupDecision:
    ref = TicketRef(backend="redmine", key=key, url="") if key else None
    return DedupDecision(fingerprint, ref, "tracker" if ref else "", "New" if ref else "", "", None)


@pytest.fixture
def form(qtbot: QtBot) -> ReportForm:
    made = ReportForm(Role.QA)
    qtbot.addWidget(made)
    return made


def test_a_pasted_trace_gives_the_draft_the_detected_errors_fingerprint(qtbot: QtBot, form: ReportForm) -> None:
    with qtbot.waitSignal(form.fingerprint_changed, timeout=5_000) as changed:
        form.description_edit.setPlainText(PASTED)
    assert changed.args == [logged_fingerprint()]
    assert form.draft().fingerprint == logged_fingerprint() and form.draft().merge_duplicates
    assert form.dedup_banner.isHidden()  # nothing known yet: no offer

    form.dedup_banner.offer_if_current(decision(logged_fingerprint(), "#7"))
    assert not form.dedup_banner.isHidden()
    assert form.dedup_banner.label.text() == "Already reported as #7 (New): add my occurrence and follow it"
    form.dedup_banner.new_button.click()
    assert not form.draft().merge_duplicates

    with qtbot.waitSignal(form.fingerprint_changed, timeout=5_000) as changed:
        form.description_edit.setPlainText("When I pay, the page goes blank.")
    assert changed.args == [""]
    assert form.draft().fingerprint == "" and form.draft().merge_duplicates and form.dedup_banner.isHidden()


def test_a_trace_in_the_steps_counts_and_a_stale_answer_is_ignored(qtbot: QtBot, form: ReportForm) -> None:
    with qtbot.waitSignal(form.fingerprint_changed, timeout=5_000):
        form.steps_edit.setPlainText(OTHER)
    other = form.draft().fingerprint
    assert other.startswith("brfp-") and other != logged_fingerprint()
    form.dedup_banner.offer_if_current(decision(logged_fingerprint(), "#7"))  # the answer for an older text
    assert form.dedup_banner.isHidden() and form.draft().fingerprint == other


def test_typing_elsewhere_or_a_detected_error_keeps_the_fingerprint(qtbot: QtBot, form: ReportForm) -> None:
    form.dedup_banner.offer(decision("brfp-0123456789ab", "#3"))  # a detected error's prefilled form
    with qtbot.assertNotEmitted(form.fingerprint_changed, wait=1_000):
        form.description_edit.setPlainText(PASTED)
        form.title_edit.setText("Checkout is broken")
    assert form.draft().fingerprint == "brfp-0123456789ab"
    form.reset()
    assert form.draft().fingerprint == "" and form.dedup_banner.isHidden()


class Flow:
    def __init__(self, home: Path) -> None:
        (home / "config.toml").write_text("[capture]\nactivity_events = 0\n", encoding="utf-8")
        self.ctx = AppContext.load()
        self.core = CoreWorker()
        self.flow = ReportFlow(self.ctx, self.core)

    def close(self) -> None:
        self.flow.shutdown()
        self.core.shutdown()


@pytest.fixture
def flow(qtbot: QtBot, reporter_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flow]:
    monkeypatch.delenv("DISPLAY", raising=False)
    made = Flow(reporter_home)
    qtbot.addWidget(made.flow.form)
    yield made
    made.close()


def test_the_flow_looks_the_pasted_trace_up_and_the_report_carries_it(qtbot: QtBot, flow: Flow) -> None:
    FingerprintMap.in_data_dir(flow.ctx.paths.data_dir).link(
        logged_fingerprint(), TicketRef(backend="local", key="LOCAL-5", url=""), flow.ctx.clock.now())
    flow.flow.open_form()
    form = flow.flow.form
    form.title_edit.setText("Paying fails")
    form.description_edit.setPlainText(PASTED)
    qtbot.waitUntil(lambda: not form.dedup_banner.isHidden(), timeout=10_000)
    assert form.dedup_banner.label.text().startswith("Already reported as LOCAL-5")
    form.impact_group.buttons()[1].click()
    with qtbot.waitSignal(flow.flow.report_queued, timeout=10_000) as queued:
        form.request_submit()
    report = json.loads((flow.ctx.paths.reports_dir / queued.args[0] / "report.json").read_text(encoding="utf-8"))
    assert report["fingerprint"] == logged_fingerprint() and report["merge_duplicates"] is True
