"""Teacher-forced check of a peak calibration for the resampled CF scales (single pass, session 7).

The fp32 reference tracker runs; at every frame the single-pass responses are computed from the same state:
resampled CF scales (``sp``), the same with the smaller and larger scales' CF responses multiplied by k0, k2 (``sp_k<k0>_<k2>``), and the
side scales from their own crops (``crops``, what ``balanced`` does). Each decision (best scale, displacement) is
compared with the reference's; the ratio of the resampled to the cropped side-scale CF peaks is recorded.
python docs/benchmarks/s7/calib.py ../shared/data/sequences train edcf_plugin/models/edcf_default.pth out.json"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

from edcf_plugin.sequences import list_split, load_sequence
from edcf_plugin.tracker import EDCFTracker

torch.set_num_threads(2)
root = Path(sys.argv[1]); split = sys.argv[2]; weights = sys.argv[3]; out = sys.argv[4]
names = sys.argv[5].split(",") if len(sys.argv) > 5 else None
tr = EDCFTracker(variant="EDCF", weights=weights, device="cpu")
rec = []
orig_crops = EDCFTracker._responses_crops
KS = [(a, b) for a in (0.97, 0.98, 0.99, 1.0) for b in (1.0, 1.005, 1.01)]   # (smaller, larger scale)


def decide(self, f, g):
    hf, wf = g.shape[-2:]
    picks, _, _ = self._fusion_tensors(f, g, hf, wf)
    best, idx = int(picks[0]), int(picks[1])
    iy, ix = divmod(idx, wf)
    return best, np.array([ix - wf // 2, iy - hf // 2]) * self._scales.numpy()[best]


def patched(self, image, cx, cy, sides):
    f_r, g_r = orig_crops(self, image, cx, cy, sides)
    c = self.config
    w, h = self.size
    x_side = float(sides[len(sides) // 2])
    self.config = c.replace(single_pass=True)
    f_s, g_s, _ = self._responses_single_pass(image, cx, cy, x_side, w, h)
    self.config = c.replace(single_pass=True, single_pass_cf_scales="crops")
    g_c = self._responses_single_pass(image, cx, cy, x_side, w, h)[1]
    self.config = c
    mid = c.scale_num // 2
    ref_best, ref_d = decide(self, f_r, g_r)
    pk_s, pk_c = g_s.amax(dim=(1, 2)), g_c.amax(dim=(1, 2))
    row = {"ref_best": ref_best, "ratio": (pk_s / pk_c).tolist(), "pk_c": pk_c.tolist()}
    pairs = {"sp": (f_s, g_s), "crops": (f_s, g_c)}
    for k in KS:
        mult = torch.ones((g_s.shape[0], 1, 1), dtype=g_s.dtype)
        mult[:mid], mult[mid + 1:] = k[0], k[1]
        pairs[f"sp_k{k[0]}_{k[1]}"] = (f_s, g_s * mult)
    for name, (f, g) in pairs.items():
        b, d = decide(self, f, g)
        row[name] = [b, float(np.hypot(*(d - ref_d)))]
    rec.append(row)
    return f_r, g_r


EDCFTracker._responses_crops = patched
folders = list_split(root, split)
if names:
    folders = [f for f in folders if Path(f).name in names]
kinds = ["sp", "crops"] + [f"sp_k{k[0]}_{k[1]}" for k in KS]
for folder in folders:
    seq = load_sequence(folder)
    start = len(rec)
    for i, img in enumerate(seq.images()):
        if i == 0:
            ref_cfg = tr.config
            tr.config = ref_cfg.replace(single_pass=True)      # init also cuts the per-scale exemplars
            tr.init(img, seq.groundtruth[0])
            tr.config = ref_cfg
        else:
            tr.update(img)
    rows = rec[start:]
    for r in rows:
        r["seq"] = seq.name
    ratio = np.array([r["ratio"] for r in rows])
    print(seq.name, len(rows), "median side peak ratio resampled/crop:",
          " ".join(f"{v:.4f}" for v in np.median(ratio, axis=0)),
          " | ".join(f"{k}: {np.mean([r[k][0] == r['ref_best'] for r in rows]):.3f}" for k in kinds), flush=True)
ratio = np.array([r["ratio"] for r in rec])
print("ALL", len(rec), "median ratio", " ".join(f"{v:.4f}" for v in np.median(ratio, axis=0)),
      " | ".join(f"{k}: {np.mean([r[k][0] == r['ref_best'] for r in rec]):.3f} disp {np.mean([r[k][1] for r in rec]):.3f}"
                 for k in kinds), flush=True)
json.dump(rec, open(out, "w"))
