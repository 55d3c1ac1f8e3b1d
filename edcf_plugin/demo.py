"""``edcf demo``: track the bundled demo sequence (60 frames of OTB Bolt) and write an annotated video."""
from __future__ import annotations

import argparse
from pathlib import Path

from .track_cli import run as track_run

DEMO_SEQUENCE = Path(__file__).resolve().parent / "data" / "demo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--video", default="edcf_demo.mp4", help="annotated output video (default edcf_demo.mp4)")
    p.add_argument("--out", default=None, help="also write the boxes here")
    p.add_argument("--variant", default=None, help="tracker variant (default EDCF)")
    p.add_argument("--weights", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--no-response", action="store_true", help="do not overlay the response map")


def run(args: argparse.Namespace) -> int:
    ns = argparse.Namespace(source=str(DEMO_SEQUENCE), init=None, variant=args.variant, weights=args.weights,
                            config=None, device=args.device, threads=None, out=args.out, video=args.video,
                            show_response=not args.no_response, preset=None, quiet=True)
    code = track_run(ns)
    print(f"video written to {args.video}")
    return code
