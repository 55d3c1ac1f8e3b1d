"""``edcf bench``: accuracy and speed of EDCF (presets and variants) side by side with OpenCV's trackers.

    edcf bench --root DATA                            # the bench split of DATA (or of $EDCF_SEQUENCES), 3 runs
    edcf bench --root DATA --split bench --runs 3 --threads 2 --out runs/bench
    edcf bench SEQ_DIR [SEQ_DIR ...] --trackers EDCF-fast,CSRT --runs 1

Trackers are named ``EDCF-reference``, ``EDCF-realtime``, ``EDCF-fast`` (the presets of
:data:`edcf_plugin.config.PRESETS`), ``SiamFC``, ``EDSiam``, ``CACFNet``, ``CACFNet+`` (reference preset;
``VARIANT-PRESET`` picks another) and ``CSRT``, ``KCF``, ``MOSSE``, ``MIL`` (OpenCV; they need the contrib
build, see :func:`opencv_factory`).

How it is made fair (every point is recorded in ``results.json``):

* each (tracker, run) is its own process (``python -m edcf_plugin.commands.bench --worker``), with the same thread
  count: ``torch.set_num_threads``, ``cv2.setNumThreads`` and ``OMP/MKL/OPENBLAS_NUM_THREADS``;
* every tracker gets the same frames and the same initial box, the first ground-truth box (OpenCV's
  ``cv::Rect`` takes integers, so OpenCV trackers get it rounded);
* frames are decoded (``cv2.imread``) into memory before a sequence is tracked: *tracker FPS* counts the
  ``init`` and ``update`` calls only; *end-to-end FPS* adds the decode time of the same frames;
* a warm-up (init on frame 1 and one update on frame 2 of the first sequence) precedes the timed frames; the
  time from process start to the end of that update is the *start-up to first tracked frame*;
* run ``r`` takes the sequences in an order rotated by ``r``, so that trackers with process-global state
  (OpenCV's MIL draws from a generator that ``cv2.setRNGSeed`` does not reset) show their run-to-run spread;
* figures are medians over runs; the min-max of the FPS over runs and the load average show the noise;
* ``--init-jitter PX`` moves the initial box of run ``r`` by a fixed whole-pixel offset (``JITTER_PATTERN``
  times PX: run 1 unmoved, then right, down, left, up, the diagonals), the same for every tracker. A tracker's
  trajectory can change a lot with a one-pixel change of its start (a sequence flips between success and
  failure), so one run measures one draw; jittered runs give the mean AUC over starts and, for ``--pairs``,
  the paired difference of two trackers run by run (same starts) with its standard error. Whole pixels keep
  OpenCV's rounded box moved by exactly the same amount. Scores compare with the unmoved ground truth.
* every finished (tracker, run) is stored in ``--out``/``jobs/``; ``--resume`` reuses those whose job is the
  same (tracker, weights file content, frame files, start, threads, device, this package's source code, torch's
  or OpenCV's version; paths are compared resolved, and the weights by content, so a bench resumed from another
  folder or with other spellings of the paths reuses them), so an interrupted bench, or one given more
  ``--runs``, runs only what is missing, and a bench resumed after a change of the code reruns everything.

An OpenCV tracker that reports failure (``ok`` False; OpenCV then returns ``0,0,0,0``) keeps its previous box:
the one-pass (OPE) protocol has no re-initialisation. Accuracy: :func:`edcf_plugin.formats.metrics.ope_scores` per
sequence, averaged over sequences (AUC, OP@0.5, DP@20 in percent). FPS: frames over seconds summed over all
sequences (frame-weighted). Peak RSS: the largest resident set size sampled after each frame while tracking,
minus the bytes of the pre-decoded frames then held.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence as SequenceType

import numpy as np

from ..errors import ConfigError, EDCFError, InputError
from ..machine import cpu_features
from ..formats.reports import bench_plots
from ..formats.sequences import write_output

#: OpenCV tracker name -> factory attribute path in ``cv2`` (opencv-contrib-python 4.5.1+ / 5.x).
OPENCV_TRACKERS = {"CSRT": "TrackerCSRT_create", "KCF": "TrackerKCF_create",
                   "MOSSE": "legacy.TrackerMOSSE_create", "MIL": "TrackerMIL_create"}
DEFAULT_TRACKERS = ("EDCF-reference", "EDCF-realtime", "EDCF-balanced", "EDCF-fast", "SiamFC", "EDSiam", "CACFNet",
                    "CACFNet+", "CSRT", "KCF", "MOSSE", "MIL")
#: Per-stage timers of :class:`edcf_plugin.tracking.tracker.EDCFTracker` (``tracker.profile``), in tracking order.
EDCF_STAGES = ("crop", "encoder", "cf_response", "fusion", "cf_update")
#: Network pieces timed inside those stages (every call: search, CF update and init).
NET_PIECES = {"low_level": "conv1 (shared)", "fine_from_low": "fine branch", "semantic_from_low": "semantic conv2-5"}
#: Offsets (dx, dy) of the initial box, in units of ``--init-jitter`` pixels, for runs 1, 2, ... (cycled).
JITTER_PATTERN = ((0, 0), (1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CONTRIB_FIX = ("OpenCV's CSRT, KCF, MOSSE and MIL need the contrib build; opencv-python and "
               "opencv-contrib-python(-headless) share the cv2 folder and must not be installed side by side: "
               "pip uninstall -y opencv-python opencv-contrib-python-headless && "
               "pip install opencv-contrib-python-headless")


#: Environment variable naming the default ``--root`` (a folder of OTB-style sequences with ``index.json``).
ROOT_ENV = "EDCF_SEQUENCES"


def default_root() -> Path | None:
    """The folder ``$EDCF_SEQUENCES`` names, or None: the bench has no built-in dataset location."""
    value = os.environ.get(ROOT_ENV, "").strip()
    return Path(value) if value else None


# ------------------------------------------------------------------------------------------------ trackers
@dataclass(frozen=True)
class BenchEntry:
    """A tracker of the bench, by name: an EDCF preset or variant (built in its worker as a
    :class:`edcf_plugin.run.TrackerSpec`) or an OpenCV tracker."""
    name: str                 # display name (table, plots, result folders)
    kind: str                 # "edcf" or "opencv"
    variant: str | None = None
    preset: str | None = None
    weights: str | None = None  # this tracker's checkpoint (``NAME@LABEL=PATH``); None: --weights


def parse_tracker(text: str) -> BenchEntry:
    """``CSRT`` / ``EDCF-fast`` / ``CACFNet`` / ``SiamFC-realtime`` ... -> :class:`BenchEntry`.

    An EDCF tracker may name its own checkpoint: ``SiamFC@runs/siamfc/best.pth`` (shown as ``SiamFC@siamfc``, the
    file's folder) or ``EDCF-reference@new=runs/r1/best.pth`` (shown as ``EDCF-reference@new``)."""
    from ..config import PRESETS, VARIANTS, resolve_variant

    t, at, own = text.strip().partition("@")
    t = t.strip()
    if at:
        label, _, path = own.partition("=") if "=" in own else ("", "", own)
        path = path.strip()
        if not path:
            raise ConfigError(f"tracker {text!r}: give a checkpoint after '@' (NAME@PATH or NAME@LABEL=PATH)")
        label = label.strip() or Path(path).parent.name or Path(path).stem
        spec = parse_tracker(t)
        if spec.kind != "edcf":
            raise ConfigError(f"tracker {text!r}: only EDCF trackers take a checkpoint")
        return BenchEntry(f"{spec.name}@{label}", spec.kind, spec.variant, spec.preset, path)
    for name in OPENCV_TRACKERS:
        if t.upper() == name:
            return BenchEntry(name, "opencv")
    base, preset = t, "reference"
    for p in PRESETS:
        if t.lower().endswith("-" + p):
            base, preset = t[:-len(p) - 1], p
    try:
        variant = resolve_variant(base)
    except ConfigError:
        raise ConfigError(f"unknown tracker {t!r}; valid: {', '.join(VARIANTS)} (optionally -PRESET, presets: "
                          f"{', '.join(PRESETS)}) and OpenCV's {', '.join(OPENCV_TRACKERS)}") from None
    name = f"{variant}-{preset}" if variant == "EDCF" or preset != "reference" else variant
    return BenchEntry(name, "edcf", variant, preset)


def opencv_factory(name: str) -> Callable:
    """The ``cv2`` factory of an OpenCV tracker; ConfigError with the fix when cv2 lacks the contrib trackers."""
    import cv2

    obj = cv2
    for part in OPENCV_TRACKERS[name].split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ConfigError(f"cv2 {cv2.__version__} ({cv2.__file__}) has no {OPENCV_TRACKERS[name]}. "
                              + CONTRIB_FIX)
    return obj


class OpenCVTracker:
    """An OpenCV tracker behind the package's ``init(image, box)`` / ``update(image) -> (box, ok)`` interface.

    ``cv::Rect`` is integer, so the initial box is rounded. On a reported failure OpenCV returns ``0,0,0,0``;
    the previous box is kept instead (one-pass protocol, no re-initialisation).
    """

    def __init__(self, name: str):
        self.name = name
        self._make = opencv_factory(name)
        self._tracker = None
        self.box = None

    def init(self, image: np.ndarray, box) -> None:
        x, y, w, h = (int(round(float(v))) for v in box)
        rect = (x, y, max(w, 1), max(h, 1))
        self._tracker = self._make()
        self._tracker.init(image, rect)
        self.box = np.asarray(rect, dtype=np.float64)
        self.init_box = self.box.copy()       # the box it was really given (track_frames records it)

    def update(self, image: np.ndarray) -> tuple[np.ndarray, bool]:
        ok, rect = self._tracker.update(image)
        if ok:
            self.box = np.asarray(rect, dtype=np.float64)
        return self.box.copy(), bool(ok)


# ----------------------------------------------------------------------------------------- measurement
def current_rss() -> int | None:
    """Resident set size of this process in bytes (Linux ``/proc/self/statm``); None where unavailable."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class TrackRun:
    boxes: np.ndarray         # N x 4, internal 0-based
    seconds: np.ndarray       # N: wall time of init (frame 0) and of each update
    ok: np.ndarray            # N bools: False where the tracker reported failure
    rss: np.ndarray           # N: RSS in bytes after each frame (-1 when not sampled or unavailable)


def track_frames(tracker, frames: SequenceType[np.ndarray], init_box, *, sample_rss: bool = True) -> TrackRun:
    """Init on ``frames[0]`` with ``init_box``, update on the rest (:func:`edcf_plugin.run.one_pass`: only the
    calls are timed). The tracker's ``update`` returns ``(box, score)`` (EDCF) or ``(box, ok)``
    (:class:`OpenCVTracker`); frame 0 gets the tracker's ``init_box`` attribute when it has one (the rounded box
    OpenCV got). With ``sample_rss``, the RSS is read after every frame, untimed."""
    from ..run import one_pass

    rss = np.full(len(frames), -1, dtype=np.int64)

    def sample(i, _frame, _box):
        rss[i] = current_rss() or -1

    run = one_pass(tracker, (frames[i] for i in range(len(frames))), init_box,   # by index: frames may be made
                   on_frame=sample if sample_rss else None)
    ok = np.array([score is not False for score in run.scores], dtype=bool)
    return TrackRun(run.boxes, np.asarray(run.seconds), ok, rss)


def rss_growth(rss: np.ndarray, warmup: int) -> float:
    """Relative growth of the RSS after ``warmup`` frames: max(rss[warmup:]) / rss[warmup] - 1."""
    rss = np.asarray(rss, dtype=np.float64)
    if warmup >= len(rss) or rss[warmup] <= 0:
        raise ValueError(f"need RSS samples past frame {warmup}, got {len(rss)}")
    return float(rss[warmup:].max() / rss[warmup] - 1.0)


def _instrument(tracker, sink: dict) -> None:
    """Time the network pieces of an EDCF tracker (instance attributes wrap the bound methods)."""
    net = tracker.net
    for attr in NET_PIECES:
        fn = getattr(net, attr)

        def timed(*a, _fn=fn, _key=attr, **k):
            t0 = time.perf_counter()
            out = _fn(*a, **k)
            sink[_key] = sink.get(_key, 0.0) + time.perf_counter() - t0
            return out
        object.__setattr__(net, attr, timed)


# ----------------------------------------------------------------------------------------------- worker
def _decode(paths: list[str]) -> tuple[list[np.ndarray], float]:
    from ..formats.sequences import read_image

    t0 = time.perf_counter()
    frames = [read_image(p) for p in paths]
    return frames, time.perf_counter() - t0


def worker(spec: dict) -> dict:
    """One tracker in this process over every sequence of ``spec`` (see :func:`run_job`); returns the raw result."""
    spawn = float(spec["spawn_time"])
    from ..process_setup import steady_allocator

    steady_allocator()          # every tracker, EDCF or OpenCV, with the allocator settings users' processes get
    import cv2

    cv2.setNumThreads(int(spec["threads"]))
    kind = spec["kind"]
    net_times: dict[str, float] = {}
    if kind == "edcf":
        import torch

        from ..run import TrackerSpec

        tracker = TrackerSpec(variant=spec["variant"], weights=spec.get("weights"), preset=spec["preset"],
                              device=spec.get("device", "cpu"), threads=int(spec["threads"])).build()
        _instrument(tracker, net_times)
    else:
        tracker = OpenCVTracker(spec["name"])
    first = spec["sequences"][0]
    warm, _ = _decode(first["frames"][:2])
    tracker.init(warm[0], first["init_box"])
    tracker.update(warm[-1])
    startup = time.time() - spawn
    net_times.clear()
    out = {"startup_s": startup, "sequences": {}, "threads": {"cv2": cv2.getNumThreads()}}
    if kind == "edcf":
        out["threads"]["torch"] = torch.get_num_threads()
    for seq in spec["sequences"]:
        frames, decode_s = _decode(seq["frames"])
        held = sum(f.nbytes for f in frames)
        staged = kind == "edcf" and spec.get("stage_profile", True)
        if staged:
            tracker.profile = {}
        run = track_frames(tracker, frames, seq["init_box"])
        valid = run.rss[run.rss > 0]
        failed = np.flatnonzero(~run.ok)
        out["sequences"][seq["name"]] = {
            "boxes": run.boxes.tolist(), "track_s": float(run.seconds.sum()), "init_s": float(run.seconds[0]),
            "decode_s": decode_s, "frames": len(frames),
            "peak_rss_mb": float(valid.max() - held) / 2 ** 20 if len(valid) else None,
            "failures": int(len(failed)), "first_failure": int(failed[0]) if len(failed) else None,
            "recovered": bool(len(failed) and run.ok[failed[0]:].any()),
            "first_update_unchanged": bool(len(frames) > 1 and run.ok[1]
                                           and np.allclose(run.boxes[1], run.boxes[0])),
            "profile": dict(tracker.profile) if staged else None,
        }
        del frames
    out["net_s"] = dict(net_times)
    try:
        import resource
        out["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB
    except ImportError:
        out["ru_maxrss_mb"] = None
    return out


def _worker_main(argv: list[str]) -> int:
    spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text())
    result = worker(spec)
    Path(out_path).write_text(json.dumps(result))
    return 0


def worker_env(threads: int, malloc_tuning: bool) -> dict:
    env = dict(os.environ)
    for key in THREAD_ENV:
        env[key] = str(threads)
    if not malloc_tuning:
        env["EDCF_NO_MALLOC_TUNING"] = "1"        # glibc's defaults (process_setup.py's settings off)
    return env


@functools.lru_cache(maxsize=None)
def package_code_sha256() -> str:
    """sha256 over this package's Python sources (relative paths and bytes, in path order): the code that makes a
    bench run's boxes, the OpenCV runs' loop included."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _library_version(kind: str) -> str | None:
    """The version of the library that tracks: torch for EDCF, OpenCV for its trackers."""
    if kind == "edcf":
        from importlib.metadata import PackageNotFoundError, version
        try:
            return "torch " + version("torch")
        except PackageNotFoundError:
            return None
    try:
        import cv2
    except ImportError:
        return None
    return "cv2 " + cv2.__version__


