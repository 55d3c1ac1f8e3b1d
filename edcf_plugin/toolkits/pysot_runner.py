"""``edcf-pysot-test``: pysot's ``tools/test.py`` for EDCF, writing pysot-toolkit's result layouts.

    edcf-pysot-test --tracker EDCF --dataset OTB100 --dataset_root /data/OTB100
    edcf-pysot-test --tracker SiamFC --dataset VOT2018 --dataset_root /data/VOT2018 --workers 2
    edcf-pysot-test --tracker EDCF --preset realtime --name EDCF-realtime --dataset OTB100 --dataset_root /data/OTB100

The loops are those of pysot's ``tools/test.py``:

* one pass (OTB, UAV, NFS, LaSOT, GOT-10k, TrackingNet, VOT2018-LT and any other name): frame 1 initialises
  the tracker on ``get_axis_aligned_bbox(gt[0])`` (see :mod:`edcf_plugin.toolkits.pysot_tracker`) and that init box is the
  first line; every later frame is tracked. Absent targets after frame 1 are fine (evaluation handles them).
* reset-based (VOT2016/2018/2019, or ``--protocol reset``): ``1`` when (re-)initialised, the box while the
  overlap with the ground truth (clipped to the image) is > 0, ``2`` at a failure, ``0`` for the four
  frames after it, and re-initialisation 5 frames after the failure.

Results go to ``<results_dir>/<DATASET>/<name>/`` in the layouts of :mod:`edcf_plugin.formats.pysot_datasets`
(``--name`` defaults to the tracker), with a ``run_info.json`` beside them (config, weights hash, git
revision, speed) except for GOT-10k, whose server takes the folder as it is.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import PRESETS
from ..errors import ConfigError, EDCFError, InputError, one_line_warnings
from ..formats.metrics import VOT_SKIP, region_overlap
from ..run import TrackerSpec, cli_main, one_pass, reset_based
from .pysot_tracker import EDCFPysotTracker, pysot_init_box, rect_to_vot_polygon
from ..formats.pysot_datasets import (PROTOCOLS, Dataset, Video, default_protocol, format_ope_line, format_reset_line,
                             is_valid_box, load_dataset, result_files, result_layout, write_lines,
                             write_text_whole)
from ..formats.sequences import ensure_output_dir, read_image


@dataclass
class VideoRun:
    """One video's outputs: the lines written and timing."""
    name: str
    entries: list                      # boxes (lists of floats) or int codes (reset protocol)
    scores: list                       # per frame, None at (re-)initialisation frames
    times: list                        # seconds per frame (init/track only, as pysot measures)
    lost: int = 0

    @property
    def seconds(self) -> float:
        return float(sum(self.times))

    @property
    def fps(self) -> float:
        return len(self.times) / self.seconds if self.seconds > 0 else float("nan")


def _frame(video: Video, idx: int) -> np.ndarray:
    try:
        return read_image(video.img_files[idx])
    except EDCFError as exc:
        raise InputError(f"video {video.name!r} frame {idx + 1}: {exc}") from None


def _check_target(video: Video, idx: int, why: str) -> None:
    gt = video.gt[idx]
    if not is_valid_box(gt):
        raise InputError(f"video {video.name!r} frame {idx + 1}: ground truth {gt} is absent (NaN) or has "
                         f"zero size; {why}")


