"""Boxes and crops: the one place where coordinate conventions live.

Internal convention (see docs/ARCHITECTURE.md): a box is a float64 array ``[x, y, w, h]``, 0-based, ``(x, y)``
the top-left corner, pixel ``i`` covering ``[i, i+1)``; its centre is ``(x + w/2, y + h/2)``.
OTB-style ground truth is 1-based and is converted only where it is read or written.
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from .errors import InputError

#: Largest coordinate or side a box may have (pixels): far beyond any image, small enough that the tracker's
#: areas and context sizes stay finite (a width of 1e200 would give NaN boxes).
MAX_BOX_VALUE = 1e6


def as_box(box: Sequence[float], what: str = "box") -> np.ndarray:
    """Return ``box`` as a float64 ``[x, y, w, h]`` array, rejecting NaN/inf, non-positive sizes and values beyond
    ``MAX_BOX_VALUE`` pixels."""
    arr = np.asarray(box, dtype=np.float64).reshape(-1)
    if arr.size != 4:
        raise InputError(f"{what} must have 4 values x,y,w,h, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} has a NaN or infinite value: {arr.tolist()}")
    if arr[2] <= 0 or arr[3] <= 0:
        raise InputError(f"{what} is degenerate (width and height must be > 0): {arr.tolist()}")
    if np.any(np.abs(arr) > MAX_BOX_VALUE):
        raise InputError(f"{what} is too large (values beyond {MAX_BOX_VALUE:g} pixels): {arr.tolist()}")
    return arr


def check_box_in_frame(box: np.ndarray, width: int, height: int, what: str = "box") -> None:
    """Raise :class:`InputError` when ``box`` does not overlap the ``width`` x ``height`` frame at all."""
    x, y, w, h = box
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise InputError(f"{what} {np.round(box, 2).tolist()} lies outside the {width}x{height} frame")


def from_one_based(box: Sequence[float]) -> np.ndarray:
    """OTB/MATLAB 1-based ``x,y,w,h`` -> internal 0-based box (works on N x 4 arrays too)."""
    arr = np.array(box, dtype=np.float64)
    arr[..., :2] -= 1.0
    return arr


def to_one_based(box: Sequence[float]) -> np.ndarray:
    """Internal 0-based box -> OTB/MATLAB 1-based ``x,y,w,h`` (works on N x 4 arrays too)."""
    arr = np.array(box, dtype=np.float64)
    arr[..., :2] += 1.0
    return arr


def center(box: np.ndarray) -> np.ndarray:
    """Centre ``(cx, cy)`` of ``[x, y, w, h]`` boxes (N x 4 or 4)."""
    box = np.asarray(box, dtype=np.float64)
    return box[..., :2] + box[..., 2:] / 2.0


def from_center(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float64)


def polygon_to_box(points: Sequence[float]) -> np.ndarray:
    """Axis-aligned bounds ``[x, y, w, h]`` of a polygon given as ``x1, y1, x2, y2, ...``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float64)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of ``[x, y, w, h]`` boxes, row-wise (N x 4 vs N x 4, or 4 vs 4).

    Rows with a NaN or a non-positive size in either box give NaN (an absent target).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x0 = np.maximum(a[..., 0], b[..., 0])
    y0 = np.maximum(a[..., 1], b[..., 1])
    x1 = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    y1 = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    valid = (a[..., 2] > 0) & (a[..., 3] > 0) & (b[..., 2] > 0) & (b[..., 3] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(valid & (union > 0), inter / np.where(union > 0, union, 1.0), np.nan)
    return out


def clip_box(box: np.ndarray, width: int, height: int, min_size: float = 4.0) -> np.ndarray:
    """Keep the box centre inside the frame and its size between ``min_size`` and the frame size."""
    cx, cy = center(box)
    w = float(np.clip(box[2], min_size, width))
    h = float(np.clip(box[3], min_size, height))
    cx = float(np.clip(cx, 0, width))
    cy = float(np.clip(cy, 0, height))
    return from_center(cx, cy, w, h)


def context_size(w: float, h: float, context_amount: float) -> float:
    """SiamFC's square exemplar side: ``sqrt((w + p)(h + p))`` with ``p = context_amount * (w + h)``."""
    p = context_amount * (w + h)
    return math.sqrt((w + p) * (h + p))


def crop_patch(image: np.ndarray, cx: float, cy: float, side: float, out_size: int,
               pad_value: np.ndarray | None = None,
               region: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Square crop of side ``side`` pixels centred on ``(cx, cy)``, resized to ``out_size`` x ``out_size``.

    One affine warp (bilinear); pixels outside the image take ``pad_value`` (default: the image mean
    colour, as in SiamFC). The patch centre maps exactly to ``(cx, cy)`` in the 0-based, pixel-area
    convention: output pixel ``j`` samples image coordinate ``cx - side/2 + (j + 0.5) * side/out_size``.
    ``region = (r0, c0, rows, cols)``: only those rows and columns of the patch (the same pixels as slicing
    the whole patch, without warping the rest).
    """
    if pad_value is None:
        pad_value = image.reshape(-1, image.shape[-1]).mean(axis=0)
    s = out_size / side
    # Pixel centres: image x_img (continuous, pixel i centre at i+0.5) -> out: (x_img - x0) * s - 0.5
    # cv2.warpAffine maps pixel centres at integer coordinates, so shift by 0.5 on both sides.
    x0 = cx - side / 2.0
    y0 = cy - side / 2.0
    r0, c0, rows, cols = region if region is not None else (0, 0, out_size, out_size)
    m = np.array([[s, 0.0, -x0 * s + 0.5 * s - 0.5 - c0],
                  [0.0, s, -y0 * s + 0.5 * s - 0.5 - r0]], dtype=np.float64)
    return cv2.warpAffine(image, m, (cols, rows), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT,
                          borderValue=tuple(float(v) for v in np.broadcast_to(pad_value, (3,))))
