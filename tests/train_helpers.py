"""Small shared fixtures for the training tests: a tiny network config and fake datasets on disk."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from edcf_plugin.formats.generated_datasets import make_sequence_folders
from edcf_plugin.networks import NetConfig

TINY_NET = NetConfig(width=0.25, embed_channels=32, fine_channels=8, decoder_width=0.25)
TINY_ARGS = ["--width", "0.25", "--batch-size", "1", "--samples-per-epoch", "10", "--num-workers", "0", "--threads", "1",
             "--no-progress"]


def frame_with_target(h: int, w: int, box, seed: int = 0) -> np.ndarray:
    """Noise background with a bright, structured rectangle at the 0-based box."""
    rng = np.random.default_rng(seed)
    img = (rng.random((h, w, 3)) * 80).astype(np.uint8)
    x, y, bw, bh = [int(round(v)) for v in box]
    img[y:y + bh, x:x + bw] = (40, 200, 240)
    img[y + bh // 4:y + 3 * bh // 4, x + bw // 4:x + 3 * bw // 4] = (250, 30, 30)
    return img


def make_otb_root(root: Path, frames: int = 6, bad_line: bool = False) -> Path:
    """An OTB-style root with index.json (``formats.generated_datasets``): seqA, seqB (train), seqC (bench)."""
    videos = {name: {"split": split, "size": (24, 18), "step": (2.0, 1.0)}
              for name, split in (("seqA", "train"), ("seqB", "train"), ("seqC", "bench"))}
    make_sequence_folders(root, videos, n_frames=frames, width=128, height=96)
    if bad_line:
        gt = root / "seqA" / "groundtruth_rect.txt"
        lines = gt.read_text().splitlines()
        lines[2] = "garbage,line"
        gt.write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def one_thread():
    """Tests run beside other jobs on few cores: one torch thread avoids oversubscription (restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
