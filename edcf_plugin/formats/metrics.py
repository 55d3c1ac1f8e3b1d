"""Tracking metrics with pysot-toolkit's definitions: OTB one-pass (OPE) and VOT reset-based (A/R, EAO).

Boxes are ``[x, y, w, h]`` rows. Every OPE metric is invariant to a common shift of prediction and ground
truth, so 0-based and 1-based pairs give the same numbers; VOT overlaps are clipped to the image, so they
take the boxes in the image's coordinates.

OPE (pysot-toolkit ``OPEBenchmark`` / ``success_overlap`` / ``success_error``), per sequence:

* success curve: fraction of frames whose IoU is **strictly above** each of the 21 thresholds
  ``np.arange(0, 1.05, 0.05)``; AUC is the curve's mean. The denominator is *every* frame: a frame whose
  ground truth has a non-positive (or NaN) size counts as a miss.
* precision curve: fraction of frames whose centre distance is **at most** 0..50 px. pysot-toolkit leaves
  out frames whose ground-truth centre is not strictly positive and counts them as *hits* (distance -1);
  we reproduce this, so a NaN ground-truth frame is a hit for precision and a miss for success.
* normalised precision: the same on centres divided by the ground-truth width/height (thresholds
  0..0.5), read at 0.2 (pysot-toolkit's ``eval_norm_precision``).
* LaSOT's ``absent`` flags (1 = target visible): pysot-toolkit keeps only flagged frames but still divides by
  the full frame count, so invisible frames count as misses; pass them as ``present``.

Whole-dataset OPE scores average the per-sequence curves (every sequence weighs the same), as
pysot-toolkit and the got10k toolkit do. Other toolkits differ: the got10k toolkit uses ``np.linspace``
thresholds and a ``+1`` in its IoU for OTB; the OTB MATLAB toolkit averages frames, not sequences.

VOT (pysot-toolkit ``AccuracyRobustnessBenchmark`` / ``EAOBenchmark``), on trajectories that mix boxes or
polygons with the codes ``[1]`` (initialised), ``[2]`` (failure) and ``[0]`` (skipped):

* overlap: area of intersection over area of union of the two regions after clipping both to the image
  (``bounds``). pysot-toolkit rasterises both polygons on the pixel grid (its C ``region`` module); we
  intersect the polygons exactly, so our accuracies can differ from pysot-toolkit's in the third decimal.
* accuracy: mean overlap over frames that are not codes and not within the 10 frames that start at each
  (re-)initialisation (burn-in); pooled over all frames of all sequences for the dataset.
* robustness: failures per 100 frames, ``100 * failures / frames`` (pysot-toolkit's ``show_result``;
  the VOT toolkit's own robustness is different); lost number: the failure count.
* EAO: pysot-toolkit's fragment scheme, see :func:`expected_average_overlap`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..boxes import center, iou

#: 21 IoU thresholds of the OTB success plot, exactly as pysot-toolkit builds them.
SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)
#: 0..50 pixel thresholds of the OTB precision plot.
PRECISION_THRESHOLDS = np.arange(0, 51, 1)
#: 0..0.5 thresholds of the normalised precision plot (centre error / ground-truth size).
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, 1) / 100
#: Index of the reported point on the precision (20 px) and normalised precision (0.2) curves.
REPORT_INDEX = 20

#: EAO sequence-length ranges (low, high) per VOT edition, pysot-toolkit's ``EAOBenchmark`` values.
EAO_RANGES = {"VOT2016": (108, 371), "VOT2017": (100, 356), "VOT2018": (100, 356), "VOT2019": (46, 291)}
#: Frames after a failure before the tracker is re-initialised (VOT reset protocol).
VOT_SKIP = 5
#: Frames from each (re-)initialisation left out of the accuracy (VOT burn-in).
VOT_BURNIN = 10


# --------------------------------------------------------------------------------------------- OPE

def _as_rows(a: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{what} must be an N x 4 array of x,y,w,h rows, got shape {arr.shape}")
    return arr


def _pair(pred: np.ndarray, gt: np.ndarray, present: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Check shapes, apply LaSOT-style ``present`` flags; return (pred, gt, n_frames before filtering)."""
    pred = _as_rows(pred, "prediction")
    gt = _as_rows(gt, "ground truth")
    if len(pred) != len(gt):
        raise ValueError(f"prediction has {len(pred)} rows, ground truth {len(gt)}")
    n = len(gt)
    if present is not None:
        keep = np.asarray(present).reshape(-1) == 1
        if len(keep) != n:
            raise ValueError(f"present flags have {len(keep)} entries for {n} frames")
        pred, gt = pred[keep], gt[keep]
    return pred, gt, n


