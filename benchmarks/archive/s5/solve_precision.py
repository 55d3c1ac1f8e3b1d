"""Single- against double-precision tracking CF solve (session 5, BENCHMARKS.md 1a).

1. Isolated time of ``cf._solve_dual_no_grad`` on one random 1 x 5 x 8 x 128 x 65 spectrum, median of 200 calls,
   2 threads, precision "double" and "single".
2. Relative difference of the filters the two precisions give on the realtime tracker's own CF solves (first 120
   frames of four train-split sequences; the tracker keeps the double-precision filter).

python benchmarks/archive/s5/solve_precision.py ../shared/data/sequences
"""
import statistics
import sys
import time

import numpy as np
import torch

from edcf_plugin import cf
from edcf_plugin.config import preset
from edcf_plugin.sequences import load_sequence
from edcf_plugin.tracker import EDCFTracker

torch.set_num_threads(2)
a = torch.randn(1, 5, 8, 128, 65, dtype=torch.complex64)
yf = torch.randn(1, 128, 65, dtype=torch.complex64)
for prec in ("double", "single"):
    for _ in range(5):
        cf._solve_dual_no_grad(a, yf, 1e-2, True, prec)
    ts = []
    for _ in range(200):
        t0 = time.perf_counter()
        cf._solve_dual_no_grad(a, yf, 1e-2, True, prec)
        ts.append(time.perf_counter() - t0)
    print(f"{prec}: {statistics.median(ts) * 1e3:.2f} ms")

orig = cf._solve_dual_no_grad
errs = []


def both(a, yf, lam, fallback=True, precision="double"):
    w2 = orig(a, yf, lam, fallback, "double")
    w1 = orig(a, yf, lam, fallback, "single")
    errs.append(float((w1.to(w2.dtype) - w2).abs().norm() / w2.abs().norm()))
    return w2


cf._solve_dual_no_grad = both
for name in ["Basketball", "uav10_boat1", "dtb70_Animal3", "Bolt"]:
    seq = load_sequence(f"{sys.argv[1]}/{name}")
    t = EDCFTracker(variant="EDCF", device="cpu", overrides=preset("realtime"))
    for i, img in zip(range(121), seq.images()):
        t.init(img, seq.groundtruth[0]) if i == 0 else t.update(img)
    print(f"{name}: relative filter difference median {np.median(errs):.2e}, max {np.max(errs):.2e}")
    errs.clear()
