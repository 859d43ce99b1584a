"""Screen replay's core: ring buffer bounds, lossless delta codec, window exclusion, the recorder's tick."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from capture.replay import (  # noqa: E402 - after the importorskip
    EXCLUDED,
    FrameRing,
    ReplayRecorder,
    ReplaySettings,
    StoredFrame,
    WindowExclusion,
    apply_frame,
    clip_from,
    encode_frame,
    unavailable_reason,
)


def _image(seed: int, h: int = 48, w: int = 64) -> Any:
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 4), 240, np.uint8)
    image[..., 3] = 255
    image[10:20, 5:40, :3] = rng.integers(0, 255, (10, 35, 3), dtype=np.uint8)
    return image


def _frame(at: float, key: bool, size: int = 100) -> StoredFrame:
    return StoredFrame(at, 4, 4, key, None, b"x" * size)


# ------------------------------------------------------------------ codec


def test_delta_codec_round_trips_exactly_through_keyframes_deltas_and_unchanged_frames() -> None:
    images = [_image(0), _image(0), _image(1), _image(2)]
    images[3][40:45, 60:64] = (1, 2, 3, 255)  # a change in a corner: box grows to it
    previous, frames = None, []
    for i, image in enumerate(images):
        frames.append(encode_frame(float(i), image, previous))
        previous = image
    assert frames[0].key and not frames[1].key and frames[1].payload == b""  # unchanged: nothing stored
    assert frames[2].box is not None and frames[2].box[0] == 10  # only the changed rows
    state = None
    for frame, image in zip(frames, images):
        state = apply_frame(frame, state)
        assert np.array_equal(state, image)


def test_a_change_covering_most_of_the_screen_is_stored_as_a_keyframe() -> None:
    before = _image(0)
    after = before.copy()
    after[:, :, 0] ^= 0xFF
    assert encode_frame(1.0, after, before).key


def test_a_new_monitor_size_starts_a_keyframe() -> None:
    assert encode_frame(1.0, _image(0, 32, 48), _image(0)).key


def test_a_delta_without_its_keyframe_is_refused() -> None:
    delta = encode_frame(1.0, _image(1), _image(0))
    with pytest.raises(ValueError):
        apply_frame(delta, None)


# ------------------------------------------------------------------ ring


def test_ring_keeps_at_least_the_window_and_evicts_whole_groups() -> None:
    ring = FrameRing(seconds=10, max_bytes=10**9)
    for i in range(60):  # 2 fps for 30 s, a keyframe every 5 s
        at = i / 2
        ring.append(_frame(at, key=ring.wants_keyframe(at, key_seconds=5)))
    frames = ring.frames()
    assert frames[0].key, "the oldest frame left must be a keyframe: deltas need it"
    assert frames[-1].at - frames[0].at >= 10 - 0.5, "the last `seconds` are always covered"
    assert frames[-1].at - frames[0].at < 10 + 5, "at most one group more than the window"
    assert ring.evicted == 60 - len(frames)


def test_ring_stays_within_its_byte_budget_even_on_a_noisy_screen() -> None:
    ring = FrameRing(seconds=30, max_bytes=10_000)
    for i in range(200):
        at = i / 2
        ring.append(_frame(at, key=ring.wants_keyframe(at), size=1_000))
        assert ring.nbytes <= 10_000 + 1_100
    assert len(ring) < 20


def test_first_frame_must_be_a_keyframe() -> None:
    with pytest.raises(ValueError):
        FrameRing(10).append(_frame(0, key=False))


def test_clip_starts_at_the_first_frame_inside_the_window_but_decodes_from_its_keyframe() -> None:
    images = [_image(i) for i in range(8)]
    frames, previous = [], None
    for i, image in enumerate(images):
        frames.append(encode_frame(float(i), image, previous, force_key=(i % 4 == 0)))
        previous = image
    clip = clip_from(frames, fps=1, seconds=3)
    assert clip.first == 5 and clip.count == 3 and clip.seconds == 3
    assert [np.array_equal(a, b) for a, b in zip(clip.images(), images[5:])] == [True] * 3
    assert np.array_equal(clip.image(1), images[6])


# ------------------------------------------------------------------ exclusion


def test_exclusion_matches_class_process_or_title_case_insensitively() -> None:
    rule = WindowExclusion(["keepass", r"^Bank of .*"])
    assert rule.match({"window_class": "KeePassXC", "title": "db"}) == "keepass"
    assert rule.match({"window_class": "firefox", "title": "Bank of Springfield – Login"}) == r"^Bank of .*"
    assert rule.match({"window_class": "xterm", "title": "vim", "process": "vim"}) is None
    assert rule.match(None) is None
    assert not WindowExclusion([])


class _FakeGrabber:
    def __init__(self) -> None:
        self.grabs = 0

    def grab(self, mode: str) -> Any:
        self.grabs += 1
        image = _image(self.grabs)
        return SimpleNamespace(raw=bytearray(image.tobytes()), width=64, height=48)

    def close(self) -> None:
        pass


def test_recorder_drops_frames_while_an_excluded_window_has_focus() -> None:
    focused = {"window_class": "xterm", "title": "shell"}
    now = [0.0]
    recorder = ReplayRecorder(ReplaySettings(exclude_windows=("keepass",)), foreground=lambda: focused,
                              clock=lambda: now[0])
    grabber = _FakeGrabber()
    assert recorder.tick(grabber)
    focused = {"window_class": "KeePassXC", "title": "Passwords"}
    now[0] = 0.5
    assert not recorder.tick(grabber)
    assert grabber.grabs == 1, "not even grabbed while excluded"
    assert recorder.excluded_by == "keepass"
    focused = {"window_class": "xterm", "title": "shell"}
    now[0] = 1.0
    assert recorder.tick(grabber)
    assert recorder.snapshot().count == 2
    assert recorder.stats().excluded == 1


def test_recorder_drops_the_frame_when_focus_moves_to_an_excluded_window_during_the_grab() -> None:
    answers = iter([{"window_class": "xterm"}, {"window_class": "1Password"}])
    recorder = ReplayRecorder(ReplaySettings(exclude_windows=("1password",)), foreground=lambda: next(answers))
    assert not recorder.tick(_FakeGrabber())
    assert recorder.snapshot().count == 0


def test_unknown_focus_fails_closed() -> None:
    def broken() -> Any:
        raise OSError("X connection lost")

    recorder = ReplayRecorder(ReplaySettings(exclude_windows=("x",)), foreground=broken)
    assert not recorder.tick(_FakeGrabber())
    assert recorder.excluded_by and "unknown" in recorder.excluded_by


def test_state_reads_excluded_while_running_and_excluded() -> None:
    recorder = ReplayRecorder(ReplaySettings(fps=10, exclude_windows=("keepass",)),
                              grabber_factory=lambda _display: _FakeGrabber(),
                              foreground=lambda: {"window_class": "keepassxc"})
    recorder.start()
    try:
        import time

        deadline = time.monotonic() + 2
        while recorder.state != EXCLUDED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recorder.state == EXCLUDED
    finally:
        recorder.stop()
    assert recorder.state == "off" and recorder.snapshot().count == 0, "off keeps nothing"


def test_wayland_says_why_instead_of_recording_black_frames() -> None:
    reason = unavailable_reason({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert reason and "Wayland" in reason
    assert unavailable_reason({}, "linux") and "no display" in unavailable_reason({}, "linux")  # type: ignore[operator]
    assert unavailable_reason({"DISPLAY": ":0"}, "linux") is None
