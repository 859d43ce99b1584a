"""Window activity: the foreground window now, and the last N foreground changes ("navigation path").

X11: EWMH ``_NET_ACTIVE_WINDOW`` on the root window, read with python-xlib (0.1 ms, where
an xdotool subprocess costs 3-10 ms). The recorder listens to PropertyNotify on the
root window (active window changed) and on the active window (its title changed, e.g.
a browser tab), and exposes ``fileno()``/``poll()`` so the GUI can service it from a
QSocketNotifier on its own thread, with ``sample()`` for a timer fallback.
Windows: GetForegroundWindow through ctypes. macOS: not available yet (reason given).
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from capture.scrub import Scrubber


@dataclass
class ActivityEvent:
    at: datetime  # UTC
    title: str
    process: str
    window_class: str


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _process_info(pid: int | None) -> dict[str, Any]:
    if not pid:
        return {"pid": None, "process": "", "exe": ""}
    try:
        import psutil

        proc = psutil.Process(pid)
        with proc.oneshot():
            name = proc.name()
            try:
                exe = proc.exe()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                exe = ""
        return {"pid": pid, "process": name, "exe": exe}
    except Exception:  # the window's process may be gone or foreign (remote X client)
        return {"pid": pid, "process": "", "exe": ""}


# --------------------------------------------------------------------------- X11


class _X11:
    """The few EWMH reads we need, on one Xlib connection."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X, display

        self.X = X
        try:
            self.display = display.Display(display_name)
        except Exception as exc:
            # python-xlib leaves its socket open in the half-built Display that the traceback keeps
            # alive; dropping the traceback frees it now instead of at some later garbage collection.
            raise exc.with_traceback(None) from None
        # Errors of requests without replies (a window closed under us) arrive later,
        # asynchronously; they are expected and must not be printed.
        self.display.set_error_handler(lambda *_: None)
        self.root = self.display.screen().root
        atom = self.display.intern_atom
        self.NET_ACTIVE_WINDOW = atom("_NET_ACTIVE_WINDOW")
        self.NET_WM_NAME = atom("_NET_WM_NAME")
        self.NET_WM_PID = atom("_NET_WM_PID")
        self.UTF8_STRING = atom("UTF8_STRING")
        self.WM_NAME = atom("WM_NAME")

    def close(self) -> None:
        self.display.close()

    def active_window_id(self) -> int:
        prop = self.root.get_full_property(self.NET_ACTIVE_WINDOW, self.X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return 0
        return int(prop.value[0])

    def describe(self, wid: int) -> dict[str, Any] | None:
        if not wid:
            return None
        from Xlib import error

        try:
            window = self.display.create_resource_object("window", wid)
            name = window.get_full_property(self.NET_WM_NAME, self.UTF8_STRING)
            if name is not None and name.value:
                raw = name.value
                title = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            else:
                legacy = window.get_wm_name()
                title = legacy.decode("latin-1") if isinstance(legacy, bytes) else (legacy or "")
            wm_class = window.get_wm_class() or ("", "")
            pid_prop = window.get_full_property(self.NET_WM_PID, self.X.AnyPropertyType)
            pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
        except (error.BadWindow, error.BadDrawable):
            return None  # closed between the two reads
        info = {"window_id": wid, "title": title, "window_class": wm_class[1] if len(wm_class) > 1 else ""}
        info.update(_process_info(pid))
        return info


def _windows_foreground() -> dict[str, Any] | None:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    hwnd = user32.GetForegroundWindow()
    if not hwnd:
        return None
    length = user32.GetWindowTextLengthW(hwnd)
    buffer = ctypes.create_unicode_buffer(length + 1)
    user32.GetWindowTextW(hwnd, buffer, length + 1)
    class_buffer = ctypes.create_unicode_buffer(256)
    user32.GetClassNameW(hwnd, class_buffer, 256)
    pid = wintypes.DWORD()
    user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
    info: dict[str, Any] = {"window_id": int(hwnd), "title": buffer.value, "window_class": class_buffer.value}
    info.update(_process_info(pid.value))
    return info


def foreground_window(display: str | None = None) -> dict[str, Any] | None:
    """The foreground window: title, window_class, pid, process, exe. None when there is none or no way to know."""
    if sys.platform == "win32":
        return _windows_foreground()
    if sys.platform == "darwin":
        return None
    display = display or os.environ.get("DISPLAY")
    if not display:
        return None
    x11 = _X11(display)
    try:
        return x11.describe(x11.active_window_id())
    finally:
        x11.close()


# --------------------------------------------------------------------------- recorder


class ActivityRecorder:
    """Keeps the last ``maxlen`` foreground-window changes, titles scrubbed.

    Not thread-safe: the X connection belongs to the thread that calls ``start``/``poll``.
    """

    def __init__(
        self,
        scrubber: Scrubber | None = None,
        maxlen: int = 50,
        *,
        display: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._scrubber = scrubber or Scrubber()
        self._events: deque[ActivityEvent] = deque(maxlen=maxlen)
        self._display_name = display
        self._clock = clock
        self._x11: _X11 | None = None
        self._watched = 0  # the window whose title changes we listen to
        self._last: tuple[Any, str] | None = None
        self.unavailable: str | None = None

    def start(self) -> bool:
        """Connect and record the current window. False (with ``unavailable`` set) where it can't work."""
        if sys.platform == "darwin":
            self.unavailable = "window activity is not available on macOS yet"
            return False
        if sys.platform == "win32":
            self.sample()  # no event source wired: the GUI drives sample() from a timer
            return True
        name = self._display_name or os.environ.get("DISPLAY")
        if not name:
            self.unavailable = "no X11 display (DISPLAY unset); Wayland exposes no foreground window"
            return False
        try:
            self._x11 = _X11(name)
        except Exception as exc:
            self.unavailable = f"cannot open display {name}: {exc}"
            return False
        x11 = self._x11
        x11.root.change_attributes(event_mask=x11.X.PropertyChangeMask)
        if x11.root.get_full_property(x11.NET_ACTIVE_WINDOW, x11.X.AnyPropertyType) is None:
            self.unavailable = "the window manager does not publish _NET_ACTIVE_WINDOW (no EWMH)"
        x11.display.flush()
        self.sample()
        return True

    def fileno(self) -> int:
        """The X connection's socket, for a QSocketNotifier; -1 when not connected."""
        return self._x11.display.fileno() if self._x11 is not None else -1

    def poll(self) -> int:
        """Handle pending X events without blocking; returns the number of events recorded."""
        x11 = self._x11
        if x11 is None:
            return 0
        changed = False
        while x11.display.pending_events():
            event = x11.display.next_event()
            if event.type != x11.X.PropertyNotify:
                continue
            if event.atom == x11.NET_ACTIVE_WINDOW or event.atom in (x11.NET_WM_NAME, x11.WM_NAME):
                changed = True
        if changed and self.sample() is not None:
            return 1
        return 0

    def sample(self) -> ActivityEvent | None:
        """Read the foreground window now; record it if it changed (window or title)."""
        if self._x11 is not None:
            wid = self._x11.active_window_id()
            self._watch(wid)
            info = self._x11.describe(wid)
        else:
            info = foreground_window(self._display_name) if sys.platform == "win32" else None
        if info is None:
            return None
        key = (info.get("window_id"), info.get("title", ""))
        if key == self._last:
            return None
        self._last = key
        event = ActivityEvent(
            at=self._clock(),
            title=self._scrubber.scrub(info.get("title", "")).text,
            process=info.get("process", ""),
            window_class=info.get("window_class", ""),
        )
        self._events.append(event)
        return event

    def _watch(self, wid: int) -> None:
        """Follow the active window's title changes; stop following the previous one."""
        x11 = self._x11
        if x11 is None or wid == self._watched:
            return
        from Xlib import error

        for window_id, mask in ((self._watched, 0), (wid, x11.X.PropertyChangeMask)):
            if not window_id:
                continue
            try:
                x11.display.create_resource_object("window", window_id).change_attributes(event_mask=mask)
            except (error.BadWindow, error.BadDrawable):
                pass
        self._watched = wid
        x11.display.flush()

    def snapshot(self) -> list[ActivityEvent]:
        return list(self._events)

    def close(self) -> None:
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None
