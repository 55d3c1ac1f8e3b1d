"""Which encoder width to train from ImageNet: the semantic branch alone (SiamFC tracking) with the untrained,
ImageNet-initialised encoder at several widths (pruned to the most used channels, imagenet_init.select_channels),
on the held-out validation videos of the train split. Speed is measured separately (edcf track --preset).

    python benchmarks/imagenet_width.py --init-path lpips_alex_v0.1.pt --root ../shared/data/sequences \
        --corpus ../shared/data/corpus --widths 1.0 0.75 0.5
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from edcf_plugin.config import TrackerConfig
from edcf_plugin.formats.metrics import ope_scores
from edcf_plugin.networks import EDCFNet, NetConfig
from edcf_plugin.formats.sequences import load_sequence, read_image
from edcf_plugin.tracking.tracker import EDCFTracker
from edcf_plugin.training.datasets import OTBFolders
from edcf_plugin.training.imagenet_init import find_alexnet_trunk, init_encoder_from_alexnet
from edcf_plugin.training.processing import PairProcessing
from edcf_plugin.training.sampler import PairDataset

VALIDATION = ["Bolt", "dtb70_Animal3", "dtb70_Surfing06", "uav10_wakeboard10"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--init-path")
    p.add_argument("--root", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--widths", type=float, nargs="+", default=[1.0, 0.75, 0.5])
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    trunk, prov = find_alexnet_trunk(args.init_path)
    pairs = PairDataset([OTBFolders(args.corpus, exclude=VALIDATION)], PairProcessing(), 32, seed=7920)
    items = [pairs[i] for i in range(32)]
    search = torch.stack([it["search"] for it in items]).float()
    exemplar = torch.stack([it["exemplar"] for it in items]).float()
    seqs = []
    for name in VALIDATION:
        seq = load_sequence(f"{args.root}/{name}")
        seqs.append((name, [read_image(f) for f in seq.frames], seq.groundtruth))
    rows = []
    for width in args.widths:
        net = EDCFNet(NetConfig(trunk="alexnet", width=width))
        init_encoder_from_alexnet(net, trunk, search, exemplar)
        net.eval()
        trk = EDCFTracker(config=TrackerConfig(variant="SiamFC"), net=net)
        aucs, t0, n = {}, time.perf_counter(), 0
        for name, frames, gt in seqs:
            trk.init(frames[0], gt[0])
            boxes = [gt[0]] + [trk.update(f)[0] for f in frames[1:]]
            n += len(frames) - 1
            aucs[name] = round(100 * ope_scores(np.asarray(boxes), gt).auc, 2)
        row = {"width": width, "channels": net.config.channels(), "semantic_auc_mean": round(float(np.mean(
            list(aucs.values()))), 2), "per_sequence": aucs, "fps": round(n / (time.perf_counter() - t0), 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({"init": prov, "rows": rows}))


if __name__ == "__main__":
    main()
