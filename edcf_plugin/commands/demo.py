"""``edcf demo``: track the bundled demo sequence (60 frames of OTB Bolt) and write an annotated video."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import PRESETS
from .track import run as track_run

DEMO_SEQUENCE = Path(__file__).resolve().parents[1] / "data" / "demo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", default="edcf_demo.mp4", help="annotated output video (default edcf_demo.mp4)")
    p.add_argument("--out", default=None, help="also write the boxes here")
    p.add_argument("--variant", default=None, help="tracker variant (default EDCF)")
    p.add_argument("--weights", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="named parameter preset, as for edcf track (default: reference)")
    p.add_argument("--no-response", action="store_true", help="do not overlay the response map")


def run(args: argparse.Namespace) -> int:
    ns = argparse.Namespace(source=str(DEMO_SEQUENCE), init=None, variant=args.variant, weights=args.weights,
                            config=None, device=args.device, threads=args.threads, out=args.out, video=args.video,
                            show_response=not args.no_response, preset=args.preset, quiet=True, progress=False)
    code = track_run(ns)
    print(f"video written to {args.video}")
    return code
