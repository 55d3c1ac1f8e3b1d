"""GPU speed of the EDCF tracker at batch 1 (issue 6, item 3): tracker frames per second (update calls only,
frames pre-decoded, the box read back to the host every frame) for each preset x crop backend x CUDA solve, as
the median of ``--runs`` passes over the given OTB-style sequence folders, with the mean OTB AUC and the largest
box difference against the reference configuration of the same preset.

    python benchmarks/archive/gpu/gpu_speed.py carry/seqs/* --device cuda --runs 3 --out OUT.json
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from edcf_plugin import cf
from edcf_plugin.config import preset
from edcf_plugin.metrics import mean_ope_scores, ope_scores
from edcf_plugin.sequences import load_sequence, read_image
from edcf_plugin.tracker import build_tracker


def track(tracker, frames, box0):
    """Returns boxes, total update seconds, update count and the per-update seconds."""
    boxes, secs = [np.asarray(box0, dtype=float)], []
    tracker.init(frames[0], box0)
    for f in frames[1:]:
        t0 = time.perf_counter()
        b, _ = tracker.update(f)
        secs.append(time.perf_counter() - t0)
        boxes.append(np.asarray(b, dtype=float))
    return np.stack(boxes), float(np.sum(secs)), len(secs), secs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sequences", nargs="+")
    p.add_argument("--device", default="cuda")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--presets", default="reference,realtime,fast")
    p.add_argument("--configs", default="opencv/elimination,torch/elimination,torch/batched",
                   help="crop_backend/CUDA solve[/graphs|/nographs] (the last overrides the preset's cuda_graphs); "
                        "the first is each preset's reference for box differences")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    seqs = []
    for folder in args.sequences:
        s = load_sequence(folder)
        seqs.append((s.name, [read_image(f) for f in s.frames], s.groundtruth))
    rows, ref_boxes = [], {}
    info = {"device": args.device, "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "frames": sum(len(f) for _, f, _ in seqs), "sequences": [n for n, _, _ in seqs]}
    for pr in args.presets.split(","):
        for conf in args.configs.split(","):
            backend, solve, *graphs = conf.split("/")
            cf.CUDA_SOLVE = solve
            overrides = {**preset(pr), "crop_backend": backend}
            if graphs:
                overrides["cuda_graphs"] = graphs[0] == "graphs"
            tracker = build_tracker("EDCF", None, args.device, overrides=overrides)
            tracker.warmup()
            fps, scores, boxes_all, steady, firsts = [], None, {}, [], []
            for _ in range(args.runs):
                total_s = total_n = 0
                per = []
                each = []
                for name, frames, gt in seqs:
                    boxes, secs, n, times = track(tracker, frames, gt[0])
                    total_s += secs
                    total_n += n
                    each += times[1:]
                    firsts.append(times[0])
                    boxes_all[name] = boxes
                    per.append(ope_scores(boxes, gt[:len(boxes)]))
                fps.append(total_n / total_s)
                steady.append(1.0 / float(np.median(each)))
                scores = mean_ope_scores(per).as_percent()
            key = pr
            if key not in ref_boxes:
                ref_boxes[key] = boxes_all
            diff = max(float(np.abs(boxes_all[n] - ref_boxes[key][n]).max()) for n in boxes_all)
            row = {"preset": pr, "crop_backend": backend, "cuda_solve": solve,
                   "cuda_graphs": tracker.config.cuda_graphs, "graph_status": tracker.graph_status,
                   "steady_fps_median": float(np.median(steady)),
                   "first_update_ms_median": 1e3 * float(np.median(firsts)),
                   "fps_median": float(np.median(fps)),
                   "fps_runs": fps, "auc": scores["auc"], "op50": scores["op50"], "dp20": scores["dp20"],
                   "max_box_diff_px": diff}
            rows.append(row)
            runs = ", ".join(f"{v:.1f}" for v in fps)
            print(f"{pr:8s} {conf:26s} {row['fps_median']:6.1f} FPS (runs {runs}); "
                  f"steady {row['steady_fps_median']:6.1f} FPS; first update {row['first_update_ms_median']:.0f} ms; "
                  f"AUC {row['auc']:.1f}; max box diff {diff:.2f} px; graphs {tracker.graph_status}", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({**info, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
