"""Generated sequences for tests and smoke runs, and small datasets in pysot-toolkit's and the got10k toolkit's
folder layouts. Nothing is downloaded, like the VOT toolkit's dummy dataset.

* :func:`trajectory` + :func:`render`: smooth random texture (fixed seed) with a high-contrast checkered target
  pasted at the ground-truth position; targets move a few pixels per frame, or jump across the image at given
  frames (to force failures in the reset-based protocol). The dataset writers below use them.
* :func:`textured_sequence`: a textured object on a textured background, moving and growing (the tests' tracking
  sequence).

Training's synthetic videos (``training/synthetic.py``) are another thing: rendered on demand per track, with
look-alike distractors, occluders and real-image textures.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .sequences import write_otb_sequence


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    small = rng.integers(40, 200, size=(max(2, height // 8), max(2, width // 8), 3)).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def _target(w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    tile = (((xx // max(1, w // 3)) + (yy // max(1, h // 3))) % 2).astype(np.uint8)
    patch = np.where(tile[..., None] == 1, np.array([20, 20, 235], np.uint8), np.array([240, 240, 30], np.uint8))
    return patch


def textured(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Smooth random colour texture (low-frequency noise upsampled)."""
    small = rng.integers(0, 256, size=(max(2, h // scale), max(2, w // scale), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def textured_sequence(n: int = 40, size: tuple[int, int] = (160, 200), obj: tuple[int, int] = (36, 28),
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


def trajectory(n_frames: int, width: int, height: int, size: tuple[int, int] = (12, 10),
               step: tuple[float, float] = (1.0, 0.5), jumps: Sequence[int] = ()) -> np.ndarray:
    """0-based integer ``x,y,w,h`` boxes: a straight, slow path; at each frame in ``jumps`` the target
    moves to the opposite side of the image (far outside any search region)."""
    w, h = size
    x, y = width * 0.25, height * 0.3
    boxes = []
    for i in range(n_frames):
        if i in jumps:  # mirror the position through the image centre
            x, y = width - w - x, height - h - y
        boxes.append([round(x), round(y), w, h])
        x = float(np.clip(x + step[0], 1, width - w - 2))
        y = float(np.clip(y + step[1], 1, height - h - 2))
    return np.array(boxes, dtype=np.int64)


def render(boxes: np.ndarray, width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    """BGR frames showing the target at ``boxes`` (0-based integer x,y,w,h) on a fixed background."""
    rng = np.random.default_rng(seed)
    bg = _background(width, height, rng)
    frames = []
    for x, y, w, h in boxes:
        img = bg.copy()
        img[y:y + h, x:x + w] = _target(int(w), int(h))
        frames.append(img)
    return frames


def _write_frames(folder: Path, frames: list[np.ndarray], pattern: str = "{:08d}.jpg") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, img in enumerate(frames, 1):
        name = pattern.format(i)
        cv2.imwrite(str(folder / name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        names.append(name)
    return names


def make_pysot_dataset(root: str | Path, name: str, videos: dict[str, dict] | None = None,
                       n_frames: int = 10, width: int = 64, height: int = 48, vot: bool | None = None) -> Path:
    """Write ``<root>/<name>.json`` and the frames of each video; return the JSON path.

    ``videos`` maps a video name to options for :func:`trajectory` (``size``, ``step``, ``jumps``) and
    ``n_frames``/``width``/``height``. OTB-style datasets get 1-based ``x,y,w,h`` ground truth (as pysot's
    OTB JSON), VOT-style ones (``vot``, default: the name starts with VOT) 8-value polygons and tags.
    """
    root = Path(root)
    videos = videos or {"dummyA": {}, "dummyB": {"step": (-1.0, 1.0), "size": (10, 12)}}
    vot = name.startswith("VOT") if vot is None else vot
    meta = {}
    for seed, (vname, opts) in enumerate(videos.items()):
        opts = dict(opts)
        n = int(opts.pop("n_frames", n_frames))
        wd = int(opts.pop("width", width))
        ht = int(opts.pop("height", height))
        boxes = trajectory(n, wd, ht, **opts)
        names = _write_frames(root / vname / ("color" if vot else "img"), render(boxes, wd, ht, seed))
        rel = [f"{vname}/{'color' if vot else 'img'}/{f}" for f in names]
        if vot:
            gt = [[float(x), float(y), float(x + w), float(y), float(x + w), float(y + h), float(x),
                   float(y + h)] for x, y, w, h in boxes]
            entry = {"video_dir": vname, "init_rect": [int(v) for v in boxes[0]], "img_names": rel,
                     "gt_rect": gt}
            for tag in ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion"):
                entry[tag] = [0] * n
        else:
            gt = [[int(x) + 1, int(y) + 1, int(w), int(h)] for x, y, w, h in boxes]
            entry = {"video_dir": vname, "init_rect": gt[0], "img_names": rel, "gt_rect": gt, "attr": ["SV"]}
        meta[vname] = entry
    path = root / f"{name}.json"
    path.write_text(json.dumps(meta))
    return path


def make_sequence_folders(root: str | Path, videos: dict[str, dict] | None = None, n_frames: int = 10,
                          width: int = 64, height: int = 48, split: str | None = "bench") -> Path:
    """OTB-style folders ``<root>/<video>/img/00000001.jpg`` + 1-based ``groundtruth_rect.txt`` and an
    ``index.json`` marking every video with ``split`` (a video's own ``split`` option wins)."""
    root = Path(root)
    videos = videos or {"seqA": {}, "seqB": {"step": (-1.0, 1.0)}}
    index = []
    for seed, (vname, opts) in enumerate(videos.items()):
        opts = dict(opts)
        n = int(opts.pop("n_frames", n_frames))
        video_split = opts.pop("split", split)
        boxes = trajectory(n, width, height, **opts)
        write_otb_sequence(root / vname, render(boxes, width, height, seed), boxes)
        index.append({"name": vname, "frames": n, "width": width, "height": height, "split": video_split})
    (root / "index.json").write_text(json.dumps(index))
    return root


def make_got10k_otb(root: str | Path, version="tb50", n_frames: int = 3, width: int = 64,
                    height: int = 48) -> Path:
    """The folder layout the got10k toolkit's ``ExperimentOTB`` expects for ``version``: every sequence
    of that version as ``<root>/<Seq>/img/0001.jpg`` + ``groundtruth_rect.txt`` (1-based). The toolkit
    starts ``David`` at frame 300 (OTB's convention), so that sequence gets 299 leading frames (links to
    one file)."""
    from got10k.datasets import OTB

    root = Path(root)
    seqs = OTB._OTB__version_dict[version]
    for seed, name in enumerate(seqs):
        boxes = trajectory(n_frames, width, height)
        frames = render(boxes, width, height, seed)
        folder = root / name / "img"
        folder.mkdir(parents=True, exist_ok=True)
        offset = 0
        if name.lower() == "david":
            offset = 299
            filler = folder / "0001.jpg"
            cv2.imwrite(str(filler), frames[0])
            for i in range(2, offset + 1):
                os.link(filler, folder / f"{i:04d}.jpg")
        for i, img in enumerate(frames, offset + 1):
            cv2.imwrite(str(folder / f"{i:04d}.jpg"), img)
        (root / name / "groundtruth_rect.txt").write_text(
            "".join(f"{x + 1},{y + 1},{w},{h}\n" for x, y, w, h in boxes))
    return root
