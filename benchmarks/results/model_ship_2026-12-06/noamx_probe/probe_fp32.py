import sys, time, json, numpy as np, torch
from pathlib import Path
from edcf_plugin.run import TrackerSpec, one_pass
from edcf_plugin.formats.sequences import read_image, parse_box_lines
root = Path("../shared/data/sequences")
def frames(name, n):
    d = root / name
    imgs = sorted((d / "img").glob("*.jpg"))[:n]
    return [read_image(p) for p in imgs], parse_box_lines((d / "groundtruth_rect.txt").read_text())[0]
seqs = [frames(n, 150) for n in ["Basketball", "uav10_boat1"]]
variants = {"realtime": {}, "realtime_fp32": {"half_precision": False, "cf_half_precision": False}}
for rep in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    for name, ov in variants.items():
        tr = TrackerSpec(preset="realtime", overrides=ov, threads=2).build()
        secs = []
        for fr, box in seqs:
            r = one_pass(tr, fr, box)
            secs += r.seconds[1:]
        print(name, "median ms/frame %.1f" % (1000 * np.median(secs)), "fps %.1f" % (1 / np.median(secs)), flush=True)
