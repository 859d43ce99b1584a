"""Encoding a replay selection: trim, redaction in every frame, and fitting a byte limit."""

from __future__ import annotations

import io
from typing import Any

import pytest

np = pytest.importorskip("numpy")
av = pytest.importorskip("av")

from capture.replay import clip_from, encode_frame  # noqa: E402
from capture.replay_encode import Box, ReplaySelection, ReplayTooLarge, encode_selection  # noqa: E402

W, H = 96, 64
COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 255)]  # RGB


def _clip(count: int = 8, noisy: bool = False) -> Any:
    frames, previous = [], None
    rng = np.random.default_rng(1)
    for i in range(count):
        r, g, b = COLOURS[i % len(COLOURS)]
        image = np.empty((H, W, 4), np.uint8)
        image[...] = (b, g, r, 255)
        if noisy:
            image[..., :3] = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
        frames.append(encode_frame(float(i), image, previous))
        previous = image
    return clip_from(frames, fps=2, seconds=count / 2)


def _decode(data: bytes) -> list[Any]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _near(pixel: Any, rgb: tuple[int, int, int]) -> bool:
    return all(abs(int(a) - b) < 40 for a, b in zip(pixel, rgb))


def test_trim_keeps_the_chosen_frames_in_order() -> None:
    result = ReplaySelection(_clip(), start=1, end=4).encode()
    frames = _decode(result.data)
    assert result.frames == len(frames) == 3
    assert [_near(f[H // 2, W // 2], COLOURS[i + 1]) for i, f in enumerate(frames)] == [True] * 3
    assert result.data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file


def test_a_redaction_box_is_black_in_every_frame() -> None:
    result = ReplaySelection(_clip(), boxes=[Box(0.0, 0.0, 0.5, 0.5)]).encode()
    for frame in _decode(result.data):
        assert frame[5:25, 5:40].max() < 40, "hidden area must be black"
        assert frame[H - 10, W - 10].max() > 200, "the rest is untouched"


def test_box_pixels_round_outwards() -> None:
    assert Box(0.1, 0.1, 0.2, 0.2).pixels(95, 63) == (6, 19, 9, 29)


def test_size_is_fitted_to_the_limit_and_the_note_says_how() -> None:
    selection = ReplaySelection(_clip(24, noisy=True))
    free = encode_selection(selection)
    limit = len(free.data) // 3
    fitted = encode_selection(selection, max_bytes=limit)
    assert len(fitted.data) <= limit
    assert len(fitted.attempts) > 1 and "to fit the size limit" in fitted.note


def test_an_impossible_limit_keeps_the_newest_seconds_or_says_it_cannot() -> None:
    selection = ReplaySelection(_clip(24, noisy=True))
    try:
        result = encode_selection(selection, max_bytes=2_000)
    except ReplayTooLarge as exc:
        assert "does not fit" in str(exc)
    else:
        assert len(result.data) <= 2_000 and result.frames < 24


def test_an_empty_selection_is_refused() -> None:
    with pytest.raises(ValueError):
        ReplaySelection(_clip(), start=8).encode()
