"""Teacher-forced scale-decision agreement of single-pass CF scale options with the fp32 reference tracker:
python docs/benchmarks/s5/fid2.py ../shared/data/sequences train edcf_plugin/models/edcf_default.pth

Run (session 5, 20:17-20:29 UTC) on a working tree that had a ``side_crop_fraction`` option (side crops covering
the centre of the search area only); it was removed after this measurement, so the crops0.x candidates need that
tree; "resample" and "crops1.0" run on the current code."""
import json, sys, math
from pathlib import Path
import numpy as np
import torch
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import list_split, load_sequence

torch.set_num_threads(2)
root = Path(sys.argv[1]); split = sys.argv[2]; weights = sys.argv[3]
tr = EDCFTracker(variant="EDCF", weights=weights, device="cpu")
orig_crops = EDCFTracker._responses_crops
CANDS = {"resample": {"single_pass_cf_scales": "resample"},
         "crops1.0": {"single_pass_cf_scales": "crops"},
         "crops0.75": {"single_pass_cf_scales": "crops", "side_crop_fraction": 0.75},
         "crops0.6": {"single_pass_cf_scales": "crops", "side_crop_fraction": 0.6},
         "crops0.5": {"single_pass_cf_scales": "crops", "side_crop_fraction": 0.5}}
agree = {k: [] for k in CANDS}

def decide(self, f, g):
    hf, wf = g.shape[-2:]
    picks, _, _ = self._fusion_tensors(f, g, hf, wf)
    best, idx = int(picks[0]), int(picks[1])
    return best, idx

def patched(self, image, cx, cy, sides):
    f_r, g_r = orig_crops(self, image, cx, cy, sides)
    ref = decide(self, f_r, g_r)
    w, h = self.size
    x_side = float(sides[len(sides) // 2])
    base = self.config
    for k, ov in CANDS.items():
        self.config = base.replace(single_pass=True, **ov)
        self._frame_save = self._frame
        _, g_s, _ = self._responses_single_pass(image, cx, cy, x_side, w, h)
        self.config = base
        b, idx = decide(self, f_r, g_s)          # reference semantic responses: isolate the CF scales
        agree[k].append((b == ref[0], idx == ref[1]))
    return f_r, g_r

EDCFTracker._responses_crops = patched
for folder in list_split(root, split):
    seq = load_sequence(folder)
    for i, img in enumerate(seq.images()):
        if i == 0:
            base = tr.config
            tr.config = base.replace(single_pass=True)
            tr.init(img, seq.groundtruth[0])
            tr.config = base
        else:
            tr.update(img)
    print(seq.name, " ".join(f"{k}: scale {np.mean([a for a, _ in v]):.3f} peak {np.mean([b for _, b in v]):.3f}" for k, v in agree.items()), flush=True)
print("ALL", " ".join(f"{k}: scale {np.mean([a for a, _ in v]):.3f} peak {np.mean([b for _, b in v]):.3f}" for k, v in agree.items()), flush=True)
