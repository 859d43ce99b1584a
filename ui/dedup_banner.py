"""The form's "already reported" offer when the report's fingerprint has a ticket.

One banner at the top of the report form (ui/report_form.py inserts it and reads it in
`draft()`): "Already reported as KEY (status): add my occurrence and follow it" (the default),
or "File a new report". The choice becomes `Draft.merge_duplicates`; the outbox sender does
the merging (`tracker.add_occurrence`), so the form only records what the reporter wants.

The fingerprint comes from a detected error (`offer`, ui/error_watch.py), or from a stack trace
the reporter pasted (`set_text_fingerprint`, then `offer_if_current` with the lookup's answer).
A detected error's fingerprint wins: its prefilled description holds its own trace anyway.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from reporter_app.detect.dedup import DedupDecision


class DedupBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dedup-banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#dedup-banner { background: #e8f0fe; }")
        self.setAccessibleName("Already reported")
        layout = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.merge_button = QRadioButton()
        self.merge_button.setAccessibleName("Add my occurrence and follow it")
        self.new_button = QRadioButton("File a &new report")
        self.new_button.setAccessibleName("File a new report")
        group = QButtonGroup(self)
        group.addButton(self.merge_button)
        group.addButton(self.new_button)
        layout.addWidget(self.label)
        layout.addWidget(self.merge_button)
        layout.addWidget(self.new_button)
        self.fingerprint = ""
        self.detected = False  # the fingerprint is a detected error's, not one read from the typed text
        self.clear()

    @property
    def merge_duplicates(self) -> bool:
        # Without an offer shown there is nothing to decline (clear() and a hidden offer keep "merge"):
        # a repeat filed meanwhile is still merged by the sender.
        return not self.new_button.isChecked()

    def offer(self, decision: DedupDecision) -> None:
        """A detected error: show the offer when its fingerprint is known; remember the fingerprint either way."""
        self.detected = True
        self._show(decision)

    def set_text_fingerprint(self, fingerprint: str) -> bool:
        """The trace in the typed text has this fingerprint ("" none): True when that changes what is sent."""
        if self.detected or fingerprint == self.fingerprint:
            return False
        self.fingerprint = fingerprint
        self.merge_button.setChecked(True)
        self.hide()  # an offer shown was for the previous trace; the lookup of this one answers next
        return True

    def offer_if_current(self, decision: DedupDecision) -> None:
        """The lookup's answer for a typed trace, unless the text has moved on to another one meanwhile."""
        if decision.fingerprint and decision.fingerprint == self.fingerprint:
            self._show(decision)

    def _show(self, decision: DedupDecision) -> None:
        self.fingerprint = decision.fingerprint
        if decision.existing is None:
            self.hide()
            return
        self.label.setText(decision.message if not decision.lookup_error
                           else f"{decision.message}\n(The tracker could not be asked: {decision.lookup_error})")
        self.merge_button.setText(f"&Add my occurrence to {decision.existing.key} and follow it")
        self.merge_button.setChecked(True)  # the default: one root cause, one ticket
        self.show()

    def clear(self) -> None:
        self.fingerprint = ""
        self.detected = False
        self.merge_button.setChecked(True)
        self.hide()
