"""Make the compact training set carried to a lent GPU machine (its checkout may carry at most 64 MiB, and
``../shared`` stays behind): every ``--step``-th frame of each ``train``-split sequence (JPEGs copied unchanged,
ground-truth lines kept for those frames), the held-out validation sequences whole, and an ``index.json``
listing them all as ``train``. ``bench`` sequences are never copied.

    python benchmarks/archive/gpu/compact_train.py --root ../shared/data/sequences --out carry/train3 --step 3 \
        --whole dtb70_Surfing06,uav10_wakeboard10
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from edcf_plugin.sequences import load_sequence


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--step", type=int, default=3)
    p.add_argument("--whole", default="", help="comma-separated sequences copied with every frame (validation)")
    args = p.parse_args()
    root, out = Path(args.root), Path(args.out)
    whole = {s for s in args.whole.split(",") if s}
    entries = [e for e in json.loads((root / "index.json").read_text()) if e.get("split") == "train"]
    index = []
    for e in entries:
        seq = load_sequence(root / e["name"])
        step = 1 if e["name"] in whole else args.step
        keep = list(range(0, len(seq.frames), step))
        dst = out / e["name"] / "img"
        dst.mkdir(parents=True, exist_ok=True)
        for i in keep:
            shutil.copyfile(seq.frames[i], dst / Path(seq.frames[i]).name)
        lines = (root / e["name"] / "groundtruth_rect.txt").read_text().splitlines()
        (out / e["name"] / "groundtruth_rect.txt").write_text("\n".join(lines[i] for i in keep) + "\n")
        index.append({**e, "frames": len(keep), "frame_step": step})
        print(f"{e['name']}: {len(keep)} of {len(seq.frames)} frames")
    (out / "index.json").write_text(json.dumps(index, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
