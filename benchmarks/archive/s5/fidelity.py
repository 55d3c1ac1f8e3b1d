"""Teacher-forced fidelity of single-pass approximations: run the fp32 reference tracker; at every frame also
compute the single-pass responses from the same state and compare the decisions (best scale, displacement):
python benchmarks/archive/s5/fidelity.py ../shared/data/sequences train edcf_plugin/models/edcf_default.pth out.json

Decisions compared (f = semantic, g = CF responses): sp (single pass, resampled CF scales), cfexact (reference g),
semexact (reference f: isolates the resampled CF scales), bicubic / bicubic_semexact (bicubic resampling), and
crops_semexact (the other CF scales from their own crops, ``single_pass_cf_scales=crops``, reference f), crops
(the same with the single-pass f: what ``balanced`` decides), and sp_k<k0>_<k2> (session 7: the smaller and larger
scales' resampled CF responses multiplied by k0, k2, a peak calibration; the per-sequence median ratio of the
resampled to the cropped side-scale CF peaks is printed too). The truncated side crops of session 5 (``side_crop_fraction``) were measured by a variant of this script on a tree
that had that option; it was removed with the option (figures: ``fid2_train_all.log``)."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edcf_plugin.sequences import list_split, load_sequence
from edcf_plugin.tracker import FINE_STRIDE, EDCFTracker

torch.set_num_threads(2)
root = Path(sys.argv[1]); split = sys.argv[2]; weights = sys.argv[3]; out = sys.argv[4]
names = sys.argv[5].split(",") if len(sys.argv) > 5 else None
tr = EDCFTracker(variant="EDCF", weights=weights, device="cpu")
rec = []
orig_crops = EDCFTracker._responses_crops
CALIB = [(a, b) for a in (0.97, 0.98, 0.99, 1.0) for b in (1.0, 1.005, 1.01)]   # (smaller, larger scale)
KINDS = ("sp", "cfexact", "semexact", "bicubic", "bicubic_semexact", "crops_semexact", "crops") + \
    tuple(f"sp_k{a}_{b}" for a, b in CALIB)


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
    f_s, g_s, (fine_big, _) = self._responses_single_pass(image, cx, cy, x_side, w, h)
    self.config = c.replace(single_pass=True, single_pass_cf_scales="crops")
    g_c = self._responses_single_pass(image, cx, cy, x_side, w, h)[1]
    self.config = c
    n = (c.search_size - 11) // FINE_STRIDE + 1
    grid = self._scaled_grid(fine_big.shape[-2], fine_big.shape[-1], n)
    with torch.inference_mode():
        fb = F.grid_sample(fine_big.expand(grid.shape[0], -1, -1, -1), grid, mode="bicubic", padding_mode="zeros",
                           align_corners=True)
        g_b = self._cf_detect(fb)
    cells = c.search_size / x_side / FINE_STRIDE
    ref_best, ref_d = decide(self, f_r, g_r)
    row = {"ref_best": ref_best, "size": float(math.sqrt(w * h) * cells),
           "gpk_ref": g_r.amax(dim=(1, 2)).tolist(), "gpk_sp": g_s.amax(dim=(1, 2)).tolist(),
           "gpk_bic": g_b.amax(dim=(1, 2)).tolist(),
           "fpk_ref": f_r.amax(dim=(1, 2, 3)).tolist(), "fpk_sp": f_s.amax(dim=(1, 2, 3)).tolist()}
    row["ratio"] = (g_s.amax(dim=(1, 2)) / g_c.amax(dim=(1, 2))).tolist()
    pairs = {"sp": (f_s, g_s), "cfexact": (f_s, g_r), "semexact": (f_r, g_s), "bicubic": (f_s, g_b),
             "bicubic_semexact": (f_r, g_b), "crops_semexact": (f_r, g_c), "crops": (f_s, g_c)}
    mid = c.scale_num // 2
    for a, b in CALIB:
        mult = torch.ones((g_s.shape[0], 1, 1), dtype=g_s.dtype)
        mult[:mid], mult[mid + 1:] = a, b
        pairs[f"sp_k{a}_{b}"] = (f_s, g_s * mult)
    for name, (f, g) in pairs.items():
        b, d = decide(self, f, g)
        row[name] = [b, float(np.hypot(*(d - ref_d)))]
    rec.append(row)
    return f_r, g_r


EDCFTracker._responses_crops = patched
folders = list_split(root, split)
if names:
    folders = [f for f in folders if Path(f).name in names]
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
    summ = {k: (np.mean([r[k][0] == r["ref_best"] for r in rows]), np.mean([r[k][1] for r in rows])) for k in KINDS}
    ratio = np.median([r["ratio"] for r in rows], axis=0)
    print(seq.name, len(rows), "median side peak ratio resampled/crop:", " ".join(f"{v:.4f}" for v in ratio),
          " ".join(f"{k}: scale-agree {a:.3f} disp {d:.3f}" for k, (a, d) in summ.items()), flush=True)
print("ALL", len(rec), "median side peak ratio resampled/crop:",
      " ".join(f"{v:.4f}" for v in np.median([r["ratio"] for r in rec], axis=0)),
      " ".join(f"{k}: scale-agree {np.mean([r[k][0] == r['ref_best'] for r in rec]):.3f}" for k in KINDS), flush=True)
json.dump(rec, open(out, "w"))
