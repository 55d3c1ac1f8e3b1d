"""Tracking metrics with pysot-toolkit's definitions (OTB one-pass evaluation).

All functions take internal 0-based ``[x, y, w, h]`` boxes (the metrics are invariant to a common shift, so
1-based pairs give the same numbers). Frames whose ground truth is NaN or has a non-positive size count as
absent and are left out, as pysot-toolkit does.
"""
from __future__ import annotations

import numpy as np

from .boxes import center, iou

#: 21 IoU thresholds 0, 0.05, ..., 1.0 of the OTB success plot (pysot-toolkit: np.arange(0, 1.05, 0.05)).
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: 0..50 pixel thresholds of the OTB precision plot.
PRECISION_THRESHOLDS = np.arange(0, 51)


def _valid(gt: np.ndarray) -> np.ndarray:
    gt = np.asarray(gt, dtype=np.float64)
    return np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def success_curve(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Fraction of frames whose IoU is strictly above each threshold of :data:`SUCCESS_THRESHOLDS`."""
    ok = _valid(gt)
    if not ok.any():
        return np.zeros_like(SUCCESS_THRESHOLDS)
    overlaps = np.nan_to_num(iou(np.asarray(pred)[ok], np.asarray(gt)[ok]), nan=0.0)
    return np.array([(overlaps > t).mean() for t in SUCCESS_THRESHOLDS])


def center_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centres, valid ground-truth frames only."""
    ok = _valid(gt)
    d = center(np.asarray(pred, dtype=np.float64)[ok]) - center(np.asarray(gt, dtype=np.float64)[ok])
    return np.sqrt((d ** 2).sum(axis=1))


def precision_curve(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Fraction of frames whose centre error is at most each threshold of :data:`PRECISION_THRESHOLDS`."""
    err = center_errors(pred, gt)
    if err.size == 0:
        return np.zeros(PRECISION_THRESHOLDS.shape)
    err = np.nan_to_num(err, nan=np.inf)
    return np.array([(err <= t).mean() for t in PRECISION_THRESHOLDS])


def otb_summary(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """``auc`` (mean of the success curve), ``op50`` (IoU > 0.5) and ``dp20`` (centre error <= 20 px), percent."""
    succ = success_curve(pred, gt)
    prec = precision_curve(pred, gt)
    ok = _valid(gt)
    ov = np.nan_to_num(iou(np.asarray(pred)[ok], np.asarray(gt)[ok]), nan=0.0)
    return {
        "auc": float(100.0 * succ.mean()),
        "op50": float(100.0 * (ov > 0.5).mean()) if ov.size else 0.0,
        "dp20": float(100.0 * prec[20]),
    }
