"""Pair processing: crops, augmentation and training targets for one (exemplar frame, search frame) pair.

Geometry follows the tracker (``edcf_plugin.tracking.tracker``) exactly, so that training and tracking see the same
inputs:

* exemplar ``z``: side ``s_z = context_size(w, h, 0.5)`` (SiamFC context) centred on the target, resized
  to 127 (``exemplar_size``);
* CF patches from the exemplar frame, as ``EDCFTracker._learn_cf`` places them: side
  ``s_x = s_z * 255 / 127``, the target patch centred on the target and ``k`` context patches centred at
  ``cf.context_offsets(w * d, h * d, k)`` from it, each resized to 255;
* search ``x``: side ``s_x`` of the search frame's box (times a small random scale), centred on the target
  plus a random shift, so the target sits at a known displacement ``(dx, dy)`` pixels from the patch centre.

Targets:

* logistic labels of Eq. 4 on the 17 x 17 score map (stride 8, index 8 = zero displacement): +1 within
  ``pos_radius`` pixels of the displaced target, -1 elsewhere, with class-balanced weights (each class
  sums to 0.5);
* the CF regression target of Eq. 8 is built in the loss from ``cf_shift`` (the displacement in fine-feature
  cells, stride 2, zero displacement at index 0 as ``edcf_plugin.cf`` expects) and ``cf_sigma_cells``
  (the tracker's Gaussian width rule);
* the patches themselves are the reconstruction targets of Eq. 2.

Augmentation: stretch (independent x/y scale of the search and exemplar crops), shift (search), colour
(per-channel gain, brightness), blur and grayscale (pair-wise). The CF patches keep the tracker's exact
geometry and get the exemplar's photometric augmentation.

Distractors (``distractor_p``): with that probability the sampler hands over another track's target (a real
object from another sequence, picked for a shape like the target's) and it is pasted into the search patch at the
target's size, beside the target and outside the positive radius. The labels do not change: the pasted object is a
negative that looks like a plausible target, as the other runners of a race or the other animals of a herd are.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import cf
from ..boxes import context_size
from ..config import TrackerConfig
from ..geometry import EMBED_STRIDE, FINE_STRIDE, cells_per_pixel, gaussian_sigma_cells, search_side

_TRACKER = TrackerConfig()


@dataclass
class ProcessingConfig:
    # the tracker's geometry (TrackerConfig's values, so that pairs are cut as the tracker cuts frames)
    exemplar_size: int = _TRACKER.exemplar_size
    search_size: int = _TRACKER.search_size
    context_amount: float = _TRACKER.context_amount
    cf_num_context: int = _TRACKER.cf_num_context            # k context patches
    cf_context_distance: float = _TRACKER.cf_context_distance
    cf_sigma: float = _TRACKER.cf_sigma                      # Gaussian width, fraction of the target size in cells
    # training only
    max_shift: float = 48.0          # largest random displacement of the target in the search patch (pixels)
    scale_jitter: float = 0.05       # search side multiplied by exp(U(-j, j))
    stretch: float = 0.05            # independent x/y stretch exp(U(-s, s)) of exemplar and search crops
    pos_radius: float = 16.0         # Eq. 4 positives: within this many search-patch pixels of the target
    color_jitter: float = 0.15       # per-channel gain in [1 - c, 1 + c] and brightness +-40*c
    grayscale_p: float = 0.1         # probability that the whole pair is converted to grayscale
    blur_p: float = 0.15             # probability of blurring the search patch
    response_size: int = 17          # score map side of Eq. 3 for 127/255 inputs
    distractor_p: float = 0.0        # probability of pasting another track's target into the search patch
    distractor_scale: float = 0.25   # its size: the target's times exp(U(-d, d)) per axis

    def to_dict(self) -> dict:
        return asdict(self)


def crop_stretched(image: np.ndarray, cx: float, cy: float, side_x: float, side_y: float, out_size: int,
                   pad_value) -> np.ndarray:
    """Like :func:`edcf_plugin.boxes.crop_patch` with separate x/y sides (``side_x == side_y`` gives exactly
    ``crop_patch``): output pixel ``j`` samples ``cx - side/2 + (j + 0.5) side / out_size``."""
    sx, sy = out_size / side_x, out_size / side_y
    x0, y0 = cx - side_x / 2.0, cy - side_y / 2.0
    m = np.array([[sx, 0.0, -x0 * sx + 0.5 * sx - 0.5],
                  [0.0, sy, -y0 * sy + 0.5 * sy - 0.5]], dtype=np.float64)
    return cv2.warpAffine(image, m, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=tuple(float(v) for v in np.broadcast_to(pad_value, (3,))))


def logistic_labels(size: int, dx: float, dy: float, radius: float,
                    stride: float = EMBED_STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 4 labels y(u, v) in {+1, -1} and balanced weights for a target displaced (dx, dy) search pixels.

    Score index ``c = size // 2`` is zero displacement; index ``i`` is ``(i - c) * stride`` pixels.
    """
    c = size // 2
    u = (np.arange(size) - c) * stride
    dist = np.sqrt((u[None, :] - dx) ** 2 + (u[:, None] - dy) ** 2)
    pos = dist <= radius
    if not pos.any():                                # keep at least the nearest cell positive
        pos = dist == dist.min()
    labels = np.where(pos, 1.0, -1.0).astype(np.float32)
    weights = np.where(pos, 0.5 / pos.sum(), 0.5 / (~pos).sum()).astype(np.float32)
    return labels, weights


