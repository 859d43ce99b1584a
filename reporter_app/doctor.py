"""`reporter-app doctor`: one clear line per check, so a user (or admin) knows what to fix."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reporter_app.trackers.base import CheckResult, TrackerError

if TYPE_CHECKING:
    from reporter_app.app import AppContext


@dataclass(frozen=True)
class DoctorLine:
    status: str  # "ok" | "FAIL" | "skip"
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail}"


def _data_dir(ctx: AppContext) -> list[DoctorLine]:
    data = ctx.paths.data_dir
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as exc:
        return [DoctorLine("FAIL", "data dir", f"{data} is not writable: {exc.strerror or exc}")]
    free = os.statvfs(data).f_bavail * os.statvfs(data).f_frsize if hasattr(os, "statvfs") else None
    detail = f"{data} is writable" + (f", {free / 2**20:.0f} MiB free" if free is not None else "")
    if free is not None and free < 50 * 2**20:
        return [DoctorLine("FAIL", "data dir", detail + " (less than 50 MiB: reports with screenshots may not fit)")]
    return [DoctorLine("ok", "data dir", detail)]


def _outbox(ctx: AppContext) -> list[DoctorLine]:
    outbox = ctx.outbox
    pending = outbox.pending_count()
    attention = [e for e in outbox.entries() if e.state == "needs_attention"]
    lines = [DoctorLine("ok", "outbox", f"{outbox.db_path} ({pending} pending)")]
    from reporter_app.outbox import set_aside_databases

    for aside in set_aside_databases(outbox.db_path):
        lines.append(DoctorLine("ok", "outbox", f"a corrupt database was set aside as {aside} "
                                              "and the outbox rebuilt from the reports on disk"))
    if outbox.read_only:
        lines.append(DoctorLine("FAIL", "outbox", f"{outbox.db_path.parent} is read-only: new reports cannot be queued"))
    for entry in attention:
        lines.append(DoctorLine("FAIL", "outbox", f"report {entry.id[:8]} ({entry.title!r}) needs attention: "
                                                  f"{entry.last_error}"))
    return lines


def _tracker(ctx: AppContext) -> list[DoctorLine]:
    try:
        results = ctx.tracker().check()
    except (TrackerError, ValueError) as exc:
        results = [CheckResult("tracker", False, f"{ctx.backend}: {getattr(exc, 'message', exc)}")]
    return [DoctorLine("ok" if r.ok else "FAIL", r.name, r.detail) for r in results]


def _screenshot(ctx: AppContext) -> list[DoctorLine]:
    if ctx.config.get("capture.screenshot") == "none":
        return [DoctorLine("skip", "screenshot", "turned off in the configuration")]
    if not (ctx.env.get("DISPLAY") or ctx.env.get("WAYLAND_DISPLAY")) and os.name == "posix" \
            and not _is_macos():
        return [DoctorLine("skip", "screenshot", "no display (DISPLAY and WAYLAND_DISPLAY are unset); "
                                                 "reports from here carry no screenshot")]
    try:
        from capture.screenshot import grab

        shot = grab(str(ctx.config.get("capture.screenshot")))
    except Exception as exc:
        return [DoctorLine("FAIL", "screenshot", f"{type(exc).__name__}: {exc}")]
    return [DoctorLine("ok", "screenshot", f"{shot.width}x{shot.height} grabbed from monitor {shot.monitor_index}")]


def _keyring(ctx: AppContext) -> list[DoctorLine]:
    from reporter_app.credentials import TOKEN_ENV, keyring_status
    from reporter_app.trackers import load_backend

    try:
        needs_secret = any(o.secret for o in load_backend(ctx.backend).options)
    except ValueError:
        needs_secret = False
    if ctx.env.get(TOKEN_ENV):
        return [DoctorLine("ok", "credentials", f"taken from {TOKEN_ENV}")]
    ok, detail = keyring_status()
    if not needs_secret:
        return [DoctorLine("ok" if ok else "skip", "keyring",
                           (detail if ok else f"not usable ({detail})") + f"; the {ctx.backend} tracker needs no secret")]
    return [DoctorLine("ok" if ok else "FAIL", "keyring", detail)]


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"


CHECKS: tuple[Callable[[AppContext], list[DoctorLine]], ...] = (_data_dir, _outbox, _keyring, _tracker, _screenshot)


def run_doctor(ctx: AppContext) -> list[DoctorLine]:
    lines: list[DoctorLine] = []
    for check in CHECKS:
        try:
            lines.extend(check(ctx))
        except Exception as exc:  # one broken check must not hide the others
            lines.append(DoctorLine("FAIL", check.__name__.strip("_"), f"{type(exc).__name__}: {exc}"))
    return lines
