"""Capture before show: the two fast captures on the hotkey, the slow rest on a worker.

`capture_now` runs on the GUI thread before any window of ours is mapped (screenshot grab,
system snapshot, activity so far: ~15 ms). `finish_evidence` runs on a worker: PNG encoding,
logs, scrubbing. The QImage wraps the grab's own buffer, so showing a thumbnail costs no copy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage

from capture.guard import guarded
from reporter_app.collect import Evidence, collect_logs, collect_system

log = logging.getLogger(__name__)


@dataclass
class QuickCapture:
    evidence: Evidence  # system, activity and errors filled; screenshot_png still None
    screenshot: Any = None  # capture.screenshot.Screenshot, raw BGRA
    image: QImage | None = None
    took_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def _image_from(shot: Any) -> QImage | None:
    if shot is None or not shot.raw:
        if shot is not None and shot.png:  # the Wayland portal gives PNG only
            # The format is read from the data; PySide6 6.11 refuses format=b"PNG" (the image was silently lost).
            return QImage.fromData(shot.png)
        return None
    # BGRA bytes in memory are Qt's (little-endian) RGB32; the QImage borrows `shot.raw`,
    # which QuickCapture keeps alive as long as the image.
    return QImage(shot.raw, shot.width, shot.height, shot.width * 4, QImage.Format.Format_RGB32)


@dataclass(frozen=True)
class GrabbedShot:
    """A screenshot taken off the GUI thread (the Wayland portal), or why there is none."""

    shot: Any = None
    error: str | None = None


def grab_is_slow(config: Any) -> bool:
    """The Wayland portal answers over D-Bus, maybe after asking the user: too slow for the GUI thread.

    An X11/Windows/macOS grab takes ~1 ms and stays on the GUI thread, where it is sure to run before
    our window maps; the portal's grab runs on a worker and the form waits for it (still before show).
    """
    if str(config.get("capture.screenshot")) == "none":
        return False
    from capture.screenshot import ScreenshotUnavailable, display_kind

    try:
        return display_kind() == "wayland"
    except ScreenshotUnavailable:
        return False


def grab_off_thread(config: Any) -> GrabbedShot:
    """Worker thread: the screenshot alone, guarded like every collector."""
    from capture.screenshot import grab

    errors: dict[str, str] = {}
    shot = guarded("screenshot", lambda: grab(str(config.get("capture.screenshot"))), errors, None)
    return GrabbedShot(shot, errors.get("screenshot"))


def capture_now(config: Any, scrubber: Any, activity: Any = None, grabbed: GrabbedShot | None = None) -> QuickCapture:
    """GUI thread, before show. Each part is guarded: a failure is recorded, never raised.

    ``grabbed``: the screenshot already taken on a worker (:func:`grab_is_slow`), used instead of grabbing here.
    """
    start = time.perf_counter()
    evidence = Evidence()
    timings: dict[str, float] = {}
    shot = None
    mode = str(config.get("capture.screenshot"))
    if mode == "none":
        evidence.errors["screenshot"] = "turned off in the configuration (capture.screenshot = \"none\")"
    else:
        from capture.screenshot import grab

        if grabbed is not None:
            shot = grabbed.shot
            if grabbed.error:
                evidence.errors["screenshot"] = grabbed.error
        else:
            shot = guarded("screenshot", lambda: grab(mode), evidence.errors, None)
        if shot is not None:
            evidence.screenshot_meta = {"width": shot.width, "height": shot.height, "left": shot.left,
                                        "top": shot.top, "monitor": shot.monitor_index, "scale": shot.scale,
                                        "mode": shot.mode}
    timings["screenshot"] = (time.perf_counter() - start) * 1000
    if scrubber is not None:
        collect_system(config, scrubber, evidence)
    timings["system"] = (time.perf_counter() - start) * 1000 - timings["screenshot"]
    if activity is not None:
        evidence.activity = [{"at": e.at.isoformat(), "title": e.title, "process": e.process,
                              "window_class": e.window_class} for e in activity.snapshot()]
    image = guarded("screenshot", lambda: _image_from(shot), evidence.errors, None)
    took = (time.perf_counter() - start) * 1000
    return QuickCapture(evidence=evidence, screenshot=shot, image=image, took_ms=took, timings=timings)


def finish_evidence(config: Any, scrubber: Any, quick: QuickCapture) -> Evidence:
    """Worker thread: the encoded screenshot and the scrubbed logs, added to a copy of the quick evidence."""
    evidence = replace(quick.evidence, logs=list(quick.evidence.logs), errors=dict(quick.evidence.errors),
                      redactions=quick.evidence.redactions.copy())
    if quick.screenshot is not None:
        from capture.screenshot import encode_png

        evidence.screenshot_png = guarded("screenshot", lambda: encode_png(quick.screenshot), evidence.errors, None)
    if scrubber is None:
        evidence.errors.setdefault("logs", "not collected: the secret scrubber could not be set up")
    else:
        collect_logs(config, scrubber, evidence)
    return evidence


def encode_image_png(image: QImage) -> bytes:
    """PNG of an edited (annotated/redacted) screenshot. QImage is reentrant: safe on a worker."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # A str: PySide6 6.11 rejects b"PNG" here at run time (ValueError), though its stubs say bytes.
    if not image.save(buffer, "PNG", 80):  # type: ignore[call-overload]
        raise OSError("could not encode the edited screenshot as PNG")
    return bytes(buffer.data().data())
