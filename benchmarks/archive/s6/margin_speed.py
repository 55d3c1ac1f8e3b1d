"""Per-frame time and re-crops of the fast preset at single_pass_margin 4 / 6 / 8 (6 train sequences x 150 frames,
2 threads, two interleaved rounds; session 6, 23:0x UTC, commit 4ad1b84):
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 python benchmarks/archive/s6/margin_speed.py ../shared/data/sequences"""
import torch, time, sys, json
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import load_sequence
from edcf_plugin.config import preset
torch.set_num_threads(2)
names = ["Basketball", "Bolt", "uav10_group2_2", "uav10_wakeboard3", "dtb70_Animal3", "uav10_truck4_2"]
seqs = {n: load_sequence(f"{sys.argv[1]}/{n}") for n in names}
frames = {n: [im for i, im in zip(range(150), s.images())] for n, s in seqs.items()}
cfgs = {"m4": {}, "m6": {"single_pass_margin": 6}, "m8": {"single_pass_margin": 8}}
tot = {k: [0.0, 0, 0] for k in cfgs}
for rnd in range(2):
    for k, ov in cfgs.items():
        for n in names:
            t = EDCFTracker(variant="EDCF", device="cpu", overrides={**preset("fast"), **ov})
            t.init(frames[n][0], seqs[n].groundtruth[0])
            s = time.perf_counter()
            for im in frames[n][1:]: t.update(im)
            tot[k][0] += time.perf_counter() - s; tot[k][1] += len(frames[n]) - 1; tot[k][2] += getattr(t, "recrops", 0)
for k, (sec, n, r) in tot.items():
    print(k, f"{sec / n * 1e3:.2f} ms/frame", "recrops/frame", f"{r / n:.3f}")
