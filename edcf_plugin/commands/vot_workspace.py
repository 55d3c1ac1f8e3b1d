"""``edcf vot-workspace OUT --sequences DIR``: build an offline VOT toolkit workspace
(:mod:`edcf_plugin.toolkits.vot_workspace` writes it)."""
from __future__ import annotations

import argparse

from ..toolkits.vot_workspace import (DEFAULT_STACK, LINK_MODES, MARKER, available_stacks, build_workspace,
                                      resolve_stack, stack_notes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Build a VOT toolkit workspace (config, stack, trackers.ini, sequences in VOT format) "
                          "that `vot evaluate/analysis/report` use offline.")
    parser.add_argument("out", help="workspace folder to create")
    parser.add_argument("--sequences", required=True,
                        help="OTB-style dataset root (<Name>/img, groundtruth_rect.txt, optional index.json) "
                             "or a VOT dataset folder (list.txt)")
    parser.add_argument("--split", default=None, help="only sequences of this index.json split, e.g. bench")
    parser.add_argument("--names", default=None, help="comma-separated sequence names (default: all selected)")
    parser.add_argument("--stack", default=DEFAULT_STACK,
                        help=f"a shipped stack ({', '.join(available_stacks())}) or a stack YAML file "
                             f"(default: {DEFAULT_STACK}, all four experiments)")
    parser.add_argument("--link", choices=LINK_MODES, default="copy",
                        help="how frames get into the workspace (default: copy; symlink saves space)")
    parser.add_argument("--fps", type=int, default=30,
                        help="frame rate written to each sequence; the realtime experiment allows 1/fps s a frame "
                             "(default: 30)")
    parser.add_argument("--anchor-spacing", type=int, default=50,
                        help="frames between multistart anchors (default: 50, as VOT2020)")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="keep only the first N frames of each sequence (quick checks)")
    parser.add_argument("--force", action="store_true",
                        help=f"replace a workspace this command wrote in OUT (recognised by its {MARKER} file; "
                             f"any other folder is never deleted)")


def run(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
    summary = build_workspace(args.out, args.sequences, split=args.split, names=names, stack=args.stack,
                              link=args.link, fps=args.fps, anchor_spacing=args.anchor_spacing,
                              max_frames=args.max_frames, force=args.force)
    frames = sum(summary["sequences"].values())
    print(f"workspace {summary['workspace']}: stack {summary['stack']}, {len(summary['sequences'])} sequences, "
          f"{frames} frames")
    entry = "EDCF-realtime" if summary["stack"] == "edcf_realtime" else "EDCF"
    for note in stack_notes(resolve_stack(args.stack), min(summary["sequences"].values())):
        print(note)
    print(f"next: vot evaluate --workspace {summary['workspace']} {entry} && "
          f"vot analysis --workspace {summary['workspace']} {entry}")
    return 0