def _show(video: Video, img: np.ndarray, idx: int, gt, box, lost: int | None) -> None:
    import cv2
    img = img.copy()
    if gt is not None and len(gt) == 8 and is_valid_box(gt):
        cv2.polylines(img, [np.array(gt, np.int32).reshape(-1, 1, 2)], True, (0, 255, 0), 2)
    elif gt is not None and is_valid_box(gt):
        x, y, w, h = map(int, gt)
        cv2.rectangle(img, (x, y), (x + w, y + h), (0, 255, 0), 2)
    if box is not None and not isinstance(box, int):
        x, y, w, h = map(int, box)
        cv2.rectangle(img, (x, y), (x + w, y + h), (0, 255, 255), 2)
    cv2.putText(img, str(idx), (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 255, 255), 2)
    if lost is not None:
        cv2.putText(img, str(lost), (10, 55), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
    try:
        cv2.imshow(video.name, img)
        cv2.waitKey(1)
    except cv2.error as exc:
        raise EDCFError(f"--vis needs an OpenCV build with GUI support and a display: {exc.msg.strip()}") \
            from None


class _Updates:
    """pysot's tracker interface (``init``, ``track -> dict``) as the run seam's (``init``, ``update -> (box, score)``)."""

    def __init__(self, tracker):
        self.tracker = tracker

    def init(self, img: np.ndarray, box) -> None:
        self.tracker.init(img, box)

    def update(self, img: np.ndarray):
        out = self.tracker.track(img)
        return out["bbox"], out["best_score"]


def _frames(video: Video):
    for idx in range(len(video)):
        yield _frame(video, idx)


def run_ope(tracker, video: Video, vis: bool = False) -> VideoRun:
    """pysot's one-pass loop: init on frame 1 (its init box is the first entry), then track every frame."""
    _check_target(video, 0, "the tracker is initialised on the first frame")

    def show(idx, img, box):
        if vis and idx > 0:
            _show(video, img, idx, video.gt[idx] if idx < len(video.gt) else None, box, None)

    run = one_pass(_Updates(tracker), _frames(video), pysot_init_box(video.gt[0]), where=f"video {video.name!r} ",
                   on_frame=show)
    return VideoRun(video.name, run.entries, run.scores, run.seconds)


def run_reset(tracker, video: Video, vis: bool = False, skip: int = VOT_SKIP) -> VideoRun:
    """pysot's reset-based (VOT supervised) loop; see the module docstring for the codes."""
    if len(video.gt) != len(video):
        raise InputError(f"video {video.name!r}: the reset protocol needs ground truth for all {len(video)} "
                         f"frames, the dataset gives {len(video.gt)}")
    for idx in range(len(video)):
        _check_target(video, idx, "the reset-based protocol needs the target in every frame")
    gts = [rect_to_vot_polygon(gt) if len(gt) == 4 else gt for gt in video.gt]

    def show(idx, img, entry, lost):
        if vis and not isinstance(entry, int):
            _show(video, img, idx, gts[idx], entry, lost)

    run = reset_based(_Updates(tracker), _frames(video), gts, region_overlap, skip=skip, init_box=pysot_init_box,
                      where=f"video {video.name!r} ", on_frame=show)
    return VideoRun(video.name, run.entries, run.scores, run.seconds, run.lost)


def write_run(run: VideoRun, results_dir: Path, name: str, layout: str) -> dict[str, Path]:
    """Write one video's result files exactly where pysot-toolkit reads them."""
    files = result_files(results_dir, name, run.name, layout)
    if layout == "baseline":
        write_lines(files["boxes"], [format_reset_line(e) for e in run.entries])
    elif layout == "longterm":
        write_lines(files["boxes"], ["1"] + [format_ope_line(e) for e in run.entries[1:]])
        write_lines(files["confidence"], ["" if s is None else "%.6f" % s for s in run.scores])
        write_lines(files["time"], ["%.6f" % t for t in run.times])
    else:
        write_lines(files["boxes"], [format_ope_line(e) for e in run.entries])
        if layout == "got10k":
            write_lines(files["time"], ["%.6f" % t for t in run.times])
    return files


# ------------------------------------------------------------------------------------ the runner

_WORKER: dict = {}


def _worker_init(spec: TrackerSpec) -> None:
    _WORKER["tracker"] = EDCFPysotTracker(tracker=spec.build())


def _worker_job(video: Video, protocol: str, results_dir: str, name: str, layout: str) -> dict:
    return _run_one(_WORKER["tracker"], video, protocol, Path(results_dir), name, layout, False)


def _run_one(tracker, video: Video, protocol: str, results_dir: Path, name: str, layout: str,
             vis: bool) -> dict:
    run = run_reset(tracker, video, vis) if protocol == "reset" else run_ope(tracker, video, vis)
    write_run(run, results_dir, name, layout)
    return {"video": run.name, "frames": len(run.entries), "seconds": run.seconds, "fps": run.fps,
            "lost": run.lost}


def run_dataset(dataset: Dataset, results_dir: str | Path, name: str, protocol: str | None = None,
                tracker_factory: Callable[[], object] | None = None, spec: TrackerSpec | None = None,
                workers: int = 1, video: str | None = None, vis: bool = False,
                log: Callable[[str], None] | None = print, done: dict[str, dict] | None = None,
                on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Track every video (or only ``video``) and write results under ``<results_dir>/<dataset>/<name>``.

    The tracker comes from ``tracker_factory()`` (one per process; ``workers`` must be 1) or from ``spec``
    (picklable, built once per worker process). Videos named in ``done`` (video -> its earlier summary:
    ``--resume``) are not tracked again. ``on_result(summary)`` runs after every video tracked (the caller
    records progress). Returns per-video summaries in dataset order.
    """
    protocol = protocol or dataset.protocol
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    layout = result_layout(dataset.name, protocol)
    videos = [dataset[video]] if video else list(dataset.videos)
    out_dir = Path(results_dir) / dataset.name
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if tracker_factory is None and spec is None:
        raise ValueError("give tracker_factory or spec")
    ensure_output_dir(out_dir / name)        # fail before any tracking if results cannot be written there
    summaries: dict[str, dict] = {v.name: done[v.name] for v in videos if done and v.name in done}
    if summaries and log:
        log(f"resuming: {len(summaries)} of {len(videos)} videos already tracked, skipped")
    videos_left = [v for v in videos if v.name not in summaries]

    def report(i: int, s: dict) -> None:
        summaries[s["video"]] = s
        if on_result is not None:
            on_result(s)
        if log:
            line = "({:3d}) Video: {:12s} Time: {:5.1f}s Speed: {:5.1f}fps".format(
                i + 1, s["video"], s["seconds"], s["fps"])
            log(line + (" Lost: {:d}".format(s["lost"]) if protocol == "reset" else ""))

    index = {v.name: i for i, v in enumerate(videos)}
    if videos_left and (workers == 1 or len(videos_left) == 1):
        tracker = tracker_factory() if tracker_factory is not None else EDCFPysotTracker(tracker=spec.build())
        for v in videos_left:
            report(index[v.name], _run_one(tracker, v, protocol, out_dir, name, layout, vis))
    elif videos_left:
        if tracker_factory is not None:
            raise ValueError("parallel workers build their trackers from a TrackerSpec")
        if vis:
            raise ConfigError("--vis shows frames from one process; use --workers 1")
        ctx = get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(videos_left)), mp_context=ctx,
                                 initializer=_worker_init, initargs=(spec,)) as pool:
            futures = {pool.submit(_worker_job, v, protocol, str(out_dir), name, layout): index[v.name]
                       for v in videos_left}
            for fut in as_completed(futures):
                report(futures[fut], fut.result())
    ordered = [summaries[v.name] for v in videos]
    if log and protocol == "reset":
        log("{:s} total lost: {:d}".format(name, sum(s["lost"] for s in ordered)))
    return ordered


def _run_info(args, spec: TrackerSpec, dataset: Dataset, protocol: str, tracker) -> dict:
    from ..checkpoint import file_sha256, git_revision
    ckpt = getattr(getattr(tracker, "tracker", None), "checkpoint", {}) or {}
    weights = ckpt.get("path")
    cfg = getattr(getattr(tracker, "tracker", None), "config", None)
    import torch
    return {
        "tracker": args.tracker, "name": args.name or spec.variant, "variant": spec.variant,
        "weights": str(weights) if weights else None,
        "weights_sha256": file_sha256(weights) if weights and Path(weights).is_file() else None,
        "config": cfg.to_dict() if cfg is not None else None, "config_file": spec.config,
        "preset": getattr(args, "preset", None),
        "dataset": dataset.name, "dataset_source": str(dataset.source), "protocol": protocol,
        "videos": [], "command": sys.argv, "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__, "device": spec.device, "threads": spec.threads, "workers": args.workers,
    }


def _finished_videos(dataset: Dataset, out_dir: Path, name: str, layout: str, info: dict | None,
                     info_path: Path) -> dict[str, dict]:
    """``--resume``: the videos an earlier run finished, video -> its summary. A video counts when every
    result file it needs exists (they are written whole or not at all) and, except for GOT-10k (no
    run_info.json), when the earlier run_info.json lists it and was made with the same weights, config,
    protocol and dataset: results of another tracker set-up are tracked again, not mixed in."""
    if layout == "got10k":
        recorded = None
    else:
        old = _merge_videos(info_path, {**info, "videos": []})
        recorded = {v["video"]: v for v in old}
    done = {}
    for v in dataset.videos:
        files = result_files(out_dir, name, v.name, layout)
        if not all(f.is_file() for f in files.values()):
            continue
        if recorded is None:
            try:
                times = [float(t) for t in files["time"].read_text().split()]
            except (OSError, ValueError):
                continue
            seconds = sum(times)
            done[v.name] = {"video": v.name, "frames": len(times), "seconds": seconds,
                            "fps": len(times) / seconds if seconds > 0 else 0.0, "lost": 0}
        elif v.name in recorded:
            done[v.name] = recorded[v.name]
    return done


def _merge_videos(path: Path, info: dict) -> list[dict]:
    """Keep the other videos' entries of an earlier run_info.json made with the same weights and config
    (runs of one video at a time with ``--video``); anything else is replaced."""
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return info["videos"]
    same = all(old.get(k) == info[k] for k in ("weights_sha256", "config", "protocol", "dataset_source"))
    if not same:
        return info["videos"]
    new = {v["video"]: v for v in info["videos"]}
    merged = [new.pop(v["video"], v) for v in old.get("videos", []) if isinstance(v, dict) and "video" in v]
    return merged + list(new.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """pysot ``test.py``'s flags plus ``--tracker``, ``--dataset_root``, ``--results_dir``, ``--workers``."""
    parser.add_argument("--dataset", required=True,
                        help="dataset name: <dataset_root>/<NAME>.json, or any name for OTB-style sequence "
                             "folders under --dataset_root (VOT2016/2018/2019 run reset-based)")
    parser.add_argument("--dataset_root", required=True, help="folder holding <NAME>.json and the videos")
    parser.add_argument("--tracker", default="EDCF",
                        help="EDCF (default), SiamFC, EDSiam, CACFNet or CACFNet+ (names the results folder)")
    parser.add_argument("--name", default=None, help="results folder name (default: the tracker)")
    parser.add_argument("--config", default="", help="tracker YAML (toolkit_configs/pysot/edcf.yaml)")
    parser.add_argument("--preset", default=None, choices=list(PRESETS),
                        help="named parameter preset, as edcf track --preset (applied over --config)")
    parser.add_argument("--snapshot", default="", help="weights file (default: the bundled model)")
    parser.add_argument("--video", default="", help="track only this video")
    parser.add_argument("--vis", action="store_true", help="show the frames while tracking (needs a display)")
    parser.add_argument("--results_dir", default="results", help="results root (default: ./results)")
    parser.add_argument("--workers", type=int, default=1, help="videos tracked in parallel processes")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (pysot: 1)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default=None,
                        help="override the protocol chosen from the dataset name")
    parser.add_argument("--split", default=None,
                        help="with sequence folders: only the sequences of this index.json split")
    parser.add_argument("--resume", action="store_true",
                        help="skip the videos an interrupted run of the same tracker set-up already finished "
                             "(recorded in run_info.json, which is rewritten after every video)")


def run(args: argparse.Namespace) -> int:
    from ..config import TrackerConfig, resolve_variant

    variant = resolve_variant(args.tracker)
    config = args.config or None
    if config is not None:
        TrackerConfig.from_yaml(config)          # fail early, with the config's own error
        config = str(Path(config).resolve())
    weights = str(Path(args.snapshot).resolve()) if args.snapshot else None
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.vis and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                             or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigError("--vis needs a display (DISPLAY is not set); leave --vis out on a headless machine")
    spec = TrackerSpec(variant=variant, weights=weights, preset=args.preset or None, config=config,
                       device=args.device, threads=max(1, args.threads))
    protocol = args.protocol or default_protocol(args.dataset)
    dataset = load_dataset(args.dataset, args.dataset_root, protocol, args.split)
    if args.video:
        dataset[args.video]                      # error now when the video is not there
    tracker = EDCFPysotTracker(tracker=spec.build())   # validates weights/config before any worker starts
    name = args.name or variant
    results_dir = Path(args.results_dir).expanduser().resolve()
    parallel = args.workers > 1 and not args.video and len(dataset) > 1
    layout = result_layout(dataset.name, protocol)
    path = results_dir / dataset.name / name / "run_info.json"
    info = _run_info(args, spec, dataset, protocol, tracker) if layout != "got10k" else None
    done = _finished_videos(dataset, results_dir / dataset.name, name, layout, info, path) if args.resume else {}
    finished: list[dict] = []

    def record(summary: dict) -> None:
        """run_info.json after every video: an interrupted run keeps the provenance of what it finished."""
        finished.append(summary)
        if info is not None:
            info.update(videos=finished, date=datetime.datetime.now().isoformat(timespec="seconds"))
            info["videos"] = _merge_videos(path, info)
            write_text_whole(path, json.dumps(info, indent=1))

    run_dataset(dataset, results_dir, name, protocol,
                tracker_factory=None if parallel else (lambda: tracker), spec=spec,
                workers=args.workers if parallel else 1, video=args.video or None, vis=args.vis,
                done=done, on_result=record)
    print(f"results: {results_dir / dataset.name / name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from ..process_setup import process_setup

    process_setup()                              # before torch is imported
    parser = argparse.ArgumentParser(prog="edcf-pysot-test",
                                     description="pysot tools/test.py for EDCF: track a pysot-toolkit "
                                                 "dataset and write pysot-toolkit result files.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    one_line_warnings("edcf-pysot-test")
    return cli_main("edcf-pysot-test", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
