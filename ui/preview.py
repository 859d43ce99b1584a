"""'Show exactly what will be sent': the report's text and every attachment, redactions highlighted."""

from __future__ import annotations

import json
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage, QPixmap, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from reporter_app.app import Draft
from reporter_app.collect import Evidence

# capture.scrub writes every redaction as a visible marker; we highlight exactly that marker.
REDACTION = re.compile(r"\[REDACTED:[^\]]*\]")


class RedactionHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.marker_format = QTextCharFormat()
        self.marker_format.setBackground(QColor("#ffd54f"))
        self.marker_format.setForeground(QColor("#000000"))
        self.marker_format.setFontWeight(QFont.Weight.Bold)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        for match in REDACTION.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.marker_format)


def preview_text(draft: Draft, evidence: Evidence) -> str:
    """Everything that leaves the machine, as text, in the order the tracker gets it."""
    parts = [f"Title: {draft.title}"]
    for label, value in (("What happened", draft.description), ("What you expected", draft.expected),
                         ("Steps", draft.steps)):
        if value.strip():
            parts.append(f"{label}:\n{value}")
    parts.append(f"Impact: {draft.impact.plain_words if draft.impact else '(not chosen)'}"
                 f" · Reach: {draft.reach.plain_words}"
                 + (f" · Component: {draft.component}" if draft.component else ""))
    if evidence.screenshot_meta and evidence.screenshot_png is not None:
        meta = evidence.screenshot_meta
        parts.append(f"── screenshot.png ({meta.get('width')}×{meta.get('height')}, {len(evidence.screenshot_png):,} bytes)")
    if evidence.system:
        parts.append("── System details\n" + json.dumps(evidence.system, indent=2, ensure_ascii=False, default=str))
    if evidence.activity:
        lines = [f"{e.get('at', '')[11:19]}  {e.get('process', '')}  {e.get('title', '')}" for e in evidence.activity]
        parts.append("── Recent windows\n" + "\n".join(lines))
    for log in evidence.logs:
        parts.append(f"── logs/{log.name}.txt ({log.line_count} lines)\n{log.text}")
    if evidence.errors:
        parts.append("── Not included\n" + "\n".join(f"{k}: {v}" for k, v in sorted(evidence.errors.items())))
    return "\n\n".join(parts)


class PreviewDialog(QDialog):
    def __init__(self, draft: Draft, evidence: Evidence, image: QImage | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("What will be sent")
        self.setAccessibleName("What will be sent")
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        total = sum(evidence.redactions.values())
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(evidence.redactions.items()))
        summary = QLabel(f"{total} secret{'s' if total != 1 else ''} removed ({kinds}); each is marked "
                         "[REDACTED:…] and highlighted below." if total else
                         "No secrets were found to remove. Everything below is sent as shown.")
        summary.setWordWrap(True)
        summary.setAccessibleName("Redaction summary")
        layout.addWidget(summary)
        if image is not None and not image.isNull():
            thumb = QLabel()
            thumb.setPixmap(QPixmap.fromImage(image.scaledToWidth(360, Qt.TransformationMode.SmoothTransformation)))
            thumb.setAccessibleName("Screenshot that will be sent")
            layout.addWidget(thumb)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Report text and attachments")
        self.text.setFont(QFont("monospace"))
        self.highlighter = RedactionHighlighter(self.text.document())
        self.text.setPlainText(preview_text(draft, evidence))
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
