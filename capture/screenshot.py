"""Screenshot of the monitor under the cursor (default) or of all monitors.

This runs on the critical path (hotkey to visible form), so it does the least work
possible: one mss grab, raw BGRA kept as mss returns it (no copy), PNG encoding left to
a worker (:func:`encode_png`). On Wayland, where mss sees only XWayland windows, the
XDG desktop portal is asked instead (``capture.portal``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODES = ("cursor-monitor", "all-monitors")


class ScreenshotUnavailable(Exception):
    """No screenshot can be taken here; ``reason`` says why, for the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Screenshot:
    width: int
    height: int
    raw: bytes | bytearray  # BGRA rows, exactly as mss returned them (not copied)
    left: int
    top: int
    monitor_index: int  # 0: all monitors; 1..n: mss monitor number
    scale: float  # device pixels per logical pixel (HiDPI), 1.0 when unknown
    mode: str
    png: bytes | None = None  # set when the source already gave PNG (the Wayland portal); raw is then empty


def display_kind(env: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """``x11``, ``wayland``, ``windows`` or ``macos``; raises ScreenshotUnavailable without any display."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    # In a Wayland session mss would only see XWayland windows, even with DISPLAY set.
    if env.get("XDG_SESSION_TYPE") == "wayland" or (env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY")):
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    raise ScreenshotUnavailable("no display: DISPLAY and WAYLAND_DISPLAY are unset")


def _monitor_at(monitors: list[dict[str, Any]], x: int, y: int) -> int:
    """mss index (1..n) of the monitor holding (x, y); the primary (1) when none does."""
    for index, mon in enumerate(monitors[1:], start=1):
        if mon["left"] <= x < mon["left"] + mon["width"] and mon["top"] <= y < mon["top"] + mon["height"]:
            return index
    return 1


class ScreenGrabber:
    """Owns one mss instance (and, on X11, one Xlib connection for the pointer).

    mss objects must be used from the thread that created them, so a grabber belongs to
    one thread; :func:`grab` keeps one per thread.
    """

    def __init__(self, display: str | None = None) -> None:
        import mss  # imported here: costs ~20 ms, and a no-display report never needs it

        self._display = display
        self._mss = mss.MSS(display=display) if sys.platform.startswith("linux") and display else mss.MSS()
        self._xdisplay: Any = None
        self._scale: float | None = None

    def close(self) -> None:
        self._mss.close()
        if self._xdisplay is not None:
            self._xdisplay.close()
            self._xdisplay = None

    def monitors(self) -> list[dict[str, Any]]:
        return list(self._mss.monitors)

    def cursor_position(self) -> tuple[int, int] | None:
        if sys.platform == "win32":
            return _win_cursor()
        if sys.platform == "darwin":
            return None  # mss on macOS has no pointer query; the primary monitor is used
        if self._xdisplay is None:
            from Xlib import display as xdisplay

            self._xdisplay = xdisplay.Display(self._display)
        reply = self._xdisplay.screen().root.query_pointer()
        return int(reply.root_x), int(reply.root_y)

    def desktop_scale(self) -> float:
        """The desktop's configured scale (Xft.dpi / 96 on X11), read once."""
        if self._scale is None:
            self._scale = 1.0
            if sys.platform.startswith("linux"):
                if self._xdisplay is None:
                    from Xlib import display as xdisplay

                    self._xdisplay = xdisplay.Display(self._display)
                self._scale = xft_scale(self._xdisplay.screen().root.get_full_property(
                    self._xdisplay.intern_atom("RESOURCE_MANAGER"), 0))
        return self._scale

    def grab(self, mode: str = "cursor-monitor", cursor: tuple[int, int] | None = None) -> Screenshot:
        if mode not in MODES:
            raise ValueError(f"screenshot mode must be one of {', '.join(MODES)}, not {mode!r}")
        monitors = self._mss.monitors
        if mode == "all-monitors" or len(monitors) < 2:
            index = 0
        elif len(monitors) == 2:
            index = 1  # a single monitor: no need to ask where the pointer is
        else:
            if cursor is None:
                cursor = self.cursor_position()
            index = _monitor_at(monitors, *cursor) if cursor is not None else 1
        monitor = monitors[index]
        shot = self._mss.grab(monitor)
        # On macOS Retina (and Windows without DPI awareness) mss returns more pixels than
        # the logical monitor size: that ratio *is* the scale factor.
        scale = shot.width / monitor["width"] if monitor["width"] and shot.width != monitor["width"] else None
        return Screenshot(
            width=shot.width,
            height=shot.height,
            raw=shot.raw,
            left=int(monitor["left"]),
            top=int(monitor["top"]),
            monitor_index=index,
            scale=scale if scale is not None else self.desktop_scale(),
            mode=mode,
        )


def xft_scale(resource: Any) -> float:
    """Scale from an X resource database property (``Xft.dpi: 192`` -> 2.0)."""
    if resource is None or not getattr(resource, "value", None):
        return 1.0
    value = resource.value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    for line in text.splitlines():
        key, _, dpi = line.partition(":")
        if key.strip() == "Xft.dpi":
            try:
                return round(float(dpi.strip()) / 96.0, 3)
            except ValueError:
                return 1.0
    return 1.0


def _win_cursor() -> tuple[int, int] | None:
    import ctypes
    from ctypes import wintypes

    point = wintypes.POINT()
    if not ctypes.windll.user32.GetCursorPos(ctypes.byref(point)):  # type: ignore[attr-defined]
        return None
    return point.x, point.y


_local = threading.local()


def grab(mode: str = "cursor-monitor", cursor: tuple[int, int] | None = None) -> Screenshot:
    """Grab the screen; raises ScreenshotUnavailable with a reason the report can show."""
    kind = display_kind()
    if kind == "wayland":
        from capture import portal

        return portal.screenshot(mode)
    display = os.environ.get("DISPLAY") if kind == "x11" else None
    grabber: ScreenGrabber | None = getattr(_local, "grabber", None)
    if grabber is None or getattr(_local, "display", None) != display:
        if grabber is not None:
            grabber.close()
        try:
            grabber = ScreenGrabber(display)
        except Exception as exc:  # mss raises ScreenShotError for a display it can't open
            raise ScreenshotUnavailable(f"cannot open display {display or ''}: {exc}") from exc
        _local.grabber = grabber
        _local.display = display
    return grabber.grab(mode, cursor)


def encode_png(shot: Screenshot, level: int = 1) -> bytes:
    """PNG of the screenshot. Level 1: ~12 ms for a text-like 1920x1080, a fraction of level 6's time."""
    if shot.png is not None:
        return shot.png
    rgb = bgra_to_rgb(shot.raw, shot.width, shot.height)
    import mss.tools

    data = mss.tools.to_png(rgb, (shot.width, shot.height), level=level)
    assert data is not None  # to_png returns the bytes when no output file is given
    return data


def bgra_to_rgb(raw: bytes | bytearray, width: int, height: int) -> bytes:
    # Slice assignment works in C: ~10x faster than a per-pixel loop.
    rgb = bytearray(width * height * 3)
    rgb[0::3] = raw[2::4]
    rgb[1::3] = raw[1::4]
    rgb[2::3] = raw[0::4]
    return bytes(rgb)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG header, without decoding it."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


__all__ = [
    "MODES",
    "ScreenGrabber",
    "Screenshot",
    "ScreenshotUnavailable",
    "display_kind",
    "encode_png",
    "grab",
    "png_size",
]
