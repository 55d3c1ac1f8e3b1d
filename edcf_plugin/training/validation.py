"""Validation during training: run the real tracker (``EDCFTracker(net=...)``) on held-out *train-split*
sequences and report OTB AUC / OP@0.5 / DP@20 (percent). Never used on the ``bench`` split."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..config import TrackerConfig
from ..errors import ConfigError
from ..formats.metrics import mean_ope_scores, ope_scores
from ..networks import EDCFNet
from ..formats.sequences import load_sequence, read_image
from ..run import one_pass
from ..tracking.tracker import EDCFTracker


def check_validation_split(root: str | Path, names: list[str]) -> None:
    """Refuse validation sequences outside the ``train`` split (choosing on ``bench`` would leak it)."""
    index = Path(root) / "index.json"
    if not index.is_file():
        return
    split = {e["name"]: e.get("split") for e in json.loads(index.read_text())}
    for n in names:
        if n not in split:
            raise ConfigError(f"validation sequence {n!r} is not listed in {index}")
        if split[n] != "train":
            raise ConfigError(f"validation sequence {n!r} is in split {split[n]!r}; validate on 'train' "
                              f"sequences held out from training only")


class Validator:
    """Loads the sequences once (frames in memory) and tracks them with the current network."""

    def __init__(self, root: str | Path, names: list[str], variant: str, max_frames: int = 0,
                 tracker_overrides: dict | None = None, branches: bool = False):
        check_validation_split(root, names)
        self.variant = variant
        self.config = TrackerConfig.from_dict(dict(tracker_overrides or {}), variant=variant)
        # (key prefix, tracker config): the variant itself, then with ``branches`` each branch of EDCF alone
        self.configs = [("val", self.config)]
        if branches:
            self.configs += [("val/semantic", self.config.replace(variant="SiamFC")),
                             ("val/cf", self.config.replace(variant="CACFNet+"))]
        self.sequences = []
        for n in names:
            seq = load_sequence(Path(root) / n)
            frames = seq.frames[:max_frames] if max_frames else seq.frames
            self.sequences.append((n, [read_image(f) for f in frames], seq.groundtruth[:len(frames)]))

    def run(self, net: EDCFNet, device: torch.device) -> dict[str, float]:
        """``val/auc``, ``val/op50``, ``val/dp20`` and ``val/<sequence>/auc`` (percent) of the variant's tracker;
        with branches the same under ``val/semantic/`` and ``val/cf/``, and ``val/mean_auc``."""
        was_training = net.training
        out = {}
        try:
            for prefix, config in self.configs:
                per_seq = []
                tracker = EDCFTracker(config=config, device=device, net=net)
                for name, frames, gt in self.sequences:
                    s = ope_scores(one_pass(tracker, frames, gt[0]).boxes, gt)
                    per_seq.append(s)
                    out[f"{prefix}/{name}/auc"] = 100.0 * s.auc
                m = mean_ope_scores(per_seq).as_percent()
                out.update({f"{prefix}/auc": m["auc"], f"{prefix}/op50": m["op50"], f"{prefix}/dp20": m["dp20"]})
        finally:
            net.train(was_training)
        if len(self.configs) > 1:
            out["val/mean_auc"] = float(np.mean([out[f"{prefix}/auc"] for prefix, _ in self.configs]))
        return out
