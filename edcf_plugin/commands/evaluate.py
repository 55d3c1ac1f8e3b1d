"""``edcf eval``: score result folders with pysot-toolkit's definitions; tables (Markdown, JSON) and plots.

    edcf eval --results results/OTB100 --dataset OTB100 --dataset-root /data/OTB100 --out report/
    edcf eval --results results/VOT2018 --dataset VOT2018 --dataset-root /data/VOT2018
    edcf eval --results runs/track --gt-root ../shared/data/sequences --split bench --out report/
    edcf eval --results runs/track --gt-root ../shared/data/sequences --partial

``--results`` is the folder holding one sub-folder per tracker (``results/<DATASET>`` of
``edcf-pysot-test``, or ``edcf track --out``); ``<results>/<DATASET>`` is used when it exists. The ground
truth comes from a pysot-toolkit dataset (``--dataset`` + ``--dataset-root``) or from OTB-style sequence
folders (``--gt-root``; ``groundtruth_rect.txt`` as given, so the results must use the same convention —
the metrics are shift-invariant only between prediction and ground truth of the same convention).
Every sequence of the dataset must have a result, unless ``--partial``: then only the sequences every
compared tracker has a result for are scored, and the report names them.

One-pass datasets give success AUC, OP@0.5, DP@20 (precision at 20 px), normalised precision at 0.2 (and
the curves); VOT2016/2018/2019 (or ``--protocol reset``) give accuracy, robustness, lost number and EAO.
Definitions and where they differ from other toolkits: :mod:`edcf_plugin.formats.metrics`.
"""
from __future__ import annotations

import argparse
import datetime
import json
import warnings
from pathlib import Path

import numpy as np

from ..formats import metrics as M
from ..errors import ConfigError, InputError
from ..formats.pysot_datasets import (PROTOCOLS, Dataset, Video, default_protocol, load_dataset, read_trajectory,
                             result_files, result_layout, vot_run_files)
from ..formats.reports import markdown_table, partial_note, plot_ope, plot_vot
from ..formats.sequences import ensure_output_dir, write_output


# ------------------------------------------------------------------------------------------ loading

def tracker_root(results: Path, dataset: str | None) -> Path:
    if not results.is_dir():
        raise InputError(f"results folder not found: {results}")
    if dataset and (results / dataset).is_dir():
        return results / dataset
    return results


def discover_trackers(root: Path, dataset: Dataset, layout: str) -> list[str]:
    """Sub-folders of ``root`` holding a result for at least one video of ``dataset``."""
    names = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if any(has_result(root, d.name, v, layout) for v in dataset.videos):
            names.append(d.name)
    if not names:
        raise InputError(f"no tracker results for dataset {dataset.name} under {root} "
                         f"(expected <tracker>/{_layout_hint(layout)})")
    return names


def has_result(root: Path, tracker: str, video: Video, layout: str) -> bool:
    """Whether ``tracker`` has a result file for ``video`` (any run, for the reset layout)."""
    if result_files(root, tracker, video.name, layout)["boxes"].is_file():
        return True
    return layout == "baseline" and bool(vot_run_files(root, tracker, video.name))


def scored_subset(root: Path, dataset: Dataset, trackers: list[str], layout: str) -> Dataset:
    """``--partial``: the dataset cut to the videos every tracker in ``trackers`` has a result for."""
    videos = [v for v in dataset.videos if all(has_result(root, t, v, layout) for t in trackers)]
    if not videos:
        raise InputError(f"no video of dataset {dataset.name} has results from every tracker "
                         f"({', '.join(trackers)}) under {root}")
    return Dataset(dataset.name, dataset.root, videos, dataset.source, dataset.protocol)


def _layout_hint(layout: str) -> str:
    return {"ope": "<video>.txt", "baseline": "baseline/<video>/<video>_001.txt",
            "got10k": "<video>/<video>_001.txt", "longterm": "longterm/<video>/<video>_001.txt"}[layout]


def load_ope_result(root: Path, tracker: str, video: Video, layout: str) -> np.ndarray:
    path = result_files(root, tracker, video.name, layout)["boxes"]
    if not path.is_file():
        raise InputError(f"tracker {tracker!r} video {video.name!r}: result file not found: {path} "
                         f"(--partial scores only the videos that have results)")
    rows = read_trajectory(path)
    for i, r in enumerate(rows, 1):
        if len(r) != 4:
            raise InputError(f"tracker {tracker!r} video {video.name!r} frame {i}: {path} has {len(r)} "
                             f"values, expected x,y,w,h")
    if len(rows) != len(video.gt):
        raise InputError(f"tracker {tracker!r} video {video.name!r}: {path} has {len(rows)} lines for "
                         f"{len(video.gt)} ground-truth frames")
    return np.asarray(rows, dtype=np.float64)


def _gt_rows(video: Video) -> np.ndarray:
    rows = []
    for i, g in enumerate(video.gt, 1):
        if len(g) == 8:  # a polygon in a one-pass evaluation: its axis-aligned bounds
            xs, ys = g[0::2], g[1::2]
            g = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        rows.append([float(v) for v in g])
    return np.asarray(rows, dtype=np.float64)


