"""``edcf track``: track one sequence (OTB-style folder, frame folder or video) and print a summary line.

Box convention of ``--init`` and ``--out``: the sequence annotation's. OTB-style folders
(``groundtruth_rect.txt``) are 1-based ``x,y,w,h``; plain frame folders and videos are 0-based pixels.
The last line printed is ``frames=N fps=F fps_e2e=F [auc=A op50=O dp20=D]`` (percent; fps counts the
tracker alone, fps_e2e includes image decoding), always on a line of its own. The progress bar is drawn on
standard error only when it is a terminal (or with ``--progress``), so a log file or a pipe gets no
carriage-return frames and ``grep '^frames='`` finds the summary.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..boxes import as_box, from_one_based, to_one_based
from ..config import PRESETS, VARIANTS, resolve_variant
from ..errors import ConfigError, EDCFError, InputError
from ..formats.metrics import otb_summary
from ..formats.sequences import Sequence, ensure_output_dir, load_sequence, write_output
from ..run import TrackerSpec, one_pass


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="OTB-style sequence folder, folder of frames, or video file")
    p.add_argument("--init", help="initial box x,y,w,h (default: first ground-truth line)")
    p.add_argument("--variant", default=None, help=f"one of {', '.join(VARIANTS)} (default EDCF)")
    p.add_argument("--weights", default=None, help="checkpoint file (default: the bundled model)")
    p.add_argument("--config", default=None, help="YAML file of TrackerConfig overrides")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--out", default=None, help="write one x,y,w,h line per frame here")
    p.add_argument("--video", default=None, help="write an annotated video here (.mp4/.avi)")
    p.add_argument("--show-response", action="store_true", help="overlay the fused response map in --video")
    p.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="named parameter preset: reference (fp32), realtime (bf16, one pass, side crops every 3rd "
                        "frame), balanced (realtime, side crops every frame), fast (realtime, CF and side crops "
                        "every 2nd frame), "
                        "gpu (CUDA: single pass, crops on the GPU)")
    p.add_argument("--progress", action="store_true",
                   help="draw the progress bar even when standard error is not a terminal (default: only on one)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, even on a terminal")


def parse_box_arg(text: str) -> np.ndarray:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise InputError(f"--init must be x,y,w,h numbers, got {text!r}") from None
    return as_box(values, "--init box")


def draw(frame: np.ndarray, box: np.ndarray, gt: np.ndarray | None, response: np.ndarray | None) -> np.ndarray:
    out = frame.copy()
    if response is not None:
        r = response - response.min()
        r = (255 * r / max(float(r.max()), 1e-12)).astype(np.uint8)
        heat = cv2.applyColorMap(cv2.resize(r, (out.shape[0] // 3, out.shape[0] // 3)), cv2.COLORMAP_JET)
        out[: heat.shape[0], : heat.shape[1]] = heat
    if gt is not None and np.all(np.isfinite(gt)):
        x, y, w, h = gt
        cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 255, 0), 1)
    x, y, w, h = box
    cv2.rectangle(out, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), (0, 0, 255), 2)
    return out


def source_path(seq: Sequence) -> Path | str:
    """Where a sequence was read from, for messages: the video file, or the folder of its frames."""
    if seq.video is not None:
        return seq.video
    return seq.frames[0].parent if seq.frames else seq.name


def show_progress(args: argparse.Namespace) -> bool:
    """The progress bar: never with ``--quiet``, always with ``--progress``, else only on a terminal."""
    if getattr(args, "quiet", False):
        return False
    return bool(getattr(args, "progress", False)) or sys.stderr.isatty()


def track_sequence(seq: Sequence, tracker, init_box: np.ndarray | None = None, *, video: str | None = None,
                   show_response: bool = False, progress: bool = True):
    """Track a sequence; returns (N x 4 internal boxes, tracker seconds, end-to-end seconds).

    ``progress`` draws a tqdm bar on standard error. On a terminal it is cleared at the end; elsewhere
    (``--progress`` into a log) its last state is kept and ends with a newline, so what is printed next
    starts a line of its own. When a frame stops tracking (a corrupt image, Ctrl-C, ...), the exception
    carries the boxes tracked before it as ``exc.tracked_boxes``; an :class:`EDCFError` is raised again with
    the frame named (``frame N: ...``).
    """
    if init_box is None:
        if seq.groundtruth is None:
            what = "a video file" if seq.video is not None else "a folder without groundtruth_rect.txt"
            raise InputError(f"{source_path(seq)} is {what}: give the initial box with --init x,y,w,h")
        init_box = seq.groundtruth[0]
    writer = None
    t_start = time.perf_counter()
    bar = tqdm(total=len(seq), desc=seq.name, unit="frame", disable=not progress or len(seq) < 50,
               leave=not sys.stderr.isatty(), mininterval=2.0)

    def on_frame(i: int, frame: np.ndarray, box) -> None:
        nonlocal writer
        if video:
            if writer is None:
                writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30,
                                         (frame.shape[1], frame.shape[0]))
                if not writer.isOpened():
                    raise InputError(f"cannot write video {video}")
            resp = getattr(tracker, "last_response", None) if (show_response and i > 0) else None
            gt = seq.groundtruth[i] if seq.groundtruth is not None and i < len(seq.groundtruth) else None
            writer.write(draw(frame, box, gt, resp.float().cpu().numpy() if resp is not None else None))
        bar.update(1)

    try:
        run = one_pass(tracker, seq.images(), init_box, on_frame=on_frame)
    except EDCFError as exc:
        n = len(exc.tracked_boxes)
        where = f"frame {n + 1}"
        if seq.video is None and n < len(seq.frames) and str(seq.frames[n]) not in str(exc):
            where += f" ({seq.frames[n]})"
        error = type(exc)(f"{where}: {exc}")
        error.tracked_boxes = exc.tracked_boxes
        raise error from None
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    t_e2e = time.perf_counter() - t_start
    return run.boxes, float(sum(run.seconds)), t_e2e


def write_boxes(path: str | Path, boxes: np.ndarray) -> None:
    """One comma-separated ``x,y,w,h`` line per frame, no blanks (pysot-toolkit's eval reads it with float()).

    The file is written whole or not at all: a temporary file beside it, renamed over it (a device, a pipe or a
    link is written in place). A failed write (disk full, ...) is an InputError naming the path.
    """
    write_output(path, "".join(",".join(f"{v:.4f}" for v in b) + "\n" for b in boxes), what="boxes")


def run(args: argparse.Namespace) -> int:
    if args.out:                                  # checked before tracking: boxes are written at the end
        if Path(args.out).is_dir():
            raise InputError(f"--out {args.out} is a folder: give a file name")
        ensure_output_dir(Path(args.out).parent)
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads must be a positive number of threads, got {args.threads} "
                          f"(leave it out for torch's default)")
    tracker = TrackerSpec(variant=args.variant, weights=args.weights, preset=args.preset, config=args.config,
                          device=args.device, threads=args.threads).build()
    if args.preset == "gpu" and tracker.device.type != "cuda":
        warnings.warn(f"--preset gpu is made for a CUDA device; on {tracker.device.type} --preset realtime is the "
                      f"fast one", stacklevel=2)
    trained_as = tracker.checkpoint.get("variant") if args.weights else None
    if trained_as is not None and str(trained_as).lower() != tracker.variant.lower():
        try:
            trained_as = resolve_variant(trained_as)
        except ConfigError:
            pass
        if trained_as != tracker.variant:
            warnings.warn(f"{args.weights} holds weights trained as {trained_as}; tracking with them as "
                          f"{tracker.variant} (give --variant {trained_as} to track as trained)", stacklevel=2)
    seq = load_sequence(args.source)
    one_based = seq.groundtruth is not None
    init_box = None
    if args.init:
        init_box = parse_box_arg(args.init)
        init_box = from_one_based(init_box) if one_based else init_box
    try:
        boxes, t_track, t_e2e = track_sequence(seq, tracker, init_box, video=args.video,
                                               show_response=args.show_response, progress=show_progress(args))
    except BaseException as exc:                  # keep what was tracked before the failure
        tracked = getattr(exc, "tracked_boxes", None)
        if not args.out or tracked is None or not len(tracked):
            raise
        write_boxes(args.out, to_one_based(tracked) if one_based else tracked)
        if isinstance(exc, EDCFError):
            raise type(exc)(f"{exc}; the {len(tracked)} boxes tracked before it are in {args.out}") from None
        print(f"edcf: the {len(tracked)} boxes tracked so far are in {args.out}", file=sys.stderr)
        raise
    if args.out:
        write_boxes(args.out, to_one_based(boxes) if one_based else boxes)
    n = len(boxes)
    parts = [f"frames={n}", f"fps={n / max(t_track, 1e-9):.2f}", f"fps_e2e={n / max(t_e2e, 1e-9):.2f}"]
    if seq.groundtruth is not None:
        m = otb_summary(boxes, seq.groundtruth[:n])
        parts += [f"auc={m['auc']:.2f}", f"op50={m['op50']:.2f}", f"dp20={m['dp20']:.2f}"]
    print(" ".join(parts), flush=True)
    return 0
