"""``reporter-app fingerprint [--lines] FILE`` and ``fingerprint --muted`` / ``--unmute FP``.

Events mode prints one line per error event, ``<fingerprint>\\t<first line>``; ``--lines`` prints one
fingerprint per input line (evaluation and scripts). ``--muted`` lists the errors the user muted or
snoozed from the tray app, ``--unmute`` ends one. Each returns the exit code: 0, or 1 with a
one-line reason on stderr (2 for input that is not a fingerprint).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TextIO

from reporter_app.clock import Clock, utc_iso
from reporter_app.detect.alerts import Silence, SilenceStore
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


# ---------------------------------------------------------------- snoozes and mutes (``--muted``, ``--unmute``)

_FINGERPRINT = re.compile(r"brfp-[0-9a-f]{12}")


def list_silenced(data_dir: Path, clock: Clock, out: TextIO) -> int:
    """``reporter-app fingerprint --muted``: one line per muted or snoozed error, tab-separated:
    fingerprint, ``muted since TIME`` or ``snoozed until TIME``, and the error's title."""
    silences = SilenceStore.in_data_dir(data_dir, clock).load()
    if not silences:
        print("No error is muted or snoozed.", file=out)
        return 0
    for silence in sorted(silences.values(), key=lambda s: s.fingerprint):
        state = (f"muted since {utc_iso(silence.since)}" if silence.until is None
                 else f"snoozed until {utc_iso(silence.until)}")
        print(f"{silence.fingerprint}\t{state}\t{silence.title}", file=out)
    return 0


def unmute(data_dir: Path, fingerprint: str, clock: Clock, out: TextIO) -> int:
    """``reporter-app fingerprint --unmute FP``: ends a mute or a snooze (a running app notices within a round).

    Exit 2 for something that is not a fingerprint, 1 when it was neither muted nor snoozed.
    """
    fingerprint = fingerprint.strip()
    if not _FINGERPRINT.fullmatch(fingerprint):
        print(f"reporter-app: {fingerprint!r} is not a fingerprint (brfp- and 12 hex digits, as "
              "`reporter-app fingerprint --muted` lists them)", file=sys.stderr)
        return 2
    found: list[Silence] = []

    def drop(silences: dict[str, Silence]) -> None:
        removed = silences.pop(fingerprint, None)
        if removed is not None:
            found.append(removed)

    store = SilenceStore.in_data_dir(data_dir, clock)
    try:
        if fingerprint in store.load():
            store.update(drop)
    except OSError as exc:
        print(f"reporter-app: cannot update {store.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"reporter-app: {fingerprint} is neither muted nor snoozed", file=sys.stderr)
        return 1
    print(f"{'unmuted' if found[0].until is None else 'unsnoozed'} {fingerprint}", file=out)
    return 0
