"""The "Report a problem" form: created once at startup, then only filled and shown.

It is a plain widget: it knows the report's fields and the reporter's role, not the outbox or
the capture. `ReportFlow` (ui/report_flow.py) fills it and acts on its signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QKeySequence, QPixmap, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from reporter_app.app import Draft
from reporter_app.collect import Evidence
from reporter_app.model import Impact, Priority, Reach, Role
from reporter_app.severity import DEFAULT_RULES, PriorityRule, suggest_priority
from ui.attachments import AttachmentList, ScreenshotThumbnail
from ui.background import run_in_background
from ui.dedup_banner import DedupBanner
from ui.drafts import FormDraft

WINDOW_TITLE = "Report a problem"
THUMBNAIL_WIDTH = 220
DRAFT_SAVE_DELAY_MS = 400
TRACE_CHECK_DELAY_MS = 500  # after typing or pasting stops: is there a stack trace in the text?


def _trace_fingerprint(text: str) -> str:
    """The fingerprint of the first stack trace in the text, "" without one (a worker: a pasted log can be long)."""
    from reporter_app.detect.fingerprint import fingerprint_text  # not needed before anything is typed

    return fingerprint_text(text) or ""


def _text_box(name: str, placeholder: str, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(name)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)  # Tab moves on, as in every other field: keyboard-only reporters
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


class ReportForm(QWidget):
    submit_requested = Signal()
    cancelled = Signal()
    draft_changed = Signal()  # debounced: time to save the draft
    annotate_requested = Signal()
    preview_requested = Signal()
    draft_restore_declined = Signal()
    # A stack trace typed or pasted into "What happened"/steps has this fingerprint ("" once it is gone):
    # ReportFlow looks it up and answers with `dedup_banner.offer_if_current(...)`.
    fingerprint_changed = Signal(str)

    def __init__(self, role: Role, components: Sequence[str] = (), rules: Sequence[PriorityRule] = DEFAULT_RULES,
                 default_impact: Impact | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.rules = tuple(rules)
        self.default_impact = default_impact
        self._offered: FormDraft | None = None
        self.setWindowTitle(WINDOW_TITLE)
        self.setAccessibleName(WINDOW_TITLE)
        self.setObjectName("report-form")
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(DRAFT_SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.draft_changed)
        self._trace_timer = QTimer(self)
        self._trace_timer.setSingleShot(True)
        self._trace_timer.setInterval(TRACE_CHECK_DELAY_MS)
        self._trace_timer.timeout.connect(self._check_trace)
        self._trace_text = ""  # the text last looked at, so a change elsewhere in the form costs nothing
        self._trace_generation = 0
        self._build(components)
        self._wire_keys()
        self.reset()

    # ------------------------------------------------------------------ building

    def _build(self, components: Sequence[str]) -> None:
        outer = QVBoxLayout(self)
        self.restore_bar = self._build_restore_bar()
        outer.addWidget(self.restore_bar)
        # A detected error (ui/error_watch.py) or a pasted trace: "Already reported as KEY" or "File a new report".
        self.dedup_banner = DedupBanner()
        outer.addWidget(self.dedup_banner)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title_edit = QLineEdit()
        self.title_edit.setAccessibleName("Title (required)")
        self.title_edit.setPlaceholderText("One line: what went wrong?")
        form.addRow(self._label("&Title:", self.title_edit), self.title_edit)
        self.description_edit = _text_box("What happened", "What did you do, and what happened?", 4)
        form.addRow(self._label("What &happened:", self.description_edit), self.description_edit)
        self.expected_edit = _text_box("What you expected", "What did you expect instead?", 2)
        form.addRow(self._label("What you &expected:", self.expected_edit), self.expected_edit)
        self.steps_edit = _text_box("Steps to reproduce (optional)", "1. …  2. …  (optional)", 3)
        form.addRow(self._label("&Steps (optional):", self.steps_edit), self.steps_edit)

        self.impact_box, self.impact_group = self._radio_group(
            "How bad is it for you? (Alt+1 … Alt+4)", [(i.value, i.plain_words) for i in Impact])
        form.addRow(self.impact_box)
        self.reach_box, self.reach_group = self._radio_group(
            "Who is affected?", [(r.value, r.plain_words) for r in Reach])
        form.addRow(self.reach_box)

        self.priority_combo = QComboBox()
        self.priority_combo.setAccessibleName("Priority")
        self.priority_reason = QLabel()
        self.priority_reason.setWordWrap(True)
        self.priority_reason.setAccessibleName("Suggested priority and why")
        row = QHBoxLayout()
        row.addWidget(self.priority_combo)
        row.addWidget(self.priority_reason, 1)
        if not self.role.may_triage:
            # Stakeholders see what engineering will start from, but the choice is the team's.
            self.priority_combo.setEnabled(False)
            self.priority_combo.setToolTip("The team sets the priority; this is the suggestion.")
        form.addRow(self._label("&Priority:", self.priority_combo), row)

        self.component_combo = QComboBox()
        self.component_combo.setAccessibleName("Component")
        self.component_combo.addItem("(not sure)", "")
        for name in components:
            self.component_combo.addItem(str(name), str(name))
        self.component_label = self._label("&Component:", self.component_combo)
        form.addRow(self.component_label, self.component_combo)
        if not components:
            self.component_label.hide()
            self.component_combo.hide()
        outer.addLayout(form)

        outer.addWidget(self._build_attachments())

        self.error_label = QLabel()
        self.error_label.setObjectName("form-error")
        self.error_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error_label.setAccessibleName("Problem with the form")
        self.error_label.hide()
        outer.addWidget(self.error_label)

        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Show e&xactly what will be sent…")
        self.preview_button.setAccessibleName("Show exactly what will be sent")
        self.preview_button.clicked.connect(self.preview_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel (Esc)")
        self.cancel_button.clicked.connect(self.request_cancel)
        self.send_button = QPushButton("Send report")
        self.send_button.setAccessibleName("Send report (Ctrl+Enter)")
        self.send_button.setToolTip("Ctrl+Enter")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.request_submit)
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        outer.addLayout(buttons)

        for edit in (self.description_edit, self.expected_edit, self.steps_edit):
            edit.textChanged.connect(self._changed)
        for edit in (self.description_edit, self.steps_edit):
            edit.textChanged.connect(self._trace_timer.start)
        self.title_edit.textChanged.connect(self._changed)
        self.impact_group.idToggled.connect(lambda *_: self._changed(update_priority=True))
        self.reach_group.idToggled.connect(lambda *_: self._changed(update_priority=True))
        self.priority_combo.currentIndexChanged.connect(lambda *_: self._changed())
        self.component_combo.currentIndexChanged.connect(lambda *_: self._changed())

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)  # Alt+letter jumps to the field
        return label

    def _radio_group(self, title: str, choices: list[tuple[str, str]]) -> tuple[QGroupBox, QButtonGroup]:
        box = QGroupBox(title)
        box.setAccessibleName(title)
        layout = QHBoxLayout(box)
        group = QButtonGroup(box)
        for index, (value, words) in enumerate(choices):
            button = QRadioButton(words)
            button.setObjectName(value)
            button.setAccessibleName(words)
            group.addButton(button, index)
            layout.addWidget(button)
        layout.addStretch(1)
        return box, group

    def _build_restore_bar(self) -> QFrame:
        bar = QFrame()
        bar.setObjectName("restore-bar")
        bar.setFrameShape(QFrame.Shape.StyledPanel)
        bar.setStyleSheet("#restore-bar { background: #fff4ce; }")
        layout = QHBoxLayout(bar)
        self.restore_label = QLabel()
        self.restore_label.setWordWrap(True)
        self.restore_button = QPushButton("&Restore it")
        self.restore_button.setAccessibleName("Restore the unsent report")
        self.restore_button.clicked.connect(self._restore_offered)
        self.discard_button = QPushButton("&Discard it")
        self.discard_button.setAccessibleName("Discard the unsent report")
        self.discard_button.clicked.connect(self._decline_offered)
        layout.addWidget(self.restore_label, 1)
        layout.addWidget(self.restore_button)
        layout.addWidget(self.discard_button)
        bar.hide()
        return bar

    def _build_attachments(self) -> QGroupBox:
        box = QGroupBox("Sent with the report")
        box.setAccessibleName("Sent with the report")
        layout = QHBoxLayout(box)
        side = QVBoxLayout()
        self.thumbnail = ScreenshotThumbnail("No screenshot")  # not QLabel: see ScreenshotThumbnail
        self.thumbnail.setAccessibleName("Screenshot preview")
        self.thumbnail.setFixedWidth(THUMBNAIL_WIDTH)
        self.thumbnail.setMinimumHeight(THUMBNAIL_WIDTH * 9 // 16)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setFrameShape(QFrame.Shape.Box)
        self.annotate_button = QPushButton("&Annotate or hide parts…")
        self.annotate_button.setAccessibleName("Annotate or hide parts of the screenshot")
        self.annotate_button.clicked.connect(self.annotate_requested)
        side.addWidget(self.thumbnail)
        side.addWidget(self.annotate_button)
        self.replay_slot = QVBoxLayout()  # screen replay's button goes here when it is on (ui/replay_panel.py)
        side.addLayout(self.replay_slot)
        layout.addLayout(side)
        self.attachments = AttachmentList()
        layout.addWidget(self.attachments, 1)
        return box

    def _wire_keys(self) -> None:
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.request_submit)
        # Alt+1..4 pick the impact without leaving the field being typed in (keyboard-only QA).
        for index, button in enumerate(self.impact_group.buttons()):
            pick = QShortcut(QKeySequence(f"Alt+{index + 1}"), self)
            pick.activated.connect(button.click)
            button.setToolTip(f"Alt+{index + 1}")
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.activated.connect(self.request_cancel)

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """An empty form for the next report (kept role, components and rules)."""
        for edit in (self.title_edit, self.description_edit, self.expected_edit, self.steps_edit):
            edit.clear()
        self._select(self.impact_group, list(Impact).index(self.default_impact) if self.default_impact else None)
        self._select(self.reach_group, 0)
        self.component_combo.setCurrentIndex(0)
        self.error_label.hide()
        self.attachments.clear()
        self.dedup_banner.clear()
        self._trace_timer.stop()
        self._trace_text = ""
        self._trace_generation += 1  # an answer still on its way belongs to the report just closed
        self.thumbnail.setText("No screenshot")
        self.thumbnail.setPixmap(QPixmap())
        self.annotate_button.setEnabled(False)
        self._update_priority()
        self._save_timer.stop()

    @staticmethod
    def _select(group: QButtonGroup, index: int | None) -> None:
        group.setExclusive(False)  # an exclusive group cannot go back to "nothing chosen"
        for button in group.buttons():
            button.setChecked(group.id(button) == index)
        group.setExclusive(True)

    def prepare(self, image: QImage | None, evidence: Evidence) -> None:
        """Called on the hotkey, before show: cheap, no thumbnail yet (see `show_thumbnail`)."""
        self.attachments.fill(evidence, has_screenshot=image is not None)
        self.annotate_button.setEnabled(image is not None)
        if image is None:
            # Plain words in the box; the technical reason (also in the report's "Not collected") on hover.
            reason = evidence.errors.get("screenshot", "")
            self.thumbnail.setText("No screenshot" if not reason or "turned off" not in reason
                                   else "No screenshot (turned off in the settings)")
            self.thumbnail.setToolTip(reason)
            self.thumbnail.setWordWrap(True)
        else:
            self.thumbnail.setToolTip("")

    def show_thumbnail(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            return
        scaled = image.scaledToWidth(round(THUMBNAIL_WIDTH * self.devicePixelRatio()),
                                     Qt.TransformationMode.FastTransformation)
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(self.devicePixelRatio())
        self.thumbnail.setPixmap(pixmap)

    def set_evidence(self, evidence: Evidence) -> None:
        """Logs arrived from the worker."""
        self.attachments.add_logs(evidence)

    def impact(self) -> Impact | None:
        index = self.impact_group.checkedId()
        return list(Impact)[index] if index >= 0 else None

    def reach(self) -> Reach:
        index = self.reach_group.checkedId()
        return list(Reach)[index] if index >= 0 else Reach.JUST_ME

    def _update_priority(self) -> None:
        impact = self.impact()
        combo = self.priority_combo
        chosen = combo.currentData() if combo.currentIndex() > 0 else None
        combo.blockSignals(True)
        combo.clear()
        if impact is None:
            combo.addItem("Suggested: —", None)
            self.priority_reason.setText("Choose how bad it is to see the suggested priority.")
        else:
            suggestion = suggest_priority(impact, self.reach(), rules=self.rules)
            combo.addItem(f"Suggested: {suggestion.priority}", None)
            self.priority_reason.setText(f"{suggestion.priority} because {suggestion.reason}.")
        if self.role.may_triage:
            for priority in Priority:
                combo.addItem(str(priority), str(priority))
            if chosen:
                combo.setCurrentIndex(combo.findData(chosen))
        combo.blockSignals(False)

    def _changed(self, update_priority: bool = False) -> None:
        if update_priority:
            self._update_priority()
        if self.error_label.isVisible() and self.title_edit.text().strip():
            self.error_label.hide()
        self._save_timer.start()

    def _check_trace(self) -> None:
        text = self.description_edit.toPlainText() + "\n" + self.steps_edit.toPlainText()
        if text == self._trace_text:
            return
        self._trace_text = text
        self._trace_generation += 1
        generation = self._trace_generation
        run_in_background(self, lambda: _trace_fingerprint(text),
                          lambda fingerprint: self._trace_checked(generation, fingerprint))

    def _trace_checked(self, generation: int, fingerprint: str) -> None:
        if generation != self._trace_generation:
            return  # the text changed again meanwhile: its own check answers
        if self.dedup_banner.set_text_fingerprint(fingerprint):
            self.fingerprint_changed.emit(fingerprint)

    def has_content(self) -> bool:
        return not self.form_draft().is_empty()

    def form_draft(self) -> FormDraft:
        impact = self.impact()
        return FormDraft(
            title=self.title_edit.text(), description=self.description_edit.toPlainText(),
            expected=self.expected_edit.toPlainText(), steps=self.steps_edit.toPlainText(),
            impact=impact.value if impact else "", reach=self.reach().value,
            priority=str(self.priority_combo.currentData() or ""), component=str(self.component_combo.currentData()),
            saved_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        )

    def draft(self) -> Draft:
        impact = self.impact()
        priority = self.priority_combo.currentData()
        return Draft(
            title=self.title_edit.text().strip(), description=self.description_edit.toPlainText(),
            expected=self.expected_edit.toPlainText(), steps=self.steps_edit.toPlainText(),
            impact=impact, reach=self.reach(),
            priority=Priority(priority) if priority and self.role.may_triage else None,
            component=str(self.component_combo.currentData() or ""),
            fingerprint=self.dedup_banner.fingerprint, merge_duplicates=self.dedup_banner.merge_duplicates,
        )

    def restore(self, saved: FormDraft) -> None:
        self.title_edit.setText(saved.title)
        self.description_edit.setPlainText(saved.description)
        self.expected_edit.setPlainText(saved.expected)
        self.steps_edit.setPlainText(saved.steps)
        impacts = [i.value for i in Impact]
        self._select(self.impact_group, impacts.index(saved.impact) if saved.impact in impacts else None)
        reaches = [r.value for r in Reach]
        self._select(self.reach_group, reaches.index(saved.reach) if saved.reach in reaches else 0)
        self._update_priority()
        if saved.priority and self.role.may_triage:
            self.priority_combo.setCurrentIndex(max(0, self.priority_combo.findData(saved.priority)))
        index = self.component_combo.findData(saved.component)
        self.component_combo.setCurrentIndex(max(0, index))

    def offer_draft(self, saved: FormDraft) -> None:
        """A report left unsent by an earlier run (a crash): offer it back, don't impose it."""
        self._offered = saved
        when = saved.saved_at.replace("T", " ")[:16] if saved.saved_at else "earlier"
        self.restore_label.setText(f"An unsent report from {when} was kept: “{saved.title or '(no title)'}”.")
        self.restore_bar.show()

    def _restore_offered(self) -> None:
        if self._offered is not None:
            self.restore(self._offered)
        self._offered = None
        self.restore_bar.hide()
        self.title_edit.setFocus()

    def _decline_offered(self) -> None:
        self._offered = None
        self.restore_bar.hide()
        self.draft_restore_declined.emit()
        self.title_edit.setFocus()

    # ------------------------------------------------------------------ actions

    def validate(self) -> str | None:
        """The first thing that stops the report from being sent, focusing its field; None when complete."""
        if not self.title_edit.text().strip():
            self.title_edit.setFocus()
            return "Please give the report a title: one line that says what went wrong."
        if self.impact() is None:
            self.impact_group.buttons()[0].setFocus()
            return "Please choose how bad it is for you."
        return None

    def request_submit(self) -> None:
        problem = self.validate()
        if problem:
            self.error_label.setText(problem)
            self.error_label.show()
            return
        self.error_label.hide()
        self.submit_requested.emit()

    def request_cancel(self) -> None:
        if self.has_content() and not self.confirm_discard():
            return
        self.cancelled.emit()

    def confirm_discard(self) -> bool:
        """Asked before throwing typed text away; tests replace this method."""
        answer = QMessageBox.question(self, "Discard this report?",
                                      "You have typed a report that has not been sent. Discard it?",
                                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.title_edit.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        # The window manager's close button is a cancel (asks first); the widget is kept for the next report.
        # A programmatic close (app quitting, tests) just closes.
        if event.spontaneous():
            event.ignore()
            self.request_cancel()
        else:
            super().closeEvent(event)
