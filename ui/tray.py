"""The app's face: a tray icon with its menu, or, without a tray host, a small window with the same actions.

Both offer the same QActions, so there is one menu to keep right.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QLabel, QMenu, QPushButton, QSystemTrayIcon, QVBoxLayout, QWidget

from ui.icons import app_icon


class TrayActions(QObject):
    report_requested = Signal()
    my_reports_requested = Signal()
    outbox_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, hotkey_text: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report = QAction("Report a problem", self)
        self.set_hotkey_text(hotkey_text)
        self.report.triggered.connect(self.report_requested)
        self.my_reports = QAction("My reports", self)
        self.my_reports.triggered.connect(self.my_reports_requested)
        self.outbox = QAction("Outbox", self)
        self.outbox.triggered.connect(self.outbox_requested)
        self.settings = QAction("Settings…", self)
        self.settings.triggered.connect(self.settings_requested)
        self.quit = QAction("Quit", self)
        self.quit.triggered.connect(self.quit_requested)
        self.set_pending(0)

    def set_hotkey_text(self, hotkey_text: str) -> None:
        # Shown as text, not as a QAction shortcut: the key is grabbed globally, not by this menu.
        self.report.setText(f"Report a problem\t{hotkey_text}" if hotkey_text else "Report a problem")

    def set_pending(self, count: int) -> None:
        self.outbox.setText(f"Outbox ({count} pending)" if count else "Outbox (empty)")

    def all(self) -> list[QAction]:
        return [self.report, self.my_reports, self.outbox, self.settings, self.quit]


class FallbackWindow(QWidget):
    """Used when no tray host is running (a bare window manager, CI): closing it only hides it."""

    def __init__(self, actions: TrayActions) -> None:
        super().__init__()
        self.setWindowTitle("Reporter")
        self.setWindowIcon(app_icon())
        self.setAccessibleName("Reporter")
        layout = QVBoxLayout(self)
        self.message = QLabel("Ready.")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Latest message")
        self._buttons: list[QPushButton] = []
        for action in actions.all():
            button = QPushButton(action.text().split("\t")[0])
            button.setAccessibleName(action.text().split("\t")[0])
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: b.setText(a.text().replace("\t", "  ")))
            button.setText(action.text().replace("\t", "  "))
            layout.addWidget(button)
            self._buttons.append(button)
        layout.addWidget(self.message)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        event.ignore()
        self.showMinimized()


class AppFace(QObject):
    """Tray icon when a host exists, else the fallback window; notifications go through whichever is used."""

    def __init__(self, actions: TrayActions, parent: QObject | None = None, force_window: bool = False) -> None:
        super().__init__(parent)
        self.actions = actions
        self.tray: QSystemTrayIcon | None = None
        self.window: FallbackWindow | None = None
        # The balloon on screen now: QSystemTrayIcon.messageClicked does not say which one was clicked.
        self.last_title = ""
        if QSystemTrayIcon.isSystemTrayAvailable() and not force_window:
            self.menu = QMenu()
            self.menu.addActions(actions.all()[:4])
            self.menu.addSeparator()
            self.menu.addAction(actions.quit)
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Reporter: report a problem")
            self.tray.setContextMenu(self.menu)
            # A left click opens the form: the most common thing people come for.
            self.tray.activated.connect(self._tray_clicked)
            self.tray.show()
        else:
            self.window = FallbackWindow(actions)
            self.window.show()

    def _tray_clicked(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.actions.report.trigger()

    def notify(self, title: str, message: str, attention: bool = False) -> None:
        self.last_title = title
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Warning if attention else QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(title, message, icon, 8000)
            self.tray.setIcon(app_icon(attention))
        elif self.window is not None:
            self.window.message.setText(f"{title}: {message}")

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()