def _speed(root: Path, tracker: str, videos: list[Video], layout: str) -> float | None:
    """Frames per second from ``run_info.json`` (edcf-pysot-test) or GOT-10k ``_time.txt`` files."""
    info = root / tracker / "run_info.json"
    names = {v.name for v in videos}
    if info.is_file():
        try:
            runs = [r for r in json.loads(info.read_text()).get("videos", []) if r.get("video") in names]
            secs = sum(float(r.get("seconds", 0.0)) for r in runs)
            if runs and secs > 0:
                return sum(int(r.get("frames", 0)) for r in runs) / secs
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            _speed_unreadable(info, exc)
    if layout == "got10k":
        total, n = 0.0, 0
        for v in videos:
            t = result_files(root, tracker, v.name, layout)["time"]
            if t.is_file():
                try:
                    vals = [float(x) for x in t.read_text().split()]
                except (OSError, UnicodeDecodeError, ValueError) as exc:
                    _speed_unreadable(t, exc)
                    return None
                total += sum(vals)
                n += len(vals)
        if n and total > 0:
            return n / total
    return None


def _speed_unreadable(path: Path, exc: Exception) -> None:
    """Speed is reported, not scored: a malformed timing file leaves the FPS column empty and says why."""
    warnings.warn(f"speed not reported: cannot read {path} ({type(exc).__name__}: {exc})", stacklevel=3)


def evaluate_ope(root: Path, dataset: Dataset, trackers: list[str], layout: str) -> dict:
    out = {}
    for name in trackers:
        per_seq, scores = {}, []
        for v in dataset.videos:
            pred = load_ope_result(root, name, v, layout)
            present = np.asarray(v.absent) if v.absent is not None else None
            s = M.ope_scores(pred, _gt_rows(v), present)
            scores.append(s)
            per_seq[v.name] = {**{k: round(x, 4) for k, x in s.as_percent().items()}, "frames": len(pred)}
        mean = M.mean_ope_scores(scores)
        overall = {k: round(x, 4) for k, x in mean.as_percent().items()}
        overall.update({"fps": _speed(root, name, dataset.videos, layout),
                        "success_curve": mean.success.tolist(), "precision_curve": mean.precision.tolist(),
                        "norm_precision_curve": mean.norm_precision.tolist()})
        out[name] = {"overall": overall, "per_sequence": per_seq}
    return out


def load_vot_runs(root: Path, tracker: str, video: Video) -> list[list[list[float]]]:
    files = vot_run_files(root, tracker, video.name)
    if not files:
        raise InputError(f"tracker {tracker!r} video {video.name!r}: no run file "
                         f"{root / tracker / 'baseline' / video.name / (video.name + '_001.txt')} "
                         f"(--partial scores only the videos that have results)")
    runs = []
    for f in files:
        traj = read_trajectory(f)
        for i, e in enumerate(traj, 1):
            if not ((len(e) == 1 and e[0] in (0, 1, 2)) or len(e) == 4 or (len(e) >= 6 and len(e) % 2 == 0)):
                raise InputError(f"tracker {tracker!r} video {video.name!r} frame {i}: {f} line is neither a "
                                 f"code 0/1/2 nor a box/polygon: {e}")
        if len(traj) != len(video.gt):
            raise InputError(f"tracker {tracker!r} video {video.name!r}: {f} has {len(traj)} lines for "
                             f"{len(video.gt)} ground-truth frames")
        runs.append(traj)
    return runs


def evaluate_vot(root: Path, dataset: Dataset, trackers: list[str], eao_range: tuple[int, int],
                 burnin: int = M.VOT_BURNIN) -> dict:
    out = {}
    for name in trackers:
        seqs = []
        for v in dataset.videos:
            w, h = v.size
            seqs.append(M.VOTSequence(v.name, v.gt, w, h, load_vot_runs(root, name, v)))
        ar = M.ar_scores(seqs, burnin)
        eao, curve = M.expected_average_overlap(seqs, *eao_range)
        overall = {"accuracy": ar["accuracy"], "robustness": ar["robustness"], "lost": ar["lost"],
                   "eao": eao, "eao_range": list(eao_range), "frames": ar["frames"],
                   "fps": _speed(root, name, dataset.videos, "baseline"),
                   "expected_overlap_curve": [float(x) for x in curve]}
        out[name] = {"overall": overall, "per_sequence": ar["per_sequence"]}
    return out


