"""Per-frame time of realtime-preset options and of the CF-update pieces on one sequence (2 threads, 120 frames):
python benchmarks/archive/s5/prof.py ../shared/data/sequences/uav10_boat1"""
import torch, time, sys, numpy as np
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import load_sequence
from edcf_plugin.config import preset
from edcf_plugin import cf
torch.set_num_threads(2)
seq = load_sequence(sys.argv[1])
frames = [im for i, im in zip(range(120), seq.images())]
orig_solve = cf._solve_dual_no_grad
for name, extra in [("balanced", {}), ("balanced-double", {"cf_solve_precision": "double"}), ("resample-single", {"single_pass_cf_scales": "resample"})]:
    t = EDCFTracker(variant="EDCF", device="cpu", overrides={**preset("balanced"), **extra})
    tim = {}
    def wrap(obj, attr, f):
        def g(*a, **k):
            s = time.perf_counter(); r = f(*a, **k); tim[attr] = tim.get(attr, 0) + time.perf_counter() - s; return r
        setattr(obj, attr, g)
    for a in ["_cf_from_detection", "_solve_cf", "_solve_prepared", "_cf_window", "_learn_cf"]:
        wrap(t, a, getattr(t, a))
    wrap(cf, "_solve_dual_no_grad", orig_solve)
    t.profile = {}
    t.init(frames[0], seq.groundtruth[0]); tim.clear(); t.profile.clear()
    s = time.perf_counter()
    for im in frames[1:]: t.update(im)
    n = len(frames) - 1
    print(name, f"{(time.perf_counter()-s)/n*1e3:.1f} ms/frame", {k: round(v / n * 1e3, 2) for k, v in tim.items()}, {k: round(v / n * 1e3, 2) for k, v in t.profile.items()}, "recrops", getattr(t, "recrops", 0), flush=True)
