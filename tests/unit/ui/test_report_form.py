from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QListWidget, QPlainTextEdit
from pytestqt.qtbot import QtBot

from reporter_app.collect import Evidence, LogEvidence
from reporter_app.model import Impact, Priority, Reach, Role
from ui.attachments import filter_evidence
from ui.drafts import FormDraft
from ui.report_form import WINDOW_TITLE, ReportForm


# The offscreen platform cannot resize to size hints; it says so on every top-level show.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


def make_form(qtbot: QtBot, role: Role = Role.QA, **kwargs: object) -> ReportForm:
    form = ReportForm(role, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(form)
    return form


def show(qtbot: QtBot, form: ReportForm) -> None:
    """Shown and active: window shortcuts (Ctrl+Enter, Esc) only fire in the active window."""
    form.show()
    form.activateWindow()
    qtbot.waitUntil(form.isActiveWindow)  # qtbot.waitActive returns at once on the offscreen platform


def evidence() -> Evidence:
    return Evidence(system={"os": "Linux"}, screenshot_meta={"width": 8, "height": 4},
                    activity=[{"at": "2024-01-01T10:00:00", "title": "Editor", "process": "ed"}])


def test_title_and_window_title(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    assert form.windowTitle() == WINDOW_TITLE
    show(qtbot, form)
    qtbot.waitExposed(form)
    assert form.focusWidget() is form.title_edit


def test_every_control_has_an_accessible_name(qtbot: QtBot) -> None:
    form = make_form(qtbot, components=["Billing"])
    controls = form.findChildren(QLineEdit) + form.findChildren(QPlainTextEdit) + form.findChildren(QComboBox) \
        + form.findChildren(QAbstractButton) + form.findChildren(QListWidget)
    unnamed = [c for c in controls if not c.accessibleName() and not getattr(c, "text", lambda: "")()
               and c.parent() is not None and c.objectName() != "qt_scrollarea_viewport"]
    assert not [c for c in unnamed if c.isVisibleTo(form)], unnamed


def test_submit_needs_a_title_then_an_impact(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    show(qtbot, form)
    with qtbot.assertNotEmitted(form.submit_requested):
        qtbot.keyClick(form.title_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "title" in form.error_label.text()
    form.title_edit.setText("Totals are wrong")
    with qtbot.assertNotEmitted(form.submit_requested):
        form.request_submit()
    assert "how bad" in form.error_label.text()
    qtbot.keyClick(form.title_edit, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # Alt+2: major
    assert form.impact() is Impact.MAJOR
    with qtbot.waitSignal(form.submit_requested, timeout=1000):
        qtbot.keyClick(form.description_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    draft = form.draft()
    assert (draft.title, draft.impact, draft.reach, draft.priority) == ("Totals are wrong", Impact.MAJOR,
                                                                        Reach.JUST_ME, None)


def test_escape_on_an_empty_form_cancels_without_asking(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    form = make_form(qtbot)
    show(qtbot, form)
    monkeypatch.setattr(form, "confirm_discard", lambda: pytest.fail("must not ask"))
    with qtbot.waitSignal(form.cancelled, timeout=1000):
        qtbot.keyClick(form.title_edit, Qt.Key.Key_Escape)


def test_escape_asks_before_discarding_typed_text(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    form = make_form(qtbot)
    show(qtbot, form)
    form.title_edit.setText("half a report")
    answers = [False, True]
    monkeypatch.setattr(form, "confirm_discard", lambda: answers.pop(0))
    with qtbot.assertNotEmitted(form.cancelled):
        qtbot.keyClick(form.title_edit, Qt.Key.Key_Escape)
    with qtbot.waitSignal(form.cancelled, timeout=1000):
        qtbot.keyClick(form.title_edit, Qt.Key.Key_Escape)


def test_priority_is_suggested_with_its_reason(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    form.impact_group.buttons()[0].click()  # blocker
    assert form.priority_combo.currentText() == "Suggested: P2"
    assert "cannot continue" in form.priority_reason.text()
    form.reach_group.buttons()[2].click()  # many users
    assert form.priority_combo.currentText() == "Suggested: P1"


def test_triage_roles_may_override_the_priority(qtbot: QtBot) -> None:
    form = make_form(qtbot, role=Role.SUPPORT)
    form.impact_group.buttons()[3].click()
    assert form.priority_combo.isEnabled()
    form.priority_combo.setCurrentIndex(form.priority_combo.findData("P1"))
    assert form.draft().priority is Priority.P1


def test_stakeholders_see_the_priority_read_only(qtbot: QtBot) -> None:
    form = make_form(qtbot, role=Role.STAKEHOLDER)
    form.impact_group.buttons()[0].click()
    assert not form.priority_combo.isEnabled()
    assert form.priority_combo.count() == 1  # only the suggestion
    assert form.draft().priority is None


def test_impact_is_in_plain_words(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    assert [b.text() for b in form.impact_group.buttons()] == [i.plain_words for i in Impact]


def test_components_come_from_config_and_hide_when_empty(qtbot: QtBot) -> None:
    assert make_form(qtbot).component_combo.isHidden()
    form = make_form(qtbot, components=["Billing", "Login"])
    form.component_combo.setCurrentIndex(2)
    assert form.draft().component == "Login"


def test_attachments_each_have_a_toggle_and_logs_arrive_later(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    form.prepare(QImage(8, 4, QImage.Format.Format_RGB32), evidence())
    assert form.attachments.included() == {"screenshot", "system", "activity"}
    later = evidence()
    later.logs = [LogEvidence(name="myapp", text="boot ok", line_count=1)]
    form.set_evidence(later)
    assert "log:myapp" in form.attachments.included()
    form.attachments.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert "screenshot" not in form.attachments.included()


def test_unchecked_items_are_not_sent_and_the_report_says_so() -> None:
    full = evidence()
    full.screenshot_png = b"png"
    full.logs = [LogEvidence(name="a", text="x", line_count=1), LogEvidence(name="b", text="y", line_count=1)]
    sent = filter_evidence(full, {"system", "log:b"})
    assert sent.screenshot_png is None and sent.activity == [] and [l.name for l in sent.logs] == ["b"]
    assert sent.errors["screenshot"] == "left out by the reporter"
    assert sent.errors["logs.a"] == "left out by the reporter"
    assert full.screenshot_png == b"png"  # the form's own copy is untouched


def test_a_kept_draft_is_offered_then_restored(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    form.offer_draft(FormDraft(title="Crash on save", impact="blocker", reach="my_team", saved_at="2024-05-01T10:00"))
    assert form.restore_bar.isVisibleTo(form)
    assert "Crash on save" in form.restore_label.text()
    form.restore_button.click()
    assert form.title_edit.text() == "Crash on save"
    assert form.impact() is Impact.BLOCKER and form.reach() is Reach.MY_TEAM
    assert not form.restore_bar.isVisibleTo(form)


def test_typing_saves_the_draft_debounced(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    with qtbot.waitSignal(form.draft_changed, timeout=2000):
        form.title_edit.setText("x")


def test_redactions_are_counted(qtbot: QtBot) -> None:
    from reporter_app.app import Draft
    from ui.preview import PreviewDialog, preview_text

    data = evidence()
    data.logs = [LogEvidence(name="app", text="token=[REDACTED:github-token] ok", line_count=1)]
    data.redactions = Counter({"github-token": 1})
    text = preview_text(Draft(title="T", impact=Impact.MINOR), data)
    assert "[REDACTED:github-token]" in text and "logs/app.txt" in text
    dialog = PreviewDialog(Draft(title="T"), data, None)
    qtbot.addWidget(dialog)
    block = dialog.text.document().findBlock(dialog.text.toPlainText().index("[REDACTED"))
    formats = block.layout().formats()
    assert any(f.format.background().color().name() == "#ffd54f" for f in formats)


def test_a_missing_screenshot_says_so_in_plain_words_with_the_reason_on_hover(qtbot: QtBot) -> None:
    form = make_form(qtbot)
    reason = "ScreenshotUnavailable: screenshot portal error: No such interface org.freedesktop.portal.Screenshot"
    form.prepare(None, Evidence(errors={"screenshot": reason}))
    assert form.thumbnail.text() == "No screenshot"
    assert form.thumbnail.toolTip() == reason
    assert not form.annotate_button.isEnabled()
    form.prepare(None, Evidence(errors={"screenshot": 'turned off in the configuration (capture.screenshot = "none")'}))
    assert form.thumbnail.text() == "No screenshot (turned off in the settings)"
    image = QImage(8, 4, QImage.Format.Format_RGB32)
    form.prepare(image, evidence())
    assert form.thumbnail.toolTip() == "" and form.annotate_button.isEnabled()