def evaluate(results: str | Path, dataset: Dataset, protocol: str | None = None,
             trackers: list[str] | None = None, eao_range: tuple[int, int] | None = None,
             layout: str | None = None, partial: bool = False) -> dict:
    """Score every tracker under ``results`` on ``dataset``; the report dict written as JSON.

    ``partial``: score only the videos every tracker has a result for (``report["partial"]`` then says how
    many of the dataset's videos that is; ``report["videos"]`` lists them, as always)."""
    protocol = protocol or dataset.protocol
    layout = layout or result_layout(dataset.name, protocol)
    if layout == "longterm":
        raise InputError("VOT2018-LT (long-term) results are written but not evaluated by edcf eval "
                         "(its F-score is not implemented); use pysot-toolkit's eval.py")
    root = tracker_root(Path(results).expanduser().resolve(), dataset.name)
    if trackers:
        missing = [t for t in trackers if not (root / t).is_dir()]
        if missing:
            raise InputError(f"no results folder for tracker(s) {', '.join(missing)} under {root}")
    else:
        trackers = discover_trackers(root, dataset, layout)
    total = len(dataset.videos)
    if partial:
        dataset = scored_subset(root, dataset, trackers, layout)
    report = {"dataset": dataset.name, "ground_truth": str(dataset.source), "results": str(root),
              "protocol": protocol, "layout": layout, "videos": [v.name for v in dataset.videos],
              "definitions": "pysot-toolkit (edcf_plugin/formats/metrics.py)",
              "date": datetime.datetime.now().isoformat(timespec="seconds")}
    if partial:
        report["partial"] = {"scored": len(dataset.videos), "of": total}
    if protocol == "ope":
        report["trackers"] = evaluate_ope(root, dataset, trackers, layout)
    else:
        rng = eao_range or M.EAO_RANGES.get(dataset.name, M.EAO_RANGES["VOT2018"])
        report["eao_range"] = list(rng)
        report["trackers"] = evaluate_vot(root, dataset, trackers, tuple(rng))
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", required=True,
                        help="folder with one sub-folder per tracker (e.g. results/OTB100)")
    parser.add_argument("--dataset", default=None,
                        help="pysot-toolkit dataset name (<dataset-root>/<NAME>.json); VOT2016/2018/2019 "
                             "are evaluated reset-based")
    parser.add_argument("--dataset-root", default=None, help="folder holding <NAME>.json and the videos")
    parser.add_argument("--gt-root", default=None,
                        help="OTB-style sequence folders (<video>/groundtruth_rect.txt) instead of a pysot JSON")
    parser.add_argument("--split", default=None, help="with --gt-root: only this index.json split")
    parser.add_argument("--trackers", nargs="+", default=None, help="tracker folders (default: all found)")
    parser.add_argument("--video", default=None, help="evaluate only this video")
    parser.add_argument("--partial", action="store_true",
                        help="score only the videos every tracker has results for (a run over some sequences "
                             "of the dataset); the report names them")
    parser.add_argument("--protocol", choices=PROTOCOLS, default=None,
                        help="override the protocol chosen from the dataset name")
    parser.add_argument("--eao-range", nargs=2, type=int, metavar=("LOW", "HIGH"), default=None,
                        help="EAO sequence-length interval (default: the VOT edition's, else VOT2018's)")
    parser.add_argument("--out", default=None, help="write results.md, results.json and PNG plots here")


def run(args: argparse.Namespace) -> int:
    if bool(args.dataset_root) == bool(args.gt_root):
        raise ConfigError("give the ground truth with exactly one of --dataset-root (pysot JSON, with "
                          "--dataset) or --gt-root (OTB-style sequence folders)")
    if args.dataset_root and not args.dataset:
        raise ConfigError("--dataset-root needs --dataset NAME (the <NAME>.json file)")
    if args.out:                                  # before the evaluation: a report that cannot be written is lost
        out = Path(args.out).expanduser().resolve()
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} is a file: give a folder for results.md, results.json and the plots")
        ensure_output_dir(out)
    name = args.dataset or "sequences"
    protocol = args.protocol or default_protocol(name)
    if args.dataset_root:
        dataset = load_dataset(name, args.dataset_root, protocol, None)
    else:
        from ..formats.pysot_datasets import load_sequence_folders
        root = Path(args.gt_root).expanduser().resolve()
        if not root.is_dir():
            raise InputError(f"--gt-root folder not found: {root}")
        dataset = load_sequence_folders(root, name, protocol, args.split)
        if not dataset.videos:
            raise InputError(f"no sequence folders under {root}")
    if args.video:
        dataset = Dataset(dataset.name, dataset.root, [dataset[args.video]], dataset.source, dataset.protocol)
    report = evaluate(args.results, dataset, protocol, args.trackers,
                      tuple(args.eao_range) if args.eao_range else None, partial=args.partial)
    table = partial_note(report) + markdown_table(report)
    print(table, end="")
    if args.out:
        out = Path(args.out).expanduser().resolve()             # made and checked before the evaluation
        write_output(out / "results.json", json.dumps(_json_safe(report), indent=1, allow_nan=False))
        title = f"# {report['dataset']}: {', '.join(report['trackers'])}\n\n"
        write_output(out / "results.md", title + f"Results: `{report['results']}`; ground truth: "
                     f"`{report['ground_truth']}`; {report['date']}.\n\n" + table)
        plots = plot_ope(report, out) if protocol == "ope" else plot_vot(report, out)
        print(f"report: {out / 'results.md'}, {out / 'results.json'}, " + ", ".join(p.name for p in plots))
    return 0


def _json_safe(x):
    """NaN/inf -> None (JSON has no NaN), numpy scalars -> Python numbers, recursively."""
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x