def job_identity(spec: dict, malloc_tuning: bool) -> dict:
    """What makes two tracker runs the same measurement: the job spec, the allocator setting, the content hash
    of the weights file (the bundled model's when the spec names none), and the code that tracks: this package's
    sources and torch's or OpenCV's version (a bench resumed after a change of the tracker reruns everything)."""
    from ..checkpoint import default_weights, file_sha256

    weights = spec.get("weights")
    if not weights and spec.get("kind") == "edcf":
        weights = str(default_weights(spec.get("variant") or "EDCF"))
    return {**spec, "malloc_tuning": malloc_tuning,
            "weights_sha256": file_sha256(weights) if weights and Path(weights).is_file() else None,
            "code_sha256": package_code_sha256(), "library": _library_version(spec.get("kind", ""))}


def finished_job(path: Path, identity: dict) -> dict | None:
    """The record stored at ``path`` by an earlier run of the same job (``--resume``): ``result``, ``load`` and
    ``git_revision``; None when there is none, it cannot be read, or it was made with another job identity."""
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("spec"), dict) or \
            _comparable(stored["spec"]) != _comparable(json.loads(json.dumps(identity))):
        return None
    return stored if isinstance(stored.get("result"), dict) else None


def _comparable(identity: dict) -> dict:
    """A job identity as ``--resume`` compares it: the weights by their content (the path is dropped when the
    sha256 is known), the frames by their resolved paths (``../shared/x`` and ``/abs/shared/x`` are one file)."""
    out = dict(identity)
    if out.get("weights_sha256"):
        out.pop("weights", None)
    out["sequences"] = [{**q, "frames": [os.path.realpath(f) for f in q.get("frames", [])]}
                        if isinstance(q, dict) else q for q in out.get("sequences") or []]
    return out