def cf_sigma_cells(w: float, h: float, side: float, search_size: int, cf_sigma: float) -> float:
    """The tracker's Gaussian width (``EDCFTracker._learn_cf``): ``cf_sigma * sqrt(w h)`` in fine cells."""
    scale = cells_per_pixel(search_size, side)
    return gaussian_sigma_cells(w * scale, h * scale, cf_sigma)


def paste_distractor(x: np.ndarray, target: tuple[float, float, float, float], distractor: np.ndarray,
                     rng: np.random.Generator, scale_jitter: float, min_distance: float) -> tuple | None:
    """Paste ``distractor`` (an object's pixels, any size) into patch ``x`` in place, beside the target.

    ``target`` is (cx, cy, w, h) in patch pixels. The pasted box has the target's size times
    ``exp(U(-scale_jitter, scale_jitter))`` per axis, lies inside the patch, its centre at least ``min_distance``
    from the target's and its overlap with the target box at most a quarter of the smaller box. Returns the
    pasted box (x0, y0, w, h) in patch pixels, or None when no place was found in 20 draws (nothing pasted).
    """
    size = x.shape[1]
    tcx, tcy, tw, th = target
    sc = np.exp(rng.uniform(-scale_jitter, scale_jitter, 2))
    dw, dh = int(round(min(tw * sc[0], size * 0.5))), int(round(min(th * sc[1], size * 0.5)))
    if dw < 2 or dh < 2:
        return None
    for _ in range(20):
        x0, y0 = int(rng.integers(0, size - dw + 1)), int(rng.integers(0, size - dh + 1))
        cx, cy = x0 + dw / 2.0, y0 + dh / 2.0
        if math.hypot(cx - tcx, cy - tcy) < min_distance:
            continue
        ox = max(0.0, min(x0 + dw, tcx + tw / 2) - max(x0, tcx - tw / 2))
        oy = max(0.0, min(y0 + dh, tcy + th / 2) - max(y0, tcy - th / 2))
        if ox * oy > 0.25 * min(dw * dh, tw * th):
            continue
        x[y0:y0 + dh, x0:x0 + dw] = cv2.resize(distractor, (dw, dh), interpolation=cv2.INTER_LINEAR)
        return (x0, y0, dw, dh)
    return None


