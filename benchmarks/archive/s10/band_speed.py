"""Per-frame time, stage profile and accuracy of a preset at several cf_band values (train split, interleaved rounds).
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 python benchmarks/archive/s10/band_speed.py ROOT PRESET FRAMES BAND [BAND ...]"""
import sys, time
import numpy as np
import torch
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import load_sequence, list_split
from edcf_plugin.config import preset
from edcf_plugin import metrics

torch.set_num_threads(2)
root, pname, nfr = sys.argv[1], sys.argv[2], int(sys.argv[3])
bands = [float(b) for b in sys.argv[4:]]
names = [p.name for p in list_split(root, "train")]
seqs = {n: load_sequence(f"{root}/{n}") for n in names}
frames = {n: [im for i, im in zip(range(nfr or 10**9), s.images())] for n, s in seqs.items()}
res = {b: {"sec": 0.0, "n": 0, "auc": {}, "prof": {}, "boxes": {}} for b in bands}
for rnd in range(2):
    for b in bands:
        r = res[b]
        for n in names:
            t = EDCFTracker(variant="EDCF", device="cpu", overrides={**preset(pname), "cf_band": b})
            gt = seqs[n].groundtruth[:len(frames[n])]
            t.init(frames[n][0], gt[0])
            t.profile = {} if rnd == 1 else None
            boxes = [list(gt[0])]
            s = time.perf_counter()
            for im in frames[n][1:]:
                boxes.append(list(t.update(im)[0]))
            if rnd == 0:
                r["sec"] += time.perf_counter() - s
                r["n"] += len(frames[n]) - 1
            else:
                for k, v in t.profile.items():
                    r["prof"][k] = r["prof"].get(k, 0.0) + v
            r["auc"][n] = 100 * float(np.mean(metrics.success_curve(np.array(boxes), np.array(gt))))
            r["boxes"][n] = np.array(boxes)
b0 = bands[0]
for b, r in res.items():
    prof = " ".join(f"{k}={v / r['n'] * 1e3:.2f}" for k, v in sorted(r["prof"].items()))
    dev = max(float(np.abs(r["boxes"][n] - res[b0]["boxes"][n]).max()) for n in names)
    print(f"band={b:g} {r['sec'] / r['n'] * 1e3:.2f} ms/frame mean AUC {np.mean(list(r['auc'].values())):.2f} "
          f"max box diff vs band={b0:g}: {dev:.3f} px | {prof}")
    print("   ", " ".join(f"{n}:{a:.1f}" for n, a in r["auc"].items()))