def run_job(spec: dict, env: dict, timeout: float, log: Path) -> dict:
    """Run :func:`worker` in a fresh ``python -m edcf_plugin.commands.bench --worker`` process; returns its result."""
    with tempfile.TemporaryDirectory(prefix="edcf-bench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        with open(log, "ab") as err:
            spec = dict(spec, spawn_time=time.time())
            spec_path.write_text(json.dumps(spec))
            try:
                proc = subprocess.run([sys.executable, "-m", "edcf_plugin.commands.bench", "--worker", str(spec_path),
                                       str(out_path)], env=env, stdout=err, stderr=err, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise EDCFError(f"{spec['name']} did not finish within --timeout {timeout:g} s (log: {log})") \
                    from None
        if proc.returncode != 0 or not out_path.is_file():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise EDCFError(f"{spec['name']} worker failed (exit {proc.returncode}): {' | '.join(tail)} "
                            f"(log: {log})")
        return json.loads(out_path.read_text())


def trax_startup(variant: str, weights: str | None, threads: int, image: Path, box, env: dict,
                 log: Path, timeout: float = 300.0) -> dict:
    """Start ``python -m edcf_plugin.trax`` and time the handshake and the first answer (to INITIALIZE)."""
    from trax.client import Client
    from trax.image import FileImage
    from trax.region import Rectangle

    cmd = [sys.executable, "-m", "edcf_plugin.trax", "--variant", variant, "--threads", str(threads)]
    if weights:
        cmd += ["--weights", str(Path(weights).resolve())]
    with open(log, "ab") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        try:
            # vot-trax 4.0.2's Client needs a logger (log=False fails in ctypes): discard the protocol log.
            client = Client(stream=(proc.stdin.fileno(), proc.stdout.fileno()), timeout=timeout,
                            log=lambda _message: None)
            hello = time.perf_counter() - t0
            client.initialize({"color": FileImage.create(str(image))},
                              [(Rectangle.create(*[float(v) for v in box]), {})], {})
            first = time.perf_counter() - t0
            client.quit()
            del client
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()
    return {"handshake_s": hello, "first_answer_s": first}


# ------------------------------------------------------------------------------------------ aggregation
def score_run(result: dict, groundtruth: dict[str, np.ndarray]):
    """Scores of one (tracker, run): mean OPE scores over sequences, FPS and per-sequence AUC."""
    from ..formats.metrics import mean_ope_scores, ope_scores

    per_seq, scores = {}, []
    frames = track_s = decode_s = 0.0
    for name, gt in groundtruth.items():
        r = result["sequences"][name]
        s = ope_scores(np.asarray(r["boxes"]), gt[:r["frames"]])
        scores.append(s)
        per_seq[name] = 100.0 * s.auc
        frames += r["frames"]
        track_s += r["track_s"]
        decode_s += r["decode_s"]
    mean = mean_ope_scores(scores)
    return {"auc": 100.0 * mean.auc, "op50": 100.0 * mean.op50, "dp20": 100.0 * mean.dp20,
            "norm_p20": 100.0 * mean.norm_p20, "fps": frames / max(track_s, 1e-12),
            "fps_e2e": frames / max(track_s + decode_s, 1e-12), "frames": int(frames), "per_sequence_auc": per_seq,
            "curves": {"success_curve": mean.success.tolist(), "precision_curve": mean.precision.tolist(),
                       "norm_precision_curve": mean.norm_precision.tolist()}}


def _median(values):
    vals = [v for v in values if v is not None]
    return float(np.median(vals)) if vals else None


def aggregate(name: str, results: list[dict], groundtruth: dict[str, np.ndarray]) -> dict:
    """Medians over runs, FPS spread, stage breakdown (EDCF), failure statistics and run-to-run determinism."""
    runs = [score_run(r, groundtruth) for r in results]
    keys = ("auc", "op50", "dp20", "norm_p20", "fps", "fps_e2e")
    out = {k: _median([r[k] for r in runs]) for k in keys}
    out["runs"] = len(runs)
    out["frames"] = runs[0]["frames"]
    out["fps_min"] = min(r["fps"] for r in runs)
    out["fps_max"] = max(r["fps"] for r in runs)
    out["auc_runs"] = [r["auc"] for r in runs]
    out["auc_mean"] = float(np.mean(out["auc_runs"]))
    out["auc_sd"] = float(np.std(out["auc_runs"], ddof=1)) if len(runs) > 1 else None
    out["fps_runs"] = [r["fps"] for r in runs]
    out["startup_s"] = _median([r["startup_s"] for r in results])
    out["peak_rss_mb"] = _median([max((s["peak_rss_mb"] or 0.0) for s in r["sequences"].values())
                                  for r in results])
    out["per_sequence_auc"] = {s: _median([r["per_sequence_auc"][s] for r in runs]) for s in groundtruth}
    # Curves of the run whose AUC is the median (the plotted line matches the tabled figure).
    order = sorted(range(len(runs)), key=lambda i: runs[i]["auc"])
    out.update(runs[order[(len(order) - 1) // 2]]["curves"])
    first = results[0]["sequences"]
    out["failures"] = {s: {k: first[s][k] for k in ("failures", "first_failure", "recovered",
                                                    "first_update_unchanged")} for s in groundtruth}
    out["identical_across_runs"] = None if len(results) < 2 else all(
        np.array_equal(np.asarray(r["sequences"][s]["boxes"]), np.asarray(first[s]["boxes"]))
        for r in results[1:] for s in groundtruth)
    if first[next(iter(groundtruth))].get("profile") is not None:
        out["stages_ms"] = _stage_breakdown(results)
    return out


def jitter_offset(run: int, pixels: int) -> tuple[int, int]:
    """Whole-pixel offset of the initial box of run ``run`` (0-based) for ``--init-jitter pixels``."""
    dx, dy = JITTER_PATTERN[run % len(JITTER_PATTERN)]
    return dx * pixels, dy * pixels


def parse_pairs(text: str | None, names: list[str]) -> list[tuple[str, str]]:
    """``--pairs A:B,C:D`` -> [(A, B), (C, D)] (tracker names as the report spells them); None -> []. """
    if not text:
        return []
    canon = {n.lower(): n for n in names}
    pairs = []
    for item in text.split(","):
        parts = [canonical_name(x) for x in item.split(":")]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"--pairs takes A:B[,C:D...], got {item!r}")
        missing = [x for x in parts if x.lower() not in canon]
        if missing:
            raise ConfigError(f"--pairs names {', '.join(missing)}, not in --trackers ({', '.join(names)})")
        pairs.append((canon[parts[0].lower()], canon[parts[1].lower()]))
    return pairs


def canonical_name(text: str) -> str:
    text = text.strip()
    return parse_tracker(text).name if text else ""


def paired_difference(a: dict, b: dict) -> dict:
    """AUC of ``a`` minus AUC of ``b`` run by run over the runs both have (run r: the same initial box): mean,
    standard deviation, standard error of the mean, min and max."""
    n = min(len(a["auc_runs"]), len(b["auc_runs"]))
    d = np.asarray(a["auc_runs"][:n]) - np.asarray(b["auc_runs"][:n])
    sd = float(np.std(d, ddof=1)) if n > 1 else None
    return {"runs": n, "diffs": d.tolist(), "mean": float(d.mean()), "sd": sd,
            "se": sd / np.sqrt(n) if sd is not None else None, "min": float(d.min()), "max": float(d.max())}


def _stage_breakdown(results: list[dict]) -> dict:
    """Median over runs of milliseconds per frame of each stage; ``other`` is the untimed rest of the frame."""
    per_run = []
    for r in results:
        frames = sum(s["frames"] for s in r["sequences"].values())
        total = sum(s["track_s"] for s in r["sequences"].values())
        row = {st: 1e3 * sum(s["profile"].get(st, 0.0) for s in r["sequences"].values()) / frames
               for st in EDCF_STAGES}
        row["init"] = 1e3 * sum(s["init_s"] for s in r["sequences"].values()) / frames
        row["total"] = 1e3 * total / frames
        row["other"] = row["total"] - sum(row[st] for st in (*EDCF_STAGES, "init"))
        for piece in NET_PIECES:
            row["net:" + piece] = 1e3 * r["net_s"].get(piece, 0.0) / frames
        per_run.append(row)
    return {k: _median([row[k] for row in per_run]) for k in per_run[0]}


# --------------------------------------------------------------------------------------------- reports
def _f(x, d=1) -> str:
    return "–" if x is None else f"{x:.{d}f}"


def markdown_report(report: dict) -> str:
    trackers = report["trackers"]
    order = list(trackers)
    jitter = bool(report.get("init_jitter"))
    cap = f" (at most {report['max_frames']} per sequence)" if report["max_frames"] else ""
    m, load = report["machine"], report["load_average_1min"]
    lines = [f"`{report['command']}` — {report['date_utc']}, {m['cpu']} ({m['logical_cpus']} logical CPUs), "
             f"torch {m.get('torch', '–')}, cv2 {m['cv2']}"
             + (f"; EDCF on {report.get('device')} ({m['cuda_device']}, CUDA {m.get('cuda')})"
                if str(report.get("device", "cpu")).startswith("cuda") and m.get("cuda_device") else "")
             + f"; 1-min load average during the run: median "
             f"{load['median']:.2f}, max {load['max']:.2f}; wall {report['wall_s'] / 60:.1f} min"
             + (f" ({report['reused_runs']} of {report['total_runs']} tracker runs reused from an earlier bench "
                f"in this folder, --resume: the load figures are theirs where stored, the wall is this call's)"
                if report.get("reused_runs") else "") + ".", "",
             f"Sequences: {len(report['sequences'])} ({report['source']}), {report['frames']} frames{cap}; "
             f"threads: {report['threads']}; figures: medians over the stated runs"
             + ("; run r starts from the first ground-truth box moved by (dx, dy) = "
                + ", ".join(f"run {r}: {tuple(o)}" for r, o in enumerate(report["init_offsets"], 1))
                + " px (AUC mean ± SD over these starts in its own column)" if jitter else "") + ".", "",
             "| tracker | runs | AUC % | " + ("AUC mean ± SD | " if jitter else "") + "OP@0.5 % | DP@20 % | "
             "tracker FPS (min–max) | end-to-end FPS | start-up s | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if jitter else "")]
    for t in order:
        r = trackers[t]
        spread = f"{_f(r['auc_mean'])} ± {_f(r['auc_sd'])} | " if jitter else ""
        lines.append(f"| {t} | {r['runs']} | {_f(r['auc'])} | {spread}{_f(r['op50'])} | {_f(r['dp20'])} | "
                     f"{_f(r['fps'])} ({_f(r['fps_min'])}–{_f(r['fps_max'])}) | {_f(r['fps_e2e'])} | "
                     f"{_f(r['startup_s'], 2)} | {_f(r['peak_rss_mb'], 0)} |")
    if report.get("pairs"):
        lines += ["", "Paired AUC differences (run r of both trackers started from the same box): mean over runs, "
                  "standard error of that mean, and the range of the per-run differences:", "",
                  "| A − B | runs | mean Δ AUC | SE | min | max |", "|---|---|---|---|---|---|"]
        for p in report["pairs"]:
            lines.append(f"| {p['a']} − {p['b']} | {p['runs']} | {p['mean']:+.2f} | {_f(p['se'], 2)} | "
                         f"{p['min']:+.1f} | {p['max']:+.1f} |")
    lines += ["", "Start-up: process start to the end of the first tracked frame (imports, model load, init, one "
              "update). Peak RSS: while tracking, the pre-decoded frames subtracted."]
    staged = [t for t in order if "stages_ms" in trackers[t]]
    if staged:
        cols = [*EDCF_STAGES, "init", "other", "total"]
        lines += ["", "EDCF per-stage time, ms per frame (median over runs; init amortised over the frames):", "",
                  "| tracker | " + " | ".join(cols) + " | " + " | ".join(NET_PIECES.values()) + " |",
                  "|---|" + "---|" * (len(cols) + len(NET_PIECES))]
        for t in staged:
            s = trackers[t]["stages_ms"]
            lines.append(f"| {t} | " + " | ".join(_f(s[c], 2) for c in cols) + " | "
                         + " | ".join(_f(s['net:' + p], 2) for p in NET_PIECES) + " |")
        lines += ["", "Stages nest the network pieces: conv1 and the fine branch run in `encoder` (search) and "
                  "in `cf_update`/`init` (CF learning); the semantic trunk in `encoder` and `init`."]
    if report.get("trax_startup"):
        lines += ["", "TraX server start-up (`python -m edcf_plugin.trax`, median of "
                  f"{report['trax_startup']['runs']}): handshake {_f(report['trax_startup']['handshake_s'], 2)} s, "
                  f"first answer (INITIALIZE) {_f(report['trax_startup']['first_answer_s'], 2)} s "
                  f"({report['trax_startup']['variant']}, reference config)."]
    lines += ["", "Tracker behaviour (first run): reported failures, first failure frame, recovery:", ""]
    for t in order:
        f = trackers[t]["failures"]
        failed = {s: v for s, v in f.items() if v["failures"]}
        unchanged = sum(v["first_update_unchanged"] for v in f.values())
        note = (f"failure reported on {len(failed)}/{len(f)} sequences"
                + (f" (frames failed: {sum(v['failures'] for v in failed.values())}, recovered on "
                   f"{sum(v['recovered'] for v in failed.values())})" if failed else "")
                + f"; first update returned the init box on {unchanged}/{len(f)}; "
                + ("runs started from different boxes" if jitter else
                   {None: "one run", True: "identical boxes in every run",
                    False: "boxes differ between runs"}[trackers[t]["identical_across_runs"]]))
        lines.append(f"- {t}: {note}")
    lines += ["", "Per-sequence AUC % (median over runs):", "",
              "| sequence | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
    for s in report["sequences"]:
        lines.append(f"| {s} | " + " | ".join(_f(trackers[t]['per_sequence_auc'][s]) for t in order) + " |")
    return "\n".join(lines) + "\n"


def opencv_provenance() -> dict:
    """Installed OpenCV distributions and the one whose ``cv2`` binary is on disk (they share the ``cv2``
    folder, so the last one installed wins; matched by the binary's size in each distribution's RECORD)."""
    from importlib import metadata

    import cv2

    folder = Path(cv2.__file__).parent
    binaries = sorted(folder.glob("cv2*.so")) + sorted(folder.glob("cv2*.pyd"))
    size = binaries[0].stat().st_size if binaries else None
    dists, provider = [], None
    for d in metadata.distributions():
        name = d.metadata["Name"] or ""
        if not name.lower().startswith("opencv"):
            continue
        dists.append(f"{name} {d.version}")
        for f in d.files or []:
            if f.parent.name == "cv2" and f.name.startswith("cv2") and f.size is not None and f.size == size:
                provider = f"{name} {d.version}"
    available = []
    for name in OPENCV_TRACKERS:
        try:
            opencv_factory(name)
            available.append(name)
        except ConfigError:
            pass
    return {"opencv_distributions": sorted(dists), "cv2_binary_from": provider, "opencv_trackers": available}


def machine_info(threads: int, malloc_tuning: bool) -> dict:
    import cv2

    features = cpu_features()
    info = {"cpu": features["cpu"], "cpu_amx": features["amx"], "cpu_avx512_bf16": features["avx512_bf16"],
            "cpu_capability": features["capability"], "logical_cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "cv2": cv2.__version__, **opencv_provenance(),
            "threads": threads, "malloc_tuning": malloc_tuning}
    try:
        import torch
        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
            info["cuda"] = torch.version.cuda
    except ImportError:
        pass
    return info


# ------------------------------------------------------------------------------------------------ CLI
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sequences", nargs="*", help="OTB-style sequence folders (default: --split of --root)")
    p.add_argument("--root", default=None,
                   help=f"folder of OTB-style sequences with index.json (default: ${ROOT_ENV})")
    p.add_argument("--split", default="bench", help="index.json split to run (default: bench)")
    p.add_argument("--trackers", default=",".join(DEFAULT_TRACKERS),
                   help="comma-separated: EDCF-reference, EDCF-realtime, EDCF-fast, a variant (SiamFC, EDSiam, "
                        "CACFNet, CACFNet+; -PRESET optional), CSRT, KCF, MOSSE, MIL (default: all of them)")
    p.add_argument("--runs", type=int, default=3, help="runs per tracker; figures are medians (default 3)")
    p.add_argument("--variant-runs", type=int, default=None,
                   help="runs for the ablation variants SiamFC/EDSiam/CACFNet/CACFNet+ (default: --runs)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads of every tracker process (default 2)")
    p.add_argument("--max-frames", type=int, default=0, help="at most this many frames per sequence (0: all)")
    p.add_argument("--weights", default=None, help="EDCF checkpoint (default: the bundled model)")
    p.add_argument("--device", default="cpu", help="torch device of the EDCF trackers (default cpu)")
    p.add_argument("--startup-runs", type=int, default=3,
                   help="TraX server start-up measurements (needs vot-trax; 0: skip; default 3)")
    p.add_argument("--no-malloc-tuning", action="store_true",
                   help="leave glibc's allocator at its defaults in tracker processes (EDCF_NO_MALLOC_TUNING=1)")
    p.add_argument("--stage-profile", choices=["auto", "on", "off"], default="auto",
                   help="EDCF per-stage timers (they synchronise the GPU at every stage, which slows a CUDA "
                        "tracker): auto = on for the CPU, off for CUDA (default auto)")
    p.add_argument("--init-jitter", type=int, default=0, metavar="PX",
                   help="move run r's initial box by PX whole pixels in a fixed pattern (run 1 unmoved, then "
                        "right, down, left, up, diagonals), the same for every tracker: mean AUC over starts and "
                        "paired differences (default 0: every run from the ground-truth box)")
    p.add_argument("--pairs", default=None, metavar="A:B[,C:D]",
                   help="report AUC(A) - AUC(B) run by run (mean, standard error); with --init-jitter the runs "
                        "share their starts (default: every other tracker against the first)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per tracker process")
    p.add_argument("--resume", action="store_true",
                   help="reuse the runs an earlier, interrupted or shorter bench left in --out (jobs/) when their "
                        "tracker, weights, sequences, start, threads and device are the same; run the rest")
    p.add_argument("--out", default=None, help="output folder (default: runs/bench/<UTC time>)")


def command_line(args: argparse.Namespace) -> str:
    """The ``edcf bench`` command with every option spelled out (defaults included)."""
    parts = ["edcf", "bench", *args.sequences]
    for key, value in vars(args).items():
        if key in ("sequences", "command", "_module") or value is None or value is False:
            continue
        parts += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return " ".join(parts)


def _load_sequences(args) -> tuple[list, str]:
    from ..formats.sequences import list_split, load_sequence

    if args.sequences:
        folders, source = [Path(s) for s in args.sequences], "given folders"
    else:
        root = Path(args.root) if args.root else default_root()
        if root is None:
            raise InputError(f"no sequences: name sequence folders, or a dataset root with --root DIR or "
                             f"${ROOT_ENV}")
        if not root.is_dir():
            raise InputError(f"dataset root not found: {root}" + ("" if args.root else f" (from ${ROOT_ENV})"))
        folders, source = list_split(root, args.split), f"split {args.split!r} of {root}"
    seqs = []
    for folder in folders:
        seq = load_sequence(folder)
        if seq.groundtruth is None:
            raise InputError(f"{folder} has no groundtruth_rect.txt (the benchmark needs ground truth)")
        if not np.all(np.isfinite(seq.groundtruth[0])) or np.any(seq.groundtruth[0][2:] <= 0):
            raise InputError(f"{folder}: the first ground-truth box (the initial box) is missing or empty")
        if seq.video is not None:
            raise InputError(f"{folder}: videos are not supported by the benchmark; give frame folders")
        if args.max_frames:
            seq.frames = seq.frames[:args.max_frames]
        if len(seq.frames) < 2:
            raise InputError(f"{folder} has fewer than 2 frames")
        seqs.append(seq)
    names = [s.name for s in seqs]
    if len(set(names)) != len(names):
        raise InputError(f"sequence names must be unique, got {names}")
    return seqs, source


def run(args: argparse.Namespace) -> int:
    if args.runs < 1 or (args.variant_runs is not None and args.variant_runs < 1) or args.threads < 1:
        raise ConfigError("--runs, --variant-runs and --threads must be positive")
    if args.init_jitter < 0:
        raise ConfigError(f"--init-jitter must be >= 0 pixels, got {args.init_jitter}")
    specs = [parse_tracker(t) for t in args.trackers.split(",") if t.strip()]
    if not specs:
        raise ConfigError("--trackers names no tracker")
    if len({s.name for s in specs}) != len(specs):
        raise ConfigError(f"--trackers names a tracker twice: {args.trackers}")
    names = [s.name for s in specs]
    pairs = parse_pairs(args.pairs, names) if args.pairs else [(n, names[0]) for n in names[1:]]
    for s in specs:
        if s.kind == "opencv":
            opencv_factory(s.name)
        if s.weights:
            from ..checkpoint import load_checkpoint
            load_checkpoint(s.weights)             # a missing or foreign file fails now, not after other runs
    seqs, source = _load_sequences(args)
    variant_runs = args.variant_runs or args.runs
    runs_of = {s.name: (args.runs if s.kind == "opencv" or s.variant == "EDCF" else variant_runs) for s in specs}
    if args.resume and not args.out:
        raise ConfigError("--resume needs --out: the folder of the bench to continue")
    stamp = datetime.datetime.now(datetime.timezone.utc)
    out = Path(args.out) if args.out else Path("runs") / "bench" / stamp.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    log = out / "workers.log"
    env = worker_env(args.threads, not args.no_malloc_tuning)
    stage_profile = args.stage_profile == "on" or (args.stage_profile == "auto"
                                                   and not str(args.device).startswith("cuda"))
    gt = {s.name: s.groundtruth[:len(s.frames)] for s in seqs}
    seq_specs = [{"name": s.name, "frames": [str(p) for p in s.frames], "init_box": s.groundtruth[0].tolist()}
                 for s in seqs]

    from ..checkpoint import git_revision

    revision = git_revision()
    raw: dict[str, list] = {s.name: [] for s in specs}
    reused = 0
    loads = []
    jobs = [(r, s) for r in range(max(runs_of.values())) for s in specs if r < runs_of[s.name]]
    t_all = time.perf_counter()
    for k, (r, s) in enumerate(jobs, 1):
        loads.append(os.getloadavg()[0])
        dx, dy = jitter_offset(r, args.init_jitter)
        moved = [{**q, "init_box": [q["init_box"][0] + dx, q["init_box"][1] + dy, *q["init_box"][2:]]}
                 for q in seq_specs]
        order = moved[r % len(moved):] + moved[:r % len(moved)]
        spec = {"name": s.name, "kind": s.kind, "variant": s.variant, "preset": s.preset,
                "weights": s.weights or args.weights,
                "device": args.device, "threads": args.threads, "sequences": order,
                "stage_profile": stage_profile}
        job_file = out / "jobs" / f"run{r + 1}" / f"{s.name}.json"
        identity = job_identity(spec, not args.no_malloc_tuning)
        done_job = finished_job(job_file, identity) if args.resume else None
        if done_job is not None:
            raw[s.name].append(done_job["result"])
            reused += 1
            loads[-1] = done_job.get("load", loads[-1])
            other = done_job.get("git_revision") not in (None, revision)
            print(f"[{k}/{len(jobs)}] {s.name} run {r + 1}: reused ({job_file}"
                  + (f", made at revision {done_job['git_revision']}" if other else "") + ")", flush=True)
            continue
        t0 = time.perf_counter()
        result = run_job(spec, env, args.timeout, log)
        write_output(job_file, json.dumps({"spec": identity, "result": result, "load": loads[-1],
                                           "git_revision": revision}), what="a finished bench run")
        raw[s.name].append(result)
        done = result["sequences"].values()
        fps = sum(q["frames"] for q in done) / max(sum(q["track_s"] for q in done), 1e-12)
        print(f"[{k}/{len(jobs)}] {s.name} run {r + 1}: {fps:.1f} FPS (tracker), {time.perf_counter() - t0:.0f} s "
              f"wall, load {loads[-1]:.2f}", flush=True)

    trax_info = None
    if args.startup_runs > 0 and any(s.kind == "edcf" for s in specs):
        try:
            import trax  # noqa: F401
        except ImportError:
            print("edcf bench: TraX start-up not measured (vot-trax is not installed: pip install "
                  "'edcf-plugin[vot]')", file=sys.stderr)
        else:
            variant = next(s.variant for s in specs if s.kind == "edcf")
            meas = [trax_startup(variant, args.weights, args.threads, seqs[0].frames[0], seqs[0].groundtruth[0],
                                 env, log) for _ in range(args.startup_runs)]
            trax_info = {"variant": variant, "runs": len(meas),
                         "handshake_s": _median([m["handshake_s"] for m in meas]),
                         "first_answer_s": _median([m["first_answer_s"] for m in meas]), "all": meas}
    loads.append(os.getloadavg()[0])

    from ..boxes import to_one_based
    from ..checkpoint import DEFAULT_WEIGHTS, file_sha256, git_revision
    from .track import write_boxes

    weights = Path(args.weights) if args.weights else DEFAULT_WEIGHTS
    report = {
        "command": command_line(args),
        "date_utc": stamp.isoformat(timespec="seconds"), "wall_s": time.perf_counter() - t_all,
        "machine": machine_info(args.threads, not args.no_malloc_tuning),
        "load_average_1min": {"median": _median(loads), "max": max(loads), "samples": loads},
        "git_revision": git_revision(), "weights": str(weights),
        "weights_sha256": file_sha256(weights) if weights.is_file() else None,
        "source": source, "source_short": args.split if not args.sequences else "given sequences",
        "sequences": [s.name for s in seqs], "frames": int(sum(len(s.frames) for s in seqs)),
        "max_frames": args.max_frames, "threads": args.threads, "device": args.device, "trax_startup": trax_info,
        "init_jitter": args.init_jitter, "reused_runs": reused, "total_runs": len(jobs),
        "init_offsets": [jitter_offset(r, args.init_jitter) for r in range(max(runs_of.values()))],
        "trackers": {s.name: aggregate(s.name, raw[s.name], gt) for s in specs},
    }
    report["pairs"] = [{"a": a, "b": b, **paired_difference(report["trackers"][a], report["trackers"][b])}
                       for a, b in pairs]
    report["trackers"] = {k: {**v, "spec": {"kind": s.kind, "variant": s.variant, "preset": s.preset,
                                             "weights": s.weights,
                                             "weights_sha256": file_sha256(s.weights) if s.weights else None}}
                          for s in specs for k, v in [(s.name, report["trackers"][s.name])]}
    table = markdown_report(report)
    write_output(out / "table.md", table, what="the bench table")
    for name, results in raw.items():            # boxes as OTB result files (1-based), then out of the JSON
        for r, result in enumerate(results, 1):
            for seq, res in result["sequences"].items():
                write_boxes(out / "boxes" / f"run{r}" / name / f"{seq}.txt",
                            to_one_based(np.asarray(res.pop("boxes"))))
    write_output(out / "results.json", json.dumps({**report, "raw": raw}, indent=1), what="the bench results")
    try:
        plots = bench_plots(report, out)
    except EDCFError as exc:
        plots = []
        print(f"edcf bench: plots skipped: {exc}", file=sys.stderr)
    print(table)
    print(f"wrote {out / 'table.md'}, {out / 'results.json'}" + "".join(f", {p}" for p in plots))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        sys.exit(_worker_main(sys.argv[2:]))
    from ..cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
