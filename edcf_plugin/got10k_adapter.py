"""got10k toolkit adapter: ``EDCFGot10kTracker`` is a ``got10k.trackers.Tracker`` (PIL RGB images in).

    from got10k.experiments import ExperimentOTB
    from edcf_plugin.got10k_adapter import EDCFGot10kTracker
    ExperimentOTB("data/OTB", version=2015).run(EDCFGot10kTracker("EDCF"))

Boxes: the got10k toolkit hands ``init`` the first annotation row as it is in the dataset files and stores
``update``'s boxes beside them. Its reference tracker (SiamFC, siamfc-pytorch) reads them as 1-based
``x,y,w,h`` (OTB's MATLAB convention); so does this adapter by default (``one_based=True``): it converts
to our 0-based boxes on the way in and back on the way out. Pass ``one_based=False`` for 0-based data.
Needs the ``got10k`` package (and ``six``, which it imports): ``pip install edcf-plugin[got10k]``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .boxes import from_one_based, to_one_based
from .config import TrackerConfig
from .errors import InputError

try:
    from got10k.trackers import Tracker as _Got10kTracker
except ImportError as exc:  # pragma: no cover - exercised only without the optional dependency
    raise ImportError("edcf_plugin.got10k_adapter needs the got10k toolkit: pip install got10k six "
                      f"(or edcf-plugin[got10k]); import failed: {exc}") from exc


def pil_to_bgr(image) -> np.ndarray:
    """PIL image (RGB, L, RGBA, ...) or RGB array -> BGR uint8 H x W x 3."""
    if hasattr(image, "convert"):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"image must be a PIL image or an H x W x 3 RGB array, got shape {arr.shape}")
    return np.ascontiguousarray(arr[:, :, 2::-1])


class EDCFGot10kTracker(_Got10kTracker):
    """EDCF (or a variant) for the got10k toolkit's experiments (OTB, VOT, GOT-10k, LaSOT, ...).

    Args:
        variant: ``EDCF`` (default), ``SiamFC``, ``EDSiam``, ``CACFNet`` or ``CACFNet+``.
        weights, device, config (TrackerConfig or YAML path), overrides: as :func:`build_tracker`.
        name: the name results are stored under (default: the variant).
        one_based: boxes in and out are 1-based (got10k/OTB default) or 0-based.
        tracker: an already built core tracker (``init(image, box)`` / ``update(image) -> (box, score)``).
    """

    def __init__(self, variant: str = "EDCF", weights: str | Path | None = None, device: str = "cpu",
                 config: TrackerConfig | str | Path | None = None, overrides: dict | None = None,
                 name: str | None = None, one_based: bool = True, tracker=None):
        if tracker is None:
            from .tracker import build_tracker
            if config is not None and not isinstance(config, TrackerConfig):
                config = TrackerConfig.from_yaml(config)
            tracker = build_tracker(variant=variant, weights=weights, device=device, config=config,
                                    overrides=overrides)
        super().__init__(name=name or getattr(tracker, "variant", variant), is_deterministic=True)
        self.tracker = tracker
        self.one_based = one_based
        self.last_score = float("nan")

    def init(self, image, box) -> None:
        b = np.asarray(box, dtype=np.float64).reshape(-1)
        self.tracker.init(pil_to_bgr(image), from_one_based(b) if self.one_based else b)

    def update(self, image) -> np.ndarray:
        box, score = self.tracker.update(pil_to_bgr(image))
        self.last_score = float(score)
        box = np.asarray(box, dtype=np.float64)
        return to_one_based(box) if self.one_based else box