def frame_ious(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame IoU clipped to [0, 1]; -1 where the ground truth has a non-positive/NaN size (a miss)."""
    pred = _as_rows(pred, "prediction")
    gt = _as_rows(gt, "ground truth")
    out = -np.ones(len(gt))
    ok = (gt[:, 2] > 0) & (gt[:, 3] > 0)
    out[ok] = np.clip(iou(pred[ok], gt[ok]), 0.0, 1.0)  # NaN (bad prediction) stays NaN: never a hit
    return out


def _pysot_center(boxes: np.ndarray) -> np.ndarray:
    # pysot-toolkit's centre x + (w - 1) / 2; the -1/2 cancels in every distance, it only matters for the
    # "centre > 0" validity test below.
    return boxes[:, :2] + (boxes[:, 2:] - 1.0) / 2.0


def center_distances(pred: np.ndarray, gt: np.ndarray, normalized: bool = False) -> np.ndarray:
    """Per-frame centre distance (px, or in units of the ground-truth size when ``normalized``).

    -1 where pysot-toolkit skips the frame (a ground-truth centre coordinate not strictly positive,
    NaN included); such frames count as hits at every threshold, as in pysot-toolkit.
    """
    pred = _as_rows(pred, "prediction")
    gt = _as_rows(gt, "ground truth")
    gc, pc = _pysot_center(gt), _pysot_center(pred)
    if normalized:
        gc = gc / (gt[:, 2:] + 1e-16)
        pc = pc / (gt[:, 2:] + 1e-16)
    out = -np.ones(len(gt))
    with np.errstate(invalid="ignore"):
        ok = np.all(gc > 0, axis=1)
    out[ok] = np.sqrt(((gc[ok] - pc[ok]) ** 2).sum(axis=1))
    return out


def success_curve(pred: np.ndarray, gt: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Fraction of frames whose IoU is strictly above each of :data:`SUCCESS_THRESHOLDS`."""
    pred, gt, n = _pair(pred, gt, present)
    if n == 0:
        return np.zeros(len(SUCCESS_THRESHOLDS))
    ov = frame_ious(pred, gt)
    return np.array([np.sum(ov > t) / n for t in SUCCESS_THRESHOLDS])


def center_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean centre distances in pixels, only frames whose ground truth has a positive size."""
    pred = _as_rows(pred, "prediction")
    gt = _as_rows(gt, "ground truth")
    ok = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    d = center(pred[ok]) - center(gt[ok])
    return np.sqrt((d ** 2).sum(axis=1))


def precision_curve(pred: np.ndarray, gt: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Fraction of frames whose centre error is at most each of :data:`PRECISION_THRESHOLDS` pixels."""
    pred, gt, n = _pair(pred, gt, present)
    if n == 0:
        return np.zeros(len(PRECISION_THRESHOLDS))
    d = center_distances(pred, gt)
    return np.array([np.sum(d <= t) / n for t in PRECISION_THRESHOLDS])


def norm_precision_curve(pred: np.ndarray, gt: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Like :func:`precision_curve` on size-normalised centres, thresholds :data:`NORM_PRECISION_THRESHOLDS`."""
    pred, gt, n = _pair(pred, gt, present)
    if n == 0:
        return np.zeros(len(NORM_PRECISION_THRESHOLDS))
    d = center_distances(pred, gt, normalized=True)
    return np.array([np.sum(d <= t) / n for t in NORM_PRECISION_THRESHOLDS])


@dataclass
class OPEScores:
    """One sequence's (or, averaged, one dataset's) OPE curves; scalar scores as fractions 0..1."""
    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    op50: float

    @property
    def auc(self) -> float:
        return float(np.mean(self.success))

    @property
    def dp20(self) -> float:
        return float(self.precision[REPORT_INDEX])

    @property
    def norm_p20(self) -> float:
        return float(self.norm_precision[REPORT_INDEX])

    def as_percent(self) -> dict[str, float]:
        return {"auc": 100.0 * self.auc, "op50": 100.0 * self.op50, "dp20": 100.0 * self.dp20,
                "norm_p20": 100.0 * self.norm_p20}


def ope_scores(pred: np.ndarray, gt: np.ndarray, present: np.ndarray | None = None) -> OPEScores:
    """All OPE curves of one sequence. ``op50`` is the fraction of frames with IoU > 0.5 (all frames)."""
    p, g, n = _pair(pred, gt, present)
    op50 = float(np.sum(frame_ious(p, g) > 0.5) / n) if n else 0.0
    return OPEScores(success_curve(pred, gt, present), precision_curve(pred, gt, present),
                     norm_precision_curve(pred, gt, present), op50)


def mean_ope_scores(per_sequence: Sequence[OPEScores]) -> OPEScores:
    """Dataset scores: every curve averaged over sequences (each sequence weighs the same)."""
    if not per_sequence:
        raise ValueError("no sequences to average")
    return OPEScores(np.mean([s.success for s in per_sequence], axis=0),
                     np.mean([s.precision for s in per_sequence], axis=0),
                     np.mean([s.norm_precision for s in per_sequence], axis=0),
                     float(np.mean([s.op50 for s in per_sequence])))


def otb_summary(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """``auc`` (mean of the success curve), ``op50`` (IoU > 0.5) and ``dp20`` (centre error <= 20 px), percent."""
    s = ope_scores(pred, gt).as_percent()
    return {"auc": s["auc"], "op50": s["op50"], "dp20": s["dp20"]}


# --------------------------------------------------------------------------------------------- VOT

def _polygon_points(region: Sequence[float]) -> list[tuple[float, float]]:
    r = [float(v) for v in region]
    if len(r) == 4:
        x, y, w, h = r
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    if len(r) < 6 or len(r) % 2:
        raise ValueError(f"a region needs 4 (x,y,w,h) or an even number >= 6 of values, got {len(r)}")
    return list(zip(r[0::2], r[1::2]))


def _signed_area(p: list[tuple[float, float]]) -> float:
    n = len(p)
    if n < 3:
        return 0.0
    return 0.5 * sum(p[i][0] * p[(i + 1) % n][1] - p[(i + 1) % n][0] * p[i][1] for i in range(n))


def _is_convex(p: list[tuple[float, float]]) -> bool:
    n, pos, neg = len(p), False, False
    for i in range(n):
        (ax, ay), (bx, by), (cx, cy) = p[i], p[(i + 1) % n], p[(i + 2) % n]
        cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
        pos |= cross > 1e-12
        neg |= cross < -1e-12
    return not (pos and neg)


def _clip(subject: list[tuple[float, float]], clipper: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: ``subject`` (any simple polygon) clipped by the convex ``clipper``."""
    if _signed_area(clipper) < 0:
        clipper = clipper[::-1]
    out = list(subject)
    n = len(clipper)
    for i in range(n):
        if not out:
            break
        ax, ay = clipper[i]
        bx, by = clipper[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        pts, out = out, []
        px, py = pts[-1]
        sp = ex * (py - ay) - ey * (px - ax)        # > 0: left of a->b, inside a counter-clockwise clipper
        for cx, cy in pts:
            sc = ex * (cy - ay) - ey * (cx - ax)
            if sc >= 0:
                if sp < 0:
                    t = sp / (sp - sc)
                    out.append((px + t * (cx - px), py + t * (cy - py)))
                out.append((cx, cy))
            elif sp >= 0:
                t = sp / (sp - sc)
                out.append((px + t * (cx - px), py + t * (cy - py)))
            px, py, sp = cx, cy, sc
    return out


def _intersection_area(a: list, b: list) -> float:
    if _is_convex(b):
        return abs(_signed_area(_clip(a, b)))
    if _is_convex(a):
        return abs(_signed_area(_clip(b, a)))
    # Neither is convex: signed fan triangulations, 1_A = sum_i s_i 1_Ti, so |A n B| = sum s_i s_j |Ti n Uj|.
    total = 0.0
    for i in range(1, len(a) - 1):
        ti = [a[0], a[i], a[i + 1]]
        si = math.copysign(1.0, _signed_area(ti)) if _signed_area(ti) else 0.0
        for j in range(1, len(b) - 1):
            uj = [b[0], b[j], b[j + 1]]
            sj = math.copysign(1.0, _signed_area(uj)) if _signed_area(uj) else 0.0
            if si and sj:
                total += si * sj * abs(_signed_area(_clip(ti, uj)))
    return abs(total)


def region_overlap(a: Sequence[float], b: Sequence[float],
                   bounds: tuple[float, float] | None = None) -> float:
    """VOT overlap of two regions (``x,y,w,h`` rectangles or ``x1,y1,x2,y2,...`` polygons).

    Both regions are first clipped to ``[0, bounds[0]] x [0, bounds[1]]`` (image width, height) when
    ``bounds`` is given, as pysot-toolkit's ``vot_overlap`` does. A one-value region (a code) gives NaN.
    """
    if len(a) == 1 or len(b) == 1:
        return float("nan")
    pa, pb = _polygon_points(a), _polygon_points(b)
    if not all(math.isfinite(v) for pt in pa + pb for v in pt):
        return float("nan")
    if bounds is not None:
        w, h = float(bounds[0]), float(bounds[1])
        frame = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
        pa, pb = _clip(pa, frame), _clip(pb, frame)
    area_a, area_b = abs(_signed_area(pa)), abs(_signed_area(pb))
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = _intersection_area(pa, pb)
    union = area_a + area_b - inter
    return float(min(1.0, max(0.0, inter / union))) if union > 0 else 0.0


def is_code(entry: Sequence[float], code: int | None = None) -> bool:
    """True when a trajectory entry is a one-value code (optionally a given one: 0, 1 or 2)."""
    return len(entry) == 1 and (code is None or entry[0] == code)


def vot_failures(trajectory: Sequence[Sequence[float]]) -> list[int]:
    """0-based frame indices of the failure codes ``[2]``."""
    return [i for i, e in enumerate(trajectory) if is_code(e, 2)]


def vot_overlaps(trajectory: Sequence[Sequence[float]], gt: Sequence[Sequence[float]],
                 bounds: tuple[float, float] | None, burnin: int = 0) -> np.ndarray:
    """Per-frame overlaps, NaN on codes and on the ``burnin`` frames that start at each ``[1]``.

    Only ``min(len(trajectory), len(gt))`` frames are compared (pysot-toolkit's ``calculate_accuracy``).
    """
    traj = list(trajectory)
    if burnin > 0:
        for i, e in enumerate(trajectory):
            if is_code(e, 1):
                for j in range(i, min(i + burnin, len(traj))):
                    traj[j] = [0]
    n = min(len(traj), len(gt))
    return np.array([region_overlap(traj[i], gt[i], bounds) for i in range(n)], dtype=np.float64)


def vot_accuracy(trajectory, gt, bounds, burnin: int = VOT_BURNIN) -> tuple[float, np.ndarray]:
    """(mean overlap ignoring NaN, per-frame overlaps) with the VOT burn-in."""
    ov = vot_overlaps(trajectory, gt, bounds, burnin)
    valid = ov[~np.isnan(ov)]
    return (float(valid.mean()) if valid.size else float("nan")), ov


@dataclass
class VOTSequence:
    """One sequence's reset-based runs for A/R and EAO."""
    name: str
    gt: list                      # per-frame regions (4 or 8 values)
    width: int
    height: int
    trajectories: list            # one trajectory per repetition (list of per-frame entries)


def ar_scores(sequences: Sequence[VOTSequence], burnin: int = VOT_BURNIN) -> dict:
    """Accuracy, robustness (failures per 100 frames) and lost number, overall and per sequence.

    Per sequence the overlaps of repeated runs are averaged frame by frame (NaN ignored); the overall
    accuracy pools the frames of all sequences; lost number and robustness average over repetitions.
    """
    per_seq = {}
    pooled, failures, length = [], [], 0
    for seq in sequences:
        runs = [vot_overlaps(t, seq.gt, (seq.width, seq.height), burnin) for t in seq.trajectories]
        n = min(len(r) for r in runs)
        stack = np.array([r[:n] for r in runs])
        ov = _nanmean0(stack)
        fails = [len(vot_failures(t)) for t in seq.trajectories]
        valid = ov[~np.isnan(ov)]
        per_seq[seq.name] = {"accuracy": float(valid.mean()) if valid.size else float("nan"),
                             "lost": float(np.mean(fails)), "frames": int(n)}
        pooled.append(ov)
        failures.append(fails)
        length += n
    allov = np.concatenate(pooled) if pooled else np.zeros(0)
    valid = allov[~np.isnan(allov)]
    reps = min(len(f) for f in failures) if failures else 0
    per_rep = np.array([sum(f[r] for f in failures) for r in range(reps)], dtype=np.float64)
    return {"accuracy": float(valid.mean()) if valid.size else float("nan"),
            "robustness": float(np.mean(per_rep / length) * 100.0) if length and reps else float("nan"),
            "lost": float(per_rep.mean()) if reps else float("nan"),
            "frames": int(length), "per_sequence": per_seq}


def _nanmean0(stack: np.ndarray) -> np.ndarray:
    cnt = np.sum(~np.isnan(stack), axis=0)
    s = np.nansum(stack, axis=0)
    out = np.full(stack.shape[1], np.nan)
    out[cnt > 0] = s[cnt > 0] / cnt[cnt > 0]
    return out


def expected_overlap_curve(fragments: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Expected overlap per sequence length (pysot-toolkit's ``calculate_expected_overlap``).

    ``fragments``: F x L overlaps (NaN beyond a fragment's end); ``weights``: F. Entry ``i >= 1`` is the
    weighted mean, over fragments still running at frame ``i``, of their mean overlap on frames ``1..i``;
    entry 0 is 1. Stored in float32 as pysot-toolkit does.
    """
    f, length = fragments.shape
    eo = np.zeros(length, np.float32)
    if length == 0:
        return eo
    eo[0] = 1
    if length == 1 or f == 0:
        return eo
    running = ~np.isnan(fragments[:, 1:])                       # F x (L-1): fragment alive at frame i
    means = np.cumsum(np.nan_to_num(fragments[:, 1:]), axis=1) / np.arange(1, length)
    wm = running * weights[:, None]
    num = np.sum(np.where(running, means, 0.0) * weights[:, None], axis=0)
    den = np.sum(wm, axis=0)
    has = running.any(axis=0)
    eo[1:][has] = (num[has] / den[has]).astype(np.float32)
    return eo


def eao_fragments(sequences: Sequence[VOTSequence], skipping: int = VOT_SKIP) -> tuple[np.ndarray, np.ndarray]:
    """Cut every run at its failures into fragments (pysot-toolkit's ``EAOBenchmark._calculate_eao``).

    A run without failures is one fragment (its per-frame overlaps; the initial frame is NaN and is not
    used). A run with failures at frames ``f_k`` is cut at ``p_0 = 0`` and ``p_k = f_k + skipping``
    (kept when ``<= len``): fragment ``k`` covers frames ``p_k..p_{k+1}`` inclusive, NaN read as 0 and
    zero-padded to the longest run (it ended in a failure, so its overlap stays 0); the last fragment
    covers ``p_last..end`` and stops there. Weights: ``1 / repetitions`` times the share of the
    fragment's frames carrying the ``all`` tag (1 everywhere, so about 1).
    """
    items = []
    for seq in sequences:
        for traj in seq.trajectories:
            ov = vot_overlaps(traj, seq.gt, (seq.width - 1, seq.height - 1), burnin=0)
            items.append((seq, ov, vot_failures(traj), 1.0 / max(1, len(seq.trajectories))))
    if not items:
        return np.zeros((0, 0)), np.zeros(0)
    max_len = max(len(ov) for _, ov, _, _ in items)
    frags, weights = [], []
    for seq, ov, fails, sw in items:
        n_gt = len(seq.gt)
        tag = np.ones(n_gt)
        if fails:
            points = [0] + [f + skipping for f in fails if f + skipping <= len(ov)]
            for k, p in enumerate(points):
                row = np.full(max_len, np.nan)
                if k != len(points) - 1:
                    q = points[k + 1]
                    frag = np.nan_to_num(ov[p:q + 1], nan=0.0)
                    row[:] = 0.0
                    w = tag[p:q + 1].sum() / (q - p + 1)
                else:
                    frag = np.nan_to_num(ov[p:], nan=0.0)
                    w = tag[p:len(ov)].sum() / (n_gt - p + 1e-16)
                row[:len(frag)] = frag
                frags.append(row)
                weights.append(sw * w)
        else:
            row = np.full(max_len, np.nan)
            m = min(len(ov), max_len)
            row[:m] = ov[:m]
            frags.append(row)
            weights.append(sw * tag[:m].sum() / m if m else 0.0)
    return np.array(frags), np.array(weights)


def expected_average_overlap(sequences: Sequence[VOTSequence], low: int, high: int,
                             skipping: int = VOT_SKIP) -> tuple[float, np.ndarray]:
    """EAO: mean of the expected-overlap curve over sequence lengths ``low..high`` (1-based, inclusive).

    Lengths beyond the longest run are left out of the mean, as in pysot-toolkit. Returns ``(eao, curve)``; ``eao`` is NaN when every run is shorter than ``low`` frames.
    """
    frags, weights = eao_fragments(sequences, skipping)
    curve = expected_overlap_curve(frags, weights)
    sel = np.zeros(len(curve))
    sel[max(low - 1, 0):high] = 1
    if sel.sum() == 0:
        return float("nan"), curve
    return float(np.sum(curve * sel) / np.sum(sel)), curve
