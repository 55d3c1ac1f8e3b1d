"""CF re-solves of the fast preset that re-crop (the move leaves the enlarged crop's margin) on every train-split
sequence (session 6, 22:4x UTC, commit b2f47c7: 328 of 1,365):
python benchmarks/archive/s6/recrops.py ../shared/data/sequences"""
import json
import sys
from pathlib import Path

import torch

from edcf_plugin.config import preset
from edcf_plugin.sequences import load_sequence
from edcf_plugin.tracker import EDCFTracker

torch.set_num_threads(2)
root = Path(sys.argv[1])
total_updates = total_recrops = 0
for entry in json.loads((root / "index.json").read_text()):
    if entry["split"] != "train":
        continue
    seq = load_sequence(root / entry["name"])
    t = EDCFTracker(variant="EDCF", device="cpu", overrides=preset("fast"))
    n = 0
    for i, im in enumerate(seq.images()):
        if i == 0:
            t.init(im, seq.groundtruth[0])
        else:
            t.update(im)
            n += 1
    updates, recrops = n // t.config.cf_update_interval, getattr(t, "recrops", 0)
    total_updates += updates
    total_recrops += recrops
    print(entry["name"], n, "updates", updates, "recrops", recrops, flush=True)
print("total updates", total_updates, "recrops", total_recrops, f"{total_recrops / total_updates:.1%}")