def cut_object(image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The pixels of ``box`` (0-based x, y, w, h) clipped to ``image``; None when less than 2 x 2 pixels remain."""
    h, w = image.shape[:2]
    x0, y0 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
    x1, y1 = min(w, int(round(box[0] + box[2]))), min(h, int(round(box[1] + box[3])))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return image[y0:y1, x0:x1]


class PairProcessing:
    """Turn (z_image, z_box, x_image, x_box) into network inputs and targets (numpy; uint8 patches)."""

    def __init__(self, config: ProcessingConfig | None = None):
        self.cfg = config or ProcessingConfig()

    def _photometric(self, patches: list[np.ndarray], rng: np.random.Generator, gray: bool) -> list[np.ndarray]:
        c = self.cfg.color_jitter
        gain = rng.uniform(1 - c, 1 + c, 3).astype(np.float32)
        bright = np.float32(rng.uniform(-40 * c, 40 * c))
        out = []
        for p in patches:
            q = p.astype(np.float32) * gain + bright
            if gray:
                g = cv2.cvtColor(np.clip(q, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
                q = np.repeat(g[..., None], 3, axis=2).astype(np.float32)
            out.append(np.clip(q, 0, 255).astype(np.uint8))
        return out

    def __call__(self, z_img: np.ndarray, z_box: np.ndarray, x_img: np.ndarray, x_box: np.ndarray,
                 rng: np.random.Generator, distractor: np.ndarray | None = None) -> dict:
        """The pair's network inputs and targets; ``distractor`` (another object's pixels) is pasted into the
        search patch beside the target (module docstring)."""
        c = self.cfg
        zw, zh = max(float(z_box[2]), 4.0), max(float(z_box[3]), 4.0)
        zcx, zcy = z_box[0] + z_box[2] / 2.0, z_box[1] + z_box[3] / 2.0
        xw, xh = max(float(x_box[2]), 4.0), max(float(x_box[3]), 4.0)
        xcx, xcy = x_box[0] + x_box[2] / 2.0, x_box[1] + x_box[3] / 2.0
        z_pad = z_img.reshape(-1, 3).mean(axis=0)
        x_pad = x_img.reshape(-1, 3).mean(axis=0)

        # Exemplar (Eq. 3 template), with a small stretch.
        s_z = context_size(zw, zh, c.context_amount)
        st = np.exp(rng.uniform(-c.stretch, c.stretch, 2))
        z = crop_stretched(z_img, zcx, zcy, s_z * st[0], s_z * st[1], c.exemplar_size, z_pad)

        # CF target + context patches: the tracker's exact geometry (no stretch, no shift).
        s_x_cf = s_z * c.search_size / c.exemplar_size
        centres = [(zcx, zcy)] + [(zcx + dx, zcy + dy) for dx, dy in
                                  cf.context_offsets(zw * c.cf_context_distance, zh * c.cf_context_distance,
                                                     c.cf_num_context)]
        cf_patches = [crop_stretched(z_img, px, py, s_x_cf, s_x_cf, c.search_size, z_pad) for px, py in centres]
        sigma = cf_sigma_cells(zw, zh, s_x_cf, c.search_size, c.cf_sigma)

        # Search patch: side from the search-frame box, jittered scale and stretch, random shift.
        s_x = search_side(xw, xh, c.context_amount, c.exemplar_size, c.search_size)
        s_x *= math.exp(rng.uniform(-c.scale_jitter, c.scale_jitter))
        st = np.exp(rng.uniform(-c.stretch, c.stretch, 2))
        sx_side, sy_side = s_x * st[0], s_x * st[1]
        r = c.max_shift * math.sqrt(rng.uniform())
        ang = rng.uniform(0, 2 * math.pi)
        dx_p, dy_p = r * math.cos(ang), r * math.sin(ang)          # target position - patch centre (patch px)
        ccx = xcx - dx_p * sx_side / c.search_size
        ccy = xcy - dy_p * sy_side / c.search_size
        x = crop_stretched(x_img, ccx, ccy, sx_side, sy_side, c.search_size, x_pad)
        if distractor is not None:
            centre = c.search_size / 2.0
            target = (centre + dx_p, centre + dy_p, xw * c.search_size / sx_side, xh * c.search_size / sy_side)
            paste_distractor(x, target, distractor, rng, c.distractor_scale, 2.0 * c.pos_radius)

        gray = rng.random() < c.grayscale_p
        z, *cf_patches = self._photometric([z] + cf_patches, rng, gray)
        (x,) = self._photometric([x], rng, gray)
        if rng.random() < c.blur_p:
            k = int(rng.integers(1, 3)) * 2 + 1
            x = cv2.GaussianBlur(x, (k, k), 0)

        labels, weights = logistic_labels(c.response_size, dx_p, dy_p, c.pos_radius)
        return {
            "exemplar": np.ascontiguousarray(z.transpose(2, 0, 1)),                       # 3 x 127 x 127 uint8
            "search": np.ascontiguousarray(x.transpose(2, 0, 1)),                         # 3 x 255 x 255 uint8
            "cf_patches": np.ascontiguousarray(np.stack(cf_patches).transpose(0, 3, 1, 2)),  # (1+k) x 3 x 255 x 255
            "labels": labels, "label_weights": weights,                                   # 17 x 17 each
            "cf_shift": np.array([dy_p / FINE_STRIDE, dx_p / FINE_STRIDE], np.float32),    # (row, col) cells
            "cf_sigma": np.float32(sigma),
        }
