"""One running app per data directory: a second launch hands its request to the first and exits.

The server name is derived from the data dir, so two REPORTER_APP_HOMEs (tests, several users)
never talk to each other. The protocol is one line: "open-form" or "show".
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_TIMEOUT_MS = 500
OPEN_FORM = b"open-form"
SHOW = b"show"


def server_name(data_dir: Path) -> str:
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    try:
        user = getpass.getuser()
    except Exception:  # no user name (containers): the data dir alone is still unique
        user = "user"
    return f"reporter-app-{user}-{digest}"


def ask_running_instance(name: str, request: bytes) -> bool:
    """True when an instance was running and received `request`."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(request + b"\n")
    socket.flush()
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(CONNECT_TIMEOUT_MS)
    return True


class InstanceServer(QObject):
    """Listens for later launches; emits `form_requested` / `show_requested` on the GUI thread."""

    form_requested = Signal()
    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self._server.listen(name):
            # A crashed instance leaves its socket file behind; nobody answered, so it is stale.
            QLocalServer.removeServer(name)
            if not self._server.listen(name):
                raise OSError(f"cannot listen on {name}: {self._server.errorString()}")
        self._server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).strip()
            if line == OPEN_FORM:
                self.form_requested.emit()
            elif line == SHOW:
                self.show_requested.emit()

    def close(self) -> None:
        self._server.close()
