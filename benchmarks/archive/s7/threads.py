"""Per-frame time and stages of the fast and realtime presets on one sequence (150 frames) with N torch threads:
python benchmarks/archive/s7/threads.py ../shared/data/sequences/uav10_boat1 N"""
import torch, time, sys
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import load_sequence
from edcf_plugin.config import preset
torch.set_num_threads(int(sys.argv[2]))
seq = load_sequence(sys.argv[1])
frames = [im for i, im in zip(range(150), seq.images())]
for name in ["fast", "realtime"]:
    t = EDCFTracker(variant="EDCF", device="cpu", overrides=preset(name))
    t.profile = {}
    t.init(frames[0], seq.groundtruth[0]); t.profile.clear()
    s = time.perf_counter()
    for im in frames[1:]: t.update(im)
    n = len(frames) - 1
    print(sys.argv[2], name, f"{(time.perf_counter()-s)/n*1e3:.1f} ms/frame", {k: round(v / n * 1e3, 2) for k, v in t.profile.items()}, flush=True)
