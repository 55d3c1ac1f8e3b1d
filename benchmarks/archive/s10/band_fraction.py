"""Fraction of the CF grid's frequencies that cf_band keeps: for Gaussian targets of a few sigmas, and for the
targets the realtime tracker actually builds on four train sequences (init + 5 frames).
python benchmarks/archive/s10/band_fraction.py ../shared/data/sequences"""
import sys

import torch

from edcf_plugin import cf
from edcf_plugin.config import preset
from edcf_plugin.sequences import load_sequence
from edcf_plugin.tracker import build_tracker

for band in (1e-6, 1e-4):
    for sigma in (2, 3, 4):
        yf = torch.fft.rfft2(cf.gaussian_target(128, 128, sigma))
        print(f"band {band:g} sigma {sigma}: {cf.band_indices(yf, band).numel() / yf.numel():.3f}")
for name in ["Basketball", "uav10_boat1", "Bolt", "dtb70_Animal3"]:
    seq = load_sequence(f"{sys.argv[1]}/{name}")
    frames = seq.images()
    trk = build_tracker("EDCF", overrides=preset("realtime"))
    trk.init(next(frames), seq.groundtruth[0])
    for _ in range(5):
        trk.update(next(frames))
    kept = [(k[3], v.numel() / (k[1] * (k[2] // 2 + 1))) for k, v in trk._cache.items() if k[0] == "band"]
    print(name, " ".join(f"sigma {s:.2f}: {f:.3f}" for s, f in kept))
