"""The boxes of every preset and variant (CPU, one thread, the bundled models: each variant with its own shipped
weights), first recorded before the restructuring of issue 20, recorded again when the bundled models were
replaced, when the motion prior was centred and when ``cf_weight`` became 0.6 (2026-12-07): a refactor must
reproduce them. Record again only for an intended change of behaviour:

    python tests/test_same_boxes.py --record

On the CPU capability they were recorded with (``torch.backends.cpu.get_cpu_capability()``) they must match to
1e-3 px; on another one (another instruction set rounds bf16 and float sums differently) to 0.5 px, which still
catches a changed algorithm.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edcf_plugin.config import preset
from edcf_plugin.formats.generated_datasets import render, trajectory
from edcf_plugin.tracking.tracker import build_tracker

FIXTURE = Path(__file__).resolve().parent / "data" / "same_boxes.json"
SHARED_SEQUENCES = Path(__file__).resolve().parents[2] / "shared" / "data" / "sequences"
TRACKERS = [("EDCF", "reference"), ("EDCF", "realtime"), ("EDCF", "balanced"), ("EDCF", "fast"),
            ("SiamFC", "reference"), ("EDSiam", "reference"), ("CACFNet", "reference"), ("CACFNet+", "reference")]
FRAMES = 30


def sequences() -> dict:
    """Two generated scenes, and the first frames of a bench sequence when ../shared is beside the checkout."""
    out = {}
    for name, seed, step in (("generated_a", 0, (1.5, 0.8)), ("generated_b", 3, (-1.0, 1.2))):
        boxes = trajectory(FRAMES, 160, 120, size=(24, 20), step=step)
        out[name] = (render(boxes, 160, 120, seed), boxes[0].astype(np.float64))
    crossing = SHARED_SEQUENCES / "Crossing"
    if crossing.is_dir():
        from edcf_plugin.formats.sequences import load_sequence, read_image

        seq = load_sequence(crossing)
        out["Crossing"] = ([read_image(f) for f in seq.frames[:FRAMES]], seq.groundtruth[0])
    return out


def track_all() -> dict:
    torch.set_num_threads(1)
    result = {}
    seqs = sequences()
    for variant, preset_name in TRACKERS:
        tracker = build_tracker(variant, None, "cpu", overrides=preset(preset_name))
        for name, (frames, box) in seqs.items():
            tracker.init(frames[0], box)
            boxes = [list(map(float, box))] + [list(map(float, tracker.update(f)[0])) for f in frames[1:]]
            result[f"{variant}/{preset_name}/{name}"] = boxes
    return result


def test_every_preset_and_variant_tracks_as_recorded():
    recorded = json.loads(FIXTURE.read_text())
    threads = torch.get_num_threads()
    try:
        now = track_all()
    finally:
        torch.set_num_threads(threads)
    same_cpu = recorded["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    tol = 1e-3 if same_cpu else 0.5
    missing = [k for k in recorded["boxes"] if k not in now and not k.endswith("/Crossing")]
    assert not missing, f"no longer tracked: {missing}"
    for key, boxes in now.items():
        if key not in recorded["boxes"]:
            pytest.fail(f"{key} is not in the fixture: record it (python tests/test_same_boxes.py --record)")
        diff = np.abs(np.asarray(boxes) - np.asarray(recorded["boxes"][key])).max()
        assert diff <= tol, (f"{key}: boxes differ by up to {diff:.4f} px from the recording "
                             f"({'same' if same_cpu else 'another'} CPU capability, tolerance {tol} px)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/test_same_boxes.py --record")
    boxes = track_all()
    if not any(k.endswith("/Crossing") for k in boxes):
        sys.exit("record with ../shared/data/sequences beside the checkout (the Crossing case)")
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({"cpu_capability": torch.backends.cpu.get_cpu_capability(),
                                   "torch": torch.__version__, "frames": FRAMES, "boxes": boxes}, indent=0))
    print(f"wrote {FIXTURE}: {len(boxes)} runs")
