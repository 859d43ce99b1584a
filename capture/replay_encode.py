"""A replay snapshot as a WebM video, made when the reporter attaches it (on a worker thread).

VP9 in realtime mode (PyAV's wheels carry libvpx): ~1.5 s for 60 full-HD frames on one
busy core; VP8 is the fallback when a build lacks VP9. Trimming and redaction happen on the
decoded lossless frames, so a hidden area is black in every frame of the file: its pixels
never reach the encoder.

Size: the bitrate is chosen from the byte limit (the tracker's attachment limit) and the
clip's length; if the file still comes out too big, the next attempt lowers the bitrate by
the overshoot, then the resolution, and the result says what was done.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from capture.replay import ReplayClip

CONTENT_TYPE = "video/webm"
DEFAULT_BITRATE = 1_000_000  # bit/s when the tracker sets no limit: sharp text at 2 fps
MIN_BITRATE = 40_000
MAX_ATTEMPTS = 6
HEADROOM = 0.85  # rate control overshoots on the first keyframe; aim below the limit
SCALES = (1.0, 0.75, 0.5, 0.375, 0.25)
MIN_BITS_PER_PIXEL = 0.05  # per frame: below this VP9 cannot hold screen text and overshoots its target


class ReplayTooLarge(Exception):
    """Even the smallest attempt does not fit the limit; the message says what was tried."""


@dataclass(frozen=True)
class Box:
    """A hidden area, as fractions of the frame (so one box fits every frame, whatever its size)."""

    x: float
    y: float
    width: float
    height: float

    def pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
        """y0, y1, x0, x1, rounded outwards so no edge pixel of the area survives."""
        x0 = max(0, int(self.x * frame_width))
        y0 = max(0, int(self.y * frame_height))
        x1 = min(frame_width, math.ceil((self.x + self.width) * frame_width))
        y1 = min(frame_height, math.ceil((self.y + self.height) * frame_height))
        return y0, y1, x0, x1


@dataclass
class ReplaySelection:
    """What the reporter chose in the form: which frames, which areas hidden. Encodes itself on demand.

    ``start``/``end`` index the clip's frames (end exclusive; None: to the last frame).
    """

    clip: ReplayClip
    start: int = 0
    end: int | None = None
    boxes: list[Box] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        end = self.clip.count if self.end is None else min(self.end, self.clip.count)
        return max(0, end - self.start)

    @property
    def seconds(self) -> float:
        return self.frame_count / self.clip.fps

    def encode(self, max_bytes: int | None = None) -> EncodedReplay:
        return encode_selection(self, max_bytes)


@dataclass(frozen=True)
class EncodedReplay:
    data: bytes
    width: int
    height: int
    frames: int
    seconds: float
    codec: str
    bitrate: int
    took_seconds: float
    attempts: tuple[str, ...]  # one line per try, the last one kept
    content_type: str = CONTENT_TYPE

    @property
    def note(self) -> str:
        """For the report: what the video is, and what was done to make it fit."""
        text = (f"{self.seconds:.1f} s, {self.frames} frames, {self.width}x{self.height}, {self.codec} "
                f"{self.bitrate // 1000} kbit/s")
        if len(self.attempts) > 1:
            text += "; to fit the size limit: " + " -> ".join(self.attempts)
        return text


def pick_codec() -> str:
    import av

    for name in ("libvpx-vp9", "libvpx"):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - av raises UnknownCodecError (its own class) for a missing codec
            continue
    raise RuntimeError("this PyAV build has no VP9 or VP8 encoder (libvpx)")


def _scale_index_for(bitrate: int, width: int, height: int, fps: float) -> int:
    for index, scale in enumerate(SCALES):
        if bitrate / (fps * width * height * scale * scale) >= MIN_BITS_PER_PIXEL:
            return index
    return len(SCALES) - 1


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)  # yuv420p needs even sizes


def _redact(image: Any, boxes: Sequence[Box]) -> Any:
    if not boxes:
        return image
    image = image.copy()  # the clip's decoder keeps using its own array for the next delta
    height, width = image.shape[:2]
    for box in boxes:
        y0, y1, x0, x1 = box.pixels(width, height)
        image[y0:y1, x0:x1] = (0, 0, 0, 255)
    return image


def encode_once(selection: ReplaySelection, width: int, height: int, bitrate: int, codec: str) -> bytes:
    import av

    buffer = io.BytesIO()
    rate = Fraction(selection.clip.fps).limit_denominator(1000)
    with av.open(buffer, "w", format="webm") as container:
        stream: Any = container.add_stream(codec, rate=rate)  # a VideoStream; typed loosely by PyAV
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        stream.thread_count = 2
        # realtime: ~10x faster than "good"; lag 0: no look-ahead frames held in memory.
        options: dict[str, str] = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        if codec == "libvpx-vp9":
            options.update({"row-mt": "1", "tile-columns": "2"})
        stream.options = options
        end = selection.start + selection.frame_count
        for index, image in enumerate(selection.clip.images(selection.start, end)):
            frame = av.VideoFrame.from_ndarray(_redact(image, selection.boxes), format="bgra")
            frame = frame.reformat(width, height, "yuv420p")
            frame.pts = index  # frame index: the time base is 1/fps
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def encode_selection(selection: ReplaySelection, max_bytes: int | None = None, codec: str | None = None) -> EncodedReplay:
    """Encode, lowering bitrate and then resolution until the file fits ``max_bytes`` (None: no limit)."""
    if selection.frame_count <= 0:
        raise ValueError("the replay selection holds no frames")
    started = time.perf_counter()
    codec = codec or pick_codec()
    source_w, source_h = selection.clip.size
    seconds = max(selection.seconds, 1.0)
    bitrate = DEFAULT_BITRATE
    if max_bytes is not None:
        bitrate = min(bitrate, int(max_bytes * HEADROOM * 8 / seconds))
    attempts: list[str] = []
    scale_index = 0
    for _ in range(MAX_ATTEMPTS):
        bitrate = max(bitrate, MIN_BITRATE)
        # Too few bits per pixel and VP9 overshoots anyway (text needs a floor): fewer pixels first.
        scale_index = max(scale_index, _scale_index_for(bitrate, source_w, source_h, selection.clip.fps))
        width, height = _even(source_w * SCALES[scale_index]), _even(source_h * SCALES[scale_index])
        data = encode_once(selection, width, height, bitrate, codec)
        attempts.append(f"{width}x{height} at {bitrate // 1000} kbit/s: {len(data)} bytes")
        if max_bytes is None or len(data) <= max_bytes:
            return EncodedReplay(data, width, height, selection.frame_count, selection.seconds,
                                 "VP9" if codec == "libvpx-vp9" else "VP8", bitrate,
                                 time.perf_counter() - started, tuple(attempts))
        ratio = max_bytes * HEADROOM / len(data)
        wanted = int(bitrate * ratio)  # lower the bitrate by the overshoot
        if wanted <= MIN_BITRATE and scale_index == len(SCALES) - 1:
            # Smallest picture at the lowest bitrate: keep the newest frames (closest to the bug), drop the oldest.
            keep = max(1, int(selection.frame_count * ratio))
            selection = replace(selection, start=selection.start + selection.frame_count - keep)
            attempts.append(f"kept the last {keep / selection.clip.fps:.1f} s")
        elif wanted <= MIN_BITRATE:
            scale_index += 1  # the bitrate floor is reached: only pixels are left to give up
        bitrate = wanted
    raise ReplayTooLarge(f"the replay does not fit in {max_bytes} bytes; tried " + "; ".join(attempts))


__all__ = ["Box", "EncodedReplay", "ReplaySelection", "ReplayTooLarge", "encode_selection", "pick_codec"]
