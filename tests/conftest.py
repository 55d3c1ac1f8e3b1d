"""Shared fixtures: generated sequences (no download) and the path of the real data when present."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from edcf_plugin.formats.sequences import write_otb_sequence

torch.set_num_threads(int(os.environ.get("EDCF_TEST_THREADS", "2")))

#: The project's real sequences live beside the checkout (../shared/data/sequences); a user's clone lacks them.
SHARED_SEQUENCES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sequences"


def textured(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Smooth random colour texture (low-frequency noise upsampled)."""
    small = rng.integers(0, 256, size=(max(2, h // scale), max(2, w // scale), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def make_sequence(n: int = 40, size: tuple[int, int] = (160, 200), obj: tuple[int, int] = (36, 28),
                  seed: int = 0, scale_change: float = 0.25, gray: bool = False):
    """A textured object moving on a textured background, with a slow scale change.

    Returns (list of BGR frames, N x 4 internal 0-based ground-truth boxes).
    """
    rng = np.random.default_rng(seed)
    h, w = size
    background = textured(rng, h, w, 12)
    target = textured(rng, obj[1] * 2, obj[0] * 2, 4)
    cv2.rectangle(target, (0, 0), (target.shape[1] - 1, target.shape[0] - 1), (255, 255, 255), 3)
    frames, boxes = [], []
    for t in range(n):
        s = 1.0 + scale_change * t / max(n - 1, 1)
        tw, th = obj[0] * s, obj[1] * s
        cx = w * 0.3 + (w * 0.4) * t / max(n - 1, 1)
        cy = h * 0.5 + h * 0.15 * np.sin(t / 6.0)
        frame = background.copy()
        patch = cv2.resize(target, (int(round(tw)), int(round(th))), interpolation=cv2.INTER_AREA)
        x0, y0 = int(round(cx - tw / 2)), int(round(cy - th / 2))
        frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
        boxes.append([x0, y0, patch.shape[1], patch.shape[0]])
        if gray:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        frames.append(frame)
    return frames, np.asarray(boxes, dtype=np.float64)


@pytest.fixture(scope="session")
def moving_sequence():
    return make_sequence()


@pytest.fixture
def otb_folder(tmp_path, moving_sequence):
    frames, boxes = moving_sequence
    return write_otb_sequence(tmp_path / "Moving", frames, boxes)


@pytest.fixture
def shared_sequences():
    if not SHARED_SEQUENCES.is_dir():
        pytest.skip(f"real sequences not present at {SHARED_SEQUENCES} (a user's clone has no ../shared)")
    return SHARED_SEQUENCES
