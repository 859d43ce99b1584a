"""Instant replay: the last seconds of the screen, kept in memory only, as compressed frames.

A recorder thread grabs the monitor under the cursor at a low rate (default 2 fps), draws the
mouse pointer into the frame (so a viewer can follow the clicks) and keeps a bounded ring of
frames. Each frame is stored losslessly and cheaply: a keyframe is the BGRA grab deflated at
level 1; the frames after it store only the bounding box of what changed since the previous
frame, XOR-ed with it (mostly zeros, so deflate squeezes it) and compressed. Nothing is written
to disk here; `capture.replay_encode` turns a snapshot into a video when the reporter attaches it.

Why deflate and not a live video encoder: a lossless store lets redaction and trimming happen at
submit time on exact pixels, and needs no codec at all until the reporter attaches a replay.
Deflate goes through ISA-L (`isal`, in the `replay` extra) when installed: the same zlib stream
as CPython's zlib, ~4.6x faster to write (3.7 vs 17 ms for a full-HD frame of dense text, at the
same size) and ~4x faster to read back. With it a screen that changes every frame costs ~7 ms of
CPU per frame (~1.5% of a core at 2 fps); without it, ~22 ms. Stored frames are plain zlib
streams either way.

Frames are dropped (never stored) while a configured window (password manager) is focused.
numpy is needed (the `replay` extra); without it, or on Wayland, `unavailable_reason()` says why.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capture.screenshot import MODES, ScreenshotUnavailable, display_kind

log = logging.getLogger(__name__)

# Compressed frames. 30 s of a 1080p screen of dense text changing every frame (all keyframes, ~0.7 MB each at
# 2 fps) take ~42 MB; with one raw reference frame (7.9 MB) the whole buffer stays under 56 MB (goal: 64 MB).
DEFAULT_MAX_BYTES = 48 * 1024 * 1024
KEYFRAME_SECONDS = 5.0  # eviction drops whole groups, so this is also the slack above `seconds`
FULL_CHANGE = 0.6  # a delta box covering more of the screen than this is stored as a keyframe instead

# States, as stable strings (shown in the tray, asserted by tests).
OFF, RECORDING, PAUSED, EXCLUDED, UNAVAILABLE, FAILED = "off", "recording", "paused", "excluded", "unavailable", "failed"


class ReplayUnavailable(Exception):
    """Replay cannot run here; ``reason`` is shown to the user as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def unavailable_reason(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """None when replay can record here, else a sentence saying why not (never a silent black video)."""
    try:
        kind = display_kind(env, platform)
    except ScreenshotUnavailable as exc:
        return f"Screen replay is not available: {exc.reason}."
    if kind == "wayland":
        return ("Screen replay is not available on Wayland: applications cannot read the screen there "
                "without asking each time. Log in to an X11 session to use it.")
    if kind == "macos":
        return "Screen replay is not available on macOS yet (focused-window exclusion is not supported there)."
    # find_spec, not import: this runs at tray start-up and importing numpy costs ~0.1 s.
    if importlib.util.find_spec("numpy") is None:
        return "Screen replay needs the optional 'replay' extra: pip install 'reporter-app[replay]'."
    return None


@dataclass(frozen=True)
class ReplaySettings:
    seconds: float = 30.0
    fps: float = 2.0
    monitor: str = "cursor-monitor"
    exclude_windows: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.monitor not in MODES:
            raise ValueError(f"replay monitor must be one of {', '.join(MODES)}, not {self.monitor!r}")
        if self.fps <= 0 or self.seconds <= 0:
            raise ValueError("replay fps and seconds must be positive")


class WindowExclusion:
    """Regexes matched (search, case-insensitive) against the focused window's class, process and title."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match(self, window: Mapping[str, Any] | None) -> str | None:
        """The pattern that matched this window, or None."""
        if not window or not self.patterns:
            return None
        texts = [str(window.get(k) or "") for k in ("window_class", "process", "title")]
        for pattern in self.patterns:
            if any(pattern.search(text) for text in texts if text):
                return pattern.pattern
        return None


# --------------------------------------------------------------------------- codec


@functools.cache
def deflate_backend() -> tuple[str, Callable[..., bytes], Callable[..., bytes]]:
    """(name, compress, decompress): ISA-L when the `isal` package is installed, else CPython's zlib.

    Both read and write the same zlib format, so a frame stored with one decodes with the other.
    """
    try:
        from isal import isal_zlib
    except ImportError:
        return "zlib", zlib.compress, zlib.decompress
    return "isal", isal_zlib.compress, isal_zlib.decompress


def _deflate(data: Any) -> bytes:
    return deflate_backend()[1](data, 1)  # level 1: the ratio of higher levels is not worth 2-5x the CPU


def _inflate(payload: bytes) -> bytes:
    return deflate_backend()[2](payload)


@dataclass(frozen=True)
class StoredFrame:
    """One frame: a keyframe (whole BGRA image) or the XOR delta of a box against the previous frame."""

    at: float  # monotonic seconds
    width: int
    height: int
    key: bool
    box: tuple[int, int, int, int] | None  # y0, y1, x0, x1 of the delta; None: unchanged (or a keyframe)
    payload: bytes  # a zlib stream; empty for an unchanged frame

    @property
    def nbytes(self) -> int:
        return len(self.payload) + 64  # the object itself, roughly


def encode_frame(at: float, current: Any, previous: Any | None, force_key: bool = False) -> StoredFrame:
    """Store ``current`` (an (h, w, 4) uint8 array) losslessly, as a delta of ``previous`` when that pays."""
    import numpy as np

    height, width = int(current.shape[0]), int(current.shape[1])
    if previous is None or force_key or previous.shape != current.shape:
        return StoredFrame(at, width, height, True, None, _deflate(np.ascontiguousarray(current).data))
    # Compare whole pixels (uint32), not bytes: a quarter of the work.
    changed = current.view(np.uint32)[..., 0] != previous.view(np.uint32)[..., 0]
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return StoredFrame(at, width, height, False, None, b"")
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(changed[y0:y1].any(axis=0))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    if (y1 - y0) * (x1 - x0) > FULL_CHANGE * width * height:
        return StoredFrame(at, width, height, True, None, _deflate(np.ascontiguousarray(current).data))
    delta = np.bitwise_xor(current[y0:y1, x0:x1], previous[y0:y1, x0:x1])
    return StoredFrame(at, width, height, False, (y0, y1, x0, x1), _deflate(delta.data))


def apply_frame(frame: StoredFrame, state: Any | None) -> Any:
    """The image after ``frame``: a new array for a keyframe, ``state`` updated in place for a delta."""
    import numpy as np

    if frame.key:
        data = bytearray(_inflate(frame.payload))  # writable: later deltas update it in place
        return np.frombuffer(data, np.uint8).reshape(frame.height, frame.width, 4)
    if state is None:
        raise ValueError("a delta frame needs the frame before it")
    if frame.box is not None:
        y0, y1, x0, x1 = frame.box
        delta = np.frombuffer(_inflate(frame.payload), np.uint8).reshape(y1 - y0, x1 - x0, 4)
        state[y0:y1, x0:x1] ^= delta
    return state


# --------------------------------------------------------------------------- ring buffer


@dataclass
class _Group:
    frames: list[StoredFrame] = field(default_factory=list)
    nbytes: int = 0


class FrameRing:
    """Frames grouped by keyframe; evicts whole groups (a delta is useless without its keyframe).

    Bounds: the oldest group goes once the newer ones still cover ``seconds``, or whenever the
    compressed bytes exceed ``max_bytes``. A group is closed early when it grows past a quarter of
    ``max_bytes``, so a screen full of noise still cannot push the ring far over its budget.
    """

    def __init__(self, seconds: float, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._groups: deque[_Group] = deque()
        self.nbytes = 0
        self.evicted = 0

    def wants_keyframe(self, at: float, key_seconds: float = KEYFRAME_SECONDS) -> bool:
        if not self._groups:
            return True
        group = self._groups[-1]
        return at - group.frames[0].at >= key_seconds or group.nbytes > self.max_bytes // 4

    def append(self, frame: StoredFrame) -> None:
        if frame.key or not self._groups:
            if not frame.key:
                raise ValueError("the first frame must be a keyframe")
            self._groups.append(_Group())
        group = self._groups[-1]
        group.frames.append(frame)
        group.nbytes += frame.nbytes
        self.nbytes += frame.nbytes
        self._evict(frame.at)

    def _evict(self, now: float) -> None:
        while len(self._groups) > 1:
            second = self._groups[1]
            covered = second.frames[0].at <= now - self.seconds  # the rest still reaches back far enough
            if not covered and self.nbytes <= self.max_bytes:
                break
            gone = self._groups.popleft()
            self.nbytes -= gone.nbytes
            self.evicted += len(gone.frames)

    def clear(self) -> None:
        self._groups.clear()
        self.nbytes = 0

    def __len__(self) -> int:
        return sum(len(g.frames) for g in self._groups)

    def frames(self) -> list[StoredFrame]:
        return [f for g in self._groups for f in g.frames]


@dataclass(frozen=True)
class ReplayClip:
    """A snapshot of the ring: immutable frames, safe to hand to another thread.

    ``frames[0]`` is a keyframe; ``first`` is the first frame inside the last ``seconds`` (frames
    before it are only there to decode it).
    """

    frames: tuple[StoredFrame, ...]
    fps: float
    first: int = 0

    @property
    def count(self) -> int:
        return len(self.frames) - self.first

    @property
    def seconds(self) -> float:
        return self.count / self.fps

    @property
    def size(self) -> tuple[int, int]:
        last = self.frames[-1]
        return last.width, last.height

    def images(self, start: int = 0, end: int | None = None) -> Iterator[Any]:
        """Decoded (h, w, 4) BGRA arrays for clip frames ``start`` to ``end`` (exclusive), relative to ``first``.

        The array is updated in place by the next frame: copy it to keep it.
        """
        end = self.count if end is None else end
        state = None
        for index, frame in enumerate(self.frames[: self.first + end]):
            state = apply_frame(frame, state)
            if index >= self.first + start:
                yield state

    def image(self, index: int) -> Any:
        """One decoded frame (a copy), for a preview: decoding starts at the nearest keyframe before it."""
        target = self.first + index
        if not 0 <= index < self.count:
            raise IndexError(index)
        key = max(i for i in range(target + 1) if self.frames[i].key)
        state: Any = None
        for frame in self.frames[key: target + 1]:
            state = apply_frame(frame, state)
        return state.copy()


def clip_from(frames: Sequence[StoredFrame], fps: float, seconds: float) -> ReplayClip:
    if not frames:
        return ReplayClip((), fps)
    newest = frames[-1].at
    first = next((i for i, f in enumerate(frames) if f.at > newest - seconds), 0)
    return ReplayClip(tuple(frames), fps, first)


# --------------------------------------------------------------------------- recorder


@dataclass(frozen=True)
class CursorImage:
    """The pointer as XFixes gives it: its hot spot (``x``, ``y``, root coordinates) and a premultiplied
    BGRA image (``pixels``, height x width x 4 bytes) whose top-left corner is at (x - xhot, y - yhot)."""

    x: int
    y: int
    xhot: int
    yhot: int
    width: int
    height: int
    pixels: bytes
    serial: int = 0


def draw_cursor(frame: Any, cursor: CursorImage, left: int = 0, top: int = 0) -> None:
    """Blend ``cursor`` into ``frame`` (an (h, w, 4) BGRA uint8 array whose top-left pixel is at
    root (``left``, ``top``)), in place; the parts of the pointer outside the frame are skipped."""
    import numpy as np

    height, width = int(frame.shape[0]), int(frame.shape[1])
    x0, y0 = cursor.x - cursor.xhot - left, cursor.y - cursor.yhot - top
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(width, x0 + cursor.width), min(height, y0 + cursor.height)
    if fx0 >= fx1 or fy0 >= fy1:
        return  # the pointer is on another monitor
    image = np.frombuffer(cursor.pixels, np.uint8).reshape(cursor.height, cursor.width, 4)
    src = image[fy0 - y0: fy1 - y0, fx0 - x0: fx1 - x0].astype(np.uint16)
    dst = frame[fy0:fy1, fx0:fx1, :3]
    # XFixes premultiplies: out = src + dst * (255 - alpha) / 255, rounded.
    keep = 255 - src[..., 3:4]
    # The minimum only guards against a cursor that is not premultiplied after all (it would wrap round).
    dst[...] = np.minimum(src[..., :3] + (dst.astype(np.uint16) * keep + 127) // 255, 255)


class _XCursor:
    """Reads the pointer (position and image, one XFixes request) on its own Xlib connection."""

    def __init__(self, display: str | None) -> None:
        from Xlib import display as xdisplay

        self._display = xdisplay.Display(display)
        if not self._display.has_extension("XFIXES"):
            self._display.close()
            raise ReplayUnavailable("the X server has no XFixes extension: the pointer cannot be drawn")
        self._display.xfixes_query_version()  # XFixes answers GetCursorImage only after the version handshake
        self._root = self._display.screen().root
        self._last: CursorImage | None = None

    def read(self) -> CursorImage:
        import numpy as np

        reply = self._display.xfixes_get_cursor_image(self._root)
        last = self._last
        if last is not None and last.serial == reply.cursor_serial and last.serial:
            pixels = last.pixels  # same cursor shape: skip the conversion
        else:
            pixels = np.asarray(reply.cursor_image, dtype="<u4").tobytes()  # ARGB words: B, G, R, A bytes
        self._last = CursorImage(int(reply.x), int(reply.y), int(reply.xhot), int(reply.yhot),
                                 int(reply.width), int(reply.height), pixels, int(reply.cursor_serial))
        return self._last

    def close(self) -> None:
        self._display.close()


class ReplayGrabber:
    """The recorder's grabber: a ScreenGrabber (mss, XShm on X11) plus the mouse pointer drawn into the frame.

    On X11 the pointer comes from XFixes; the same request says where the pointer is, which picks the monitor.
    Elsewhere (Windows) frames have no pointer yet. Belongs to the thread that made it, like mss.
    """

    def __init__(self, display: str | None) -> None:
        from capture.screenshot import ScreenGrabber

        self._screen = ScreenGrabber(display)
        self._cursor: _XCursor | None = None
        self.cursor_problem: str | None = None  # why frames have no pointer, when they don't
        if sys.platform.startswith("linux"):  # X11: replay does not run on Wayland (unavailable_reason)
            try:
                self._cursor = _XCursor(display)
            except ReplayUnavailable as exc:
                self.cursor_problem = exc.reason
            except Exception as exc:  # noqa: BLE001 - the pointer is a bonus: record without it
                self.cursor_problem = f"cannot read the pointer: {type(exc).__name__}: {exc}"
            if self.cursor_problem:
                log.info("screen replay records without the pointer: %s", self.cursor_problem)
        else:
            self.cursor_problem = "the pointer is only drawn on X11 so far"

    def grab(self, mode: str) -> Any:
        import numpy as np

        cursor = self._cursor.read() if self._cursor is not None else None
        shot = self._screen.grab(mode, cursor=(cursor.x, cursor.y) if cursor is not None else None)
        if cursor is not None and cursor.width and cursor.height:
            frame = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)  # shot.raw is mss's bytearray
            draw_cursor(frame, cursor, shot.left, shot.top)
        return shot

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        self._screen.close()


def _default_grabber(display: str | None) -> Any:
    return ReplayGrabber(display)


class _ForegroundReader:
    """The focused window, read on one Xlib connection kept open by the recorder thread.

    `capture.activity.foreground_window()` opens a connection per call (~2.6 ms of CPU: handshake and
    atoms); the exclusion check runs twice per frame, which alone cost ~1% of a core at 2 fps.
    """

    def __init__(self, display: str | None) -> None:
        self._display = display
        self._x11: Any = None

    def __call__(self) -> Mapping[str, Any] | None:
        if sys.platform == "win32" or sys.platform == "darwin":
            from capture.activity import foreground_window

            return foreground_window()  # no connection to keep there
        if self._x11 is None:
            from capture.activity import _X11

            name = self._display or os.environ.get("DISPLAY")
            if not name:
                return None
            self._x11 = _X11(name)
        try:
            return self._x11.describe(self._x11.active_window_id())
        except Exception:
            self.close()  # a broken connection: the next call opens a new one; the caller fails closed
            raise

    def close(self) -> None:
        if self._x11 is not None:
            x11, self._x11 = self._x11, None
            try:
                x11.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to release
                pass


@dataclass
class RecorderStats:
    frames: int
    seconds: float
    buffer_bytes: int  # compressed frames
    reference_bytes: int  # the raw last frame kept to compute the next delta
    cpu_seconds: float  # the recorder thread's own CPU time
    grabs: int
    excluded: int
    evicted: int
    deflate: str = "zlib"  # which library compresses the frames (deflate_backend)


class ReplayRecorder:
    """Records on its own thread with its own mss instance (mss objects belong to their thread).

    ``pause()``/``resume()`` are the user's; exclusion is automatic. ``snapshot()`` is cheap
    (references to immutable frames) and may be called from any thread.
    """

    def __init__(
        self,
        settings: ReplaySettings,
        *,
        display: str | None = None,
        grabber_factory: Callable[[str | None], Any] = _default_grabber,
        foreground: Callable[[], Mapping[str, Any] | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._display = display
        self._grabber_factory = grabber_factory
        # Default: the focused window read on a connection the recorder thread keeps (closed when it stops).
        self._own_foreground: _ForegroundReader | None = None
        if foreground is None:
            foreground = self._own_foreground = _ForegroundReader(display)
        self._foreground = foreground
        self._clock = clock
        self._exclusion = WindowExclusion(settings.exclude_windows)
        self._ring = FrameRing(settings.seconds, settings.max_bytes)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused = False
        self._excluded_by: str | None = None
        self._previous: Any = None
        self.error: str | None = None
        self._cpu = 0.0
        self._grabs = 0
        self._excluded_frames = 0

    # -- control (any thread)

    @property
    def state(self) -> str:
        if self.error is not None:
            return FAILED
        if self._thread is None or not self._thread.is_alive():
            return OFF
        if self._paused:
            return PAUSED
        return EXCLUDED if self._excluded_by else RECORDING

    @property
    def excluded_by(self) -> str | None:
        return self._excluded_by

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.error = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="replay-recorder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and forget every frame: a replay that is off keeps nothing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        with self._lock:
            self._ring.clear()
            self._previous = None

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def snapshot(self) -> ReplayClip:
        with self._lock:
            frames = self._ring.frames()
        return clip_from(frames, self.settings.fps, self.settings.seconds)

    def stats(self) -> RecorderStats:
        with self._lock:
            frames = self._ring.frames()
            previous = self._previous
            nbytes, evicted = self._ring.nbytes, self._ring.evicted
        return RecorderStats(
            frames=len(frames), seconds=(frames[-1].at - frames[0].at + 1 / self.settings.fps) if frames else 0.0,
            buffer_bytes=nbytes, reference_bytes=int(previous.nbytes) if previous is not None else 0,
            cpu_seconds=self._cpu, grabs=self._grabs, excluded=self._excluded_frames, evicted=evicted,
            deflate=deflate_backend()[0])

    # -- the recorder thread

    def _run(self) -> None:
        cpu_start = time.thread_time()
        grabber = None
        try:
            grabber = self._grabber_factory(self._display)
            interval = 1.0 / self.settings.fps
            next_at = self._clock()
            while not self._stop.is_set():
                self.tick(grabber)
                self._cpu = time.thread_time() - cpu_start
                next_at += interval
                delay = next_at - self._clock()
                if delay < 0:  # fell behind (a suspended laptop): don't burst to catch up
                    next_at, delay = self._clock(), 0.0
                self._stop.wait(delay)
        except Exception as exc:  # noqa: BLE001 - the thread must say why it stopped, not die silently
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("screen replay stopped: %s", self.error)
        finally:
            if grabber is not None:
                grabber.close()
            if self._own_foreground is not None:
                self._own_foreground.close()

    def _excluded(self) -> str | None:
        if not self._exclusion:
            return None
        try:
            return self._exclusion.match(self._foreground())
        except Exception as exc:  # noqa: BLE001 - unknown focus: fail closed, keep nothing
            return f"focused window unknown ({type(exc).__name__})"

    def tick(self, grabber: Any) -> bool:
        """One frame: grab, check exclusion, store. True when a frame was stored. Called by the thread."""
        import numpy as np

        if self._paused:
            return False
        # Checked before and after the grab: a password manager that gains focus during the grab
        # may already be on the frame, so that frame is dropped too.
        self._excluded_by = self._excluded()
        if self._excluded_by:
            self._excluded_frames += 1
            return False
        shot = grabber.grab(self.settings.monitor)
        self._grabs += 1
        self._excluded_by = self._excluded()
        if self._excluded_by:
            self._excluded_frames += 1
            return False
        current = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)
        at = self._clock()
        frame = encode_frame(at, current, self._previous, force_key=self._ring.wants_keyframe(at))
        with self._lock:
            self._ring.append(frame)
            self._previous = current
        return True


def settings_from(values: Mapping[str, Any]) -> ReplaySettings:
    """From the `[replay]` config table (already validated by the config schema)."""
    return ReplaySettings(seconds=float(values.get("seconds", 30)), fps=float(values.get("fps", 2)),
                          monitor=str(values.get("monitor", "cursor-monitor")),
                          exclude_windows=tuple(values.get("exclude_windows") or ()))


__all__ = [
    "EXCLUDED", "FAILED", "OFF", "PAUSED", "RECORDING", "UNAVAILABLE",
    "CursorImage", "FrameRing", "RecorderStats", "ReplayClip", "ReplayGrabber", "ReplayRecorder", "ReplaySettings",
    "ReplayUnavailable", "StoredFrame", "WindowExclusion", "apply_frame", "clip_from", "deflate_backend", "draw_cursor",
    "encode_frame", "settings_from", "unavailable_reason",
]
