"""A/B of the CF tracking solve inside the realtime tracker: the same frames, the bundled model, 2 threads,
alternating old (eb87f66) and new (HEAD) _solve_dual_no_grad; per-frame cf_update stage time and total."""
import subprocess, sys, time, statistics, torch
from pathlib import Path
from edcf_plugin import cf
from edcf_plugin.tracker import build_tracker
from edcf_plugin.config import preset
from edcf_plugin.sequences import load_sequence, read_image
torch.set_num_threads(2)
src = subprocess.run(["git", "show", "eb87f66:edcf_plugin/cf.py"], capture_output=True, text=True).stdout
ns = {}; exec(compile(src, "old_cf", "exec"), ns)
new_solve, old_solve = cf._solve_dual_no_grad, ns["_solve_dual_no_grad"]
root = Path(sys.argv[1])
seqs = []
for name in sys.argv[2].split(","):
    s = load_sequence(root / name)
    n = int(sys.argv[3])
    seqs.append(([read_image(f) for f in s.frames[:n]], s.groundtruth[0]))
res = {"old": [], "new": []}
for rep in range(int(sys.argv[4])):
    for label, fn in (("old", old_solve), ("new", new_solve)) if rep % 2 == 0 else (("new", new_solve), ("old", old_solve)):
        cf._solve_dual_no_grad = fn
        trk = build_tracker("EDCF", device="cpu", overrides=preset("realtime"))
        tot = {"cf_update": 0.0}; frames = 0; t_all = 0.0
        for frames_list, gt in seqs:
            trk.init(frames_list[0], gt)
            trk.profile = {}
            t0 = time.perf_counter()
            for img in frames_list[1:]:
                trk.update(img)
            t_all += time.perf_counter() - t0
            tot["cf_update"] += trk.profile.get("cf_update", 0.0)
            frames += len(frames_list) - 1
        res[label].append((1e3 * tot["cf_update"] / frames, 1e3 * t_all / frames))
        print(label, f"cf_update {res[label][-1][0]:.2f} ms/frame, total {res[label][-1][1]:.2f} ms/frame", flush=True)
for k, v in res.items():
    print(k, "median cf_update", round(statistics.median(x[0] for x in v), 2), "median total", round(statistics.median(x[1] for x in v), 2))
