"""pysot tracker interface: ``init(img, bbox)`` / ``track(img) -> {'bbox': [...], 'best_score': s}``.

Drop-in for pysot's ``tools/test.py`` (``tracker = EDCFPysotTracker(); tracker.init(img, gt_bbox_)``)::

    from edcf_plugin.pysot import EDCFPysotTracker
    tracker = EDCFPysotTracker("EDCF")                # or SiamFC, EDSiam, CACFNet, CACFNet+
    tracker.init(cv2.imread(path0), [x, y, w, h])
    out = tracker.track(cv2.imread(path1))            # {'bbox': [x, y, w, h], 'best_score': 0.93}

Box convention. pysot's trackers read the centre of ``bbox`` as ``(x + (w-1)/2, y + (h-1)/2)`` and report
``[cx - w/2, cy - h/2, w, h]``; this class does the same in our coordinates (docs/ARCHITECTURE.md), i.e. it
initialises the core tracker with ``[x - 0.5, y - 0.5, w, h]`` and returns the core's box unchanged. pysot's
``test.py`` builds the initial box with ``get_axis_aligned_bbox``, which for an ``x,y,w,h`` ground truth gives
``[x + 0.5, y + 0.5, w, h]``; the two half pixels cancel, so a target that does not move is reported at
exactly its ground-truth box, in the ground truth's own convention (1-based for pysot's OTB JSON), as
pysot's own trackers do. For a VOT polygon the core tracker is centred on the polygon's mean point.

``edcf_plugin.pysot`` re-exports this module and, run with ``python -m``, starts the ``test.py``-compatible runner
(:mod:`edcf_plugin.toolkits.pysot_runner`), which imports this module, not that doorway.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import TrackerConfig
from ..errors import InputError


def axis_aligned_box(region: Sequence[float]) -> tuple[float, float, float, float]:
    """``(cx, cy, w, h)`` of a ground-truth region, as pysot's ``get_axis_aligned_bbox`` defines it.

    ``x,y,w,h``: the centre ``(x + w/2, y + h/2)`` and the same size. A polygon ``x1,y1,...,x4,y4``: the
    mean of its corners, and its axis-aligned bounds scaled by ``s = sqrt(A1 / A2)`` plus one pixel, where
    ``A1`` is the product of the first two side lengths (the area of a rotated rectangle) and ``A2`` the
    area of the bounds, so the box keeps the polygon's area.
    """
    r = [float(v) for v in region]
    if len(r) == 8:
        xs, ys = r[0::2], r[1::2]
        cx, cy = sum(xs) / 4.0, sum(ys) / 4.0
        bw, bh = max(xs) - min(xs), max(ys) - min(ys)
        side1 = math.hypot(r[0] - r[2], r[1] - r[3])
        side2 = math.hypot(r[2] - r[4], r[3] - r[5])
        s = math.sqrt(side1 * side2 / (bw * bh)) if bw > 0 and bh > 0 else float("nan")
        return cx, cy, s * bw + 1.0, s * bh + 1.0
    if len(r) == 4:
        x, y, w, h = region
        return x + w / 2, y + h / 2, w, h
    raise InputError(f"a ground-truth region needs 4 or 8 values, got {len(r)}")


def pysot_init_box(region: Sequence[float]) -> list[float]:
    """The box pysot's ``test.py`` passes to ``tracker.init``: ``[cx - (w-1)/2, cy - (h-1)/2, w, h]``."""
    cx, cy, w, h = axis_aligned_box(region)
    if len(region) == 8:
        cx, cy, w, h = float(cx), float(cy), float(w), float(h)
    return [cx - (w - 1) / 2, cy - (h - 1) / 2, w, h]


def rect_to_vot_polygon(box: Sequence[float]) -> list[float]:
    """pysot ``test.py``'s polygon for an ``x,y,w,h`` VOT ground truth (corners at ``x+w-1``, ``y+h-1``)."""
    x, y, w, h = box
    return [x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y]


class EDCFPysotTracker:
    """EDCF (or an ablation variant) behind pysot's tracker interface.

    Args:
        variant: ``EDCF`` (default), ``SiamFC``, ``EDSiam``, ``CACFNet`` or ``CACFNet+``.
        weights: checkpoint path; None loads the bundled default model.
        device: torch device string (``cpu``, ``cuda``, ``cuda:1``).
        config: a :class:`TrackerConfig`, or a YAML file path (``toolkit_configs/pysot/edcf.yaml``).
        overrides: extra :class:`TrackerConfig` fields applied on top.
        tracker: an already built core tracker (any object with ``init(image, box)`` and
            ``update(image) -> (box, score)``), used instead of building one.
        threads: torch's CPU threads for this process (default: torch's default).
    """

    def __init__(self, variant: str = "EDCF", weights: str | Path | None = None, device: str = "cpu",
                 config: TrackerConfig | str | Path | None = None, overrides: dict | None = None,
                 tracker=None, threads: int | None = None):
        if tracker is None:
            from ..tracking.tracker import build_tracker

            tracker = build_tracker(variant=variant, weights=weights, device=device, config=config,
                                    overrides=overrides, threads=threads)
        self.tracker = tracker

    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """Start on ``bbox`` (pysot's ``[x, y, w, h]``, centre ``x + (w-1)/2``) in a BGR uint8 image."""
        b = np.asarray(bbox, dtype=np.float64).reshape(-1)
        if b.size != 4:
            raise InputError(f"bbox must have 4 values x,y,w,h, got {b.size}")
        self.tracker.init(img, [b[0] - 0.5, b[1] - 0.5, b[2], b[3]])

    def track(self, img: np.ndarray) -> dict:
        """Track one frame: ``{'bbox': [x, y, w, h], 'best_score': s}``, all plain Python floats."""
        box, score = self.tracker.update(img)
        return {"bbox": [float(v) for v in box], "best_score": float(score)}
