"""Paired AUC differences between trackers of two `edcf bench --init-jitter` runs made with the same jitter,
sequences and frame cap (run r of each started from the same box):

    python benchmarks/archive/s9/cross_pairs.py runs/bench/s9_jitter runs/bench/s9_variants A:B [A:B ...]

Checks first that both runs used the same starts, then prints mean, SE, min and max of AUC(A) - AUC(B) per run.
Also prints, for trackers given with --same OTHER_RUN_DIR, whether run 1 of a tracker in the first folder has the
same boxes as run 1 in OTHER_RUN_DIR (determinism of a tracker given its start)."""
import json
import sys
from pathlib import Path

import numpy as np

from edcf_plugin.bench import paired_difference


def load(folder):
    return json.loads((Path(folder) / "results.json").read_text())


args = sys.argv[1:]
same = None
if "--same" in args:
    i = args.index("--same")
    same = args[i + 1]
    del args[i:i + 2]
a_dir, b_dir, *pairs = args
ra, rb = load(a_dir), load(b_dir)
for key in ("init_jitter", "sequences", "max_frames"):
    assert ra[key] == rb[key], f"{key} differs: {ra[key]} vs {rb[key]}"
n = min(len(ra["init_offsets"]), len(rb["init_offsets"]))
assert ra["init_offsets"][:n] == rb["init_offsets"][:n], "the runs did not use the same starts"
trackers = {**{k: v for k, v in ra["trackers"].items()}, **{k: v for k, v in rb["trackers"].items()}}
print("| A − B | runs | mean Δ AUC | SE | min | max |\n|---|---|---|---|---|---|")
for p in pairs:
    a, b = p.split(":")
    d = paired_difference(trackers[a], trackers[b])
    print(f"| {a} − {b} | {d['runs']} | {d['mean']:+.2f} | {d['se']:.2f} | {d['min']:+.1f} | {d['max']:+.1f} |")
if same:
    for t in ra["trackers"]:
        other = Path(same) / "boxes" / "run1" / t
        if not other.is_dir():
            continue
        mine = Path(a_dir) / "boxes" / "run1" / t
        equal = all(np.array_equal(np.loadtxt(f, delimiter=","), np.loadtxt(other / f.name, delimiter=","))
                    for f in sorted(mine.glob("*.txt")))
        print(f"{t}: run 1 boxes {'identical to' if equal else 'DIFFER from'} {other}")
