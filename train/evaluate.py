"""OTB one-pass evaluation of trained checkpoints on a split of an OTB-style folder (for training reports).

    python -m train.evaluate --root ../shared/data/sequences --split bench --device cpu \\
        --model EDCF=edcf_plugin/models/edcf_default.pth --model SiamFC=runs/siamfc/best.pth:SiamFC \\
        --out results/train_bench.json

``--model LABEL=WEIGHTS[:VARIANT]`` (VARIANT defaults to the checkpoint's). ``--preset NAME`` applies one of
``edcf_plugin.config.PRESETS`` (as ``edcf track --preset``), ``--set KEY=VALUE`` overrides after it.
``--sequences`` picks names (held-out ``train`` sequences for choosing tracker settings; ``bench`` only for final
figures). Writes per sequence and mean AUC / OP@0.5 / DP@20 (percent, sequences weighted equally) with FPS, the
tracker config, weights hash and git revision; ``overrides`` there is what changed the defaults (the preset's
settings with ``--set``'s on top), ``preset`` its name.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from edcf_plugin.checkpoint import file_sha256, git_revision, load_checkpoint
from edcf_plugin.config import TrackerConfig, preset
from edcf_plugin.errors import EDCFError
from edcf_plugin.formats.metrics import mean_ope_scores, ope_scores
from edcf_plugin.formats.sequences import list_split, load_sequence
from edcf_plugin.run import one_pass
from edcf_plugin.tracking.tracker import EDCFTracker


def evaluate(weights: str, variant: str | None, sequences: list[Path], device: str,
             overrides: dict | None = None, progress: bool = True) -> dict:
    ckpt = load_checkpoint(weights)
    variant = variant or ckpt["variant"]
    tracker = EDCFTracker(variant=variant, weights=weights, device=device, overrides=overrides)
    per, rows, frames, seconds = [], {}, 0, 0.0
    for folder in tqdm(sequences, desc=f"{variant} {Path(weights).name}", disable=not progress, leave=False):
        seq = load_sequence(folder)
        gt = seq.groundtruth
        run = one_pass(tracker, seq.images(), gt[0])
        seconds += float(sum(run.seconds))
        frames += len(run.entries)
        s = ope_scores(run.boxes, gt)
        per.append(s)
        rows[seq.name] = s.as_percent()
        print(f"  {variant} {Path(weights).name} {seq.name}: " + " ".join(f"{k} {v:.1f}" for k, v in rows[seq.name].items())
              + f" ({len(run.entries)} frames)", flush=True)
    mean = mean_ope_scores(per).as_percent()
    return {"variant": variant, "weights": str(weights), "weights_sha256": file_sha256(weights),
            "tracker_config": tracker.config.to_dict(), "mean": mean, "fps": frames / max(seconds, 1e-9),
            "sequences": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="OTB-style folder with index.json")
    p.add_argument("--split", required=True, help="split to evaluate (bench only for final figures)")
    p.add_argument("--sequences", help="comma-separated subset of the split")
    p.add_argument("--model", action="append", required=True, metavar="LABEL=WEIGHTS[:VARIANT]")
    p.add_argument("--preset", help="named TrackerConfig preset (edcf track --preset), before --set")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="TrackerConfig override")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", help="JSON file for the results")
    p.add_argument("--shortest-first", action="store_true", help="run the shortest sequences first")
    args = p.parse_args(argv)
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        seqs = list_split(args.root, args.split)
        if args.sequences:
            names = args.sequences.split(",")
            seqs = [s for s in seqs if s.name in names]
        if args.shortest_first:
            seqs = sorted(seqs, key=lambda s: len(load_sequence(s)))
        overrides = preset(args.preset) if args.preset else {}
        for kv in args.set:
            k, _, v = kv.partition("=")
            default = getattr(TrackerConfig(), k, v)
            if isinstance(default, bool):
                overrides[k] = v.strip().lower() in ("1", "true", "yes", "on")
            else:
                overrides[k] = type(default)(v) if k in TrackerConfig.keys() else v
        results = {"split": args.split, "root": str(args.root), "git_revision": git_revision(),
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "preset": args.preset,
                   "overrides": overrides,
                   "torch_threads": torch.get_num_threads(), "models": {}}
        for spec in args.model:
            label, _, rest = spec.partition("=")
            weights, _, variant = rest.partition(":")
            r = evaluate(weights, variant or None, seqs, args.device, overrides)
            results["models"][label] = r
            m = r["mean"]
            print(f"{label:24s} {r['variant']:9s} AUC {m['auc']:5.1f}  OP@0.5 {m['op50']:5.1f}  "
                  f"DP@20 {m['dp20']:5.1f}  {r['fps']:6.1f} FPS", flush=True)
            if args.out:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(results, indent=1))
    except EDCFError as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
