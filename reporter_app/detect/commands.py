"""``reporter-app fingerprint [--lines] FILE``: the lead wires these into ``reporter_app/cli.py``.

Events mode prints one line per error event, ``<fingerprint>\\t<first line>``; ``--lines`` prints one
fingerprint per input line (evaluation and scripts). Returns the exit code: 0, or 1 with a one-line
reason on stderr when the file can't be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from reporter_app.detect.events import detect_events
from reporter_app.detect.fingerprint import fingerprint_event, fingerprint_lines


def _read_lines(path: Path) -> list[str]:
    # Logs are not always valid UTF-8; a stray byte must not cost the rest of the file.
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        return [line.rstrip("\r\n") for line in fh]


def fingerprint_file(path: str | os.PathLike[str], per_line: bool, out: TextIO) -> int:
    try:
        lines = _read_lines(Path(path))
    except OSError as exc:
        print(f"reporter-app: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if per_line:
        out.writelines(fingerprint + "\n" for fingerprint in fingerprint_lines(lines))
        return 0
    out.writelines(f"{fingerprint_event(event)}\t{event.first_line}\n" for event in detect_events(lines))
    return 0
