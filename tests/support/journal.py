"""Real systemd journal files for tests, written by Debian's systemd-journal-remote.

``systemd-journal-remote --output=FILE.journal -`` turns journal export format on stdin into a real
journal file and appends to one that exists (measured: it does, and ``journalctl --file=FILE --follow``
sees each append). Used by the error watcher's follower tests and the report's log tail tests alike.
"""

from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

from tests.support.env import require_executable, unavailable

BOOT_ID = "0123456789abcdef0123456789abcdef"
_REMOTE_CANDIDATES = ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")


def journal_remote_path() -> str:
    """systemd-journal-remote's path (journalctl must be there too), or skip/fail as tests/support/env.py says."""
    require_executable("journalctl", "systemd")
    for candidate in _REMOTE_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    unavailable("systemd-journal-remote not found (apt-get install systemd-journal-remote)")


def export_entry(message: str | bytes, identifier: str = "shop", unit: str = "", pid: int = 4242) -> bytes:
    """One entry in journal export format; a MESSAGE with a newline (or not UTF-8) in the binary form."""
    now_us = time.time_ns() // 1000
    fields = [f"__REALTIME_TIMESTAMP={now_us}", f"__MONOTONIC_TIMESTAMP={time.monotonic_ns() // 1000}",
              f"_BOOT_ID={BOOT_ID}", f"SYSLOG_IDENTIFIER={identifier}", f"_PID={pid}", "PRIORITY=3"]
    if unit:
        fields.append(f"_SYSTEMD_UNIT={unit}")
    out = "".join(field + "\n" for field in fields).encode()
    data = message.encode("utf-8") if isinstance(message, str) else message
    if b"\n" in data or isinstance(message, bytes):
        out += b"MESSAGE\n" + struct.pack("<Q", len(data)) + data + b"\n"
    else:
        out += b"MESSAGE=" + data + b"\n"
    return out + b"\n"


class Journal:
    """A journal file that entries are appended to, as a service's would be."""

    def __init__(self, remote: str, path: Path) -> None:
        self.remote = remote
        self.path = path

    def append(self, *messages: str | bytes, identifier: str = "shop", unit: str = "") -> None:
        data = b"".join(export_entry(m, identifier, unit) for m in messages)
        done = subprocess.run([self.remote, f"--output={self.path}", "-"], input=data, capture_output=True,
                              timeout=30, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
