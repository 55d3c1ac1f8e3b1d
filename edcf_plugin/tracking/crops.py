"""How the tracker cuts its network inputs from a frame: one backend, chosen when the tracker is built
(``crop_backend``: ``opencv``, ``torch``, or ``auto`` = torch on CUDA).

Both return N x 3 x size x size float tensors on the tracker's device, one square crop per ``(cx, cy, side)``
sampling image coordinates ``cx - side/2 + (j + 0.5) side / size`` for output pixel ``j`` (``boxes.crop_patch``),
the mean colour outside the frame; ``region = (r0, c0, rows, cols)`` keeps only those rows and columns of each crop
(the single pass warps only the pixels that feed its features).

* :class:`OpenCVCrops` -- ``cv2.warpAffine`` on the host, then one copy to the device.
* :class:`TorchCrops` -- bilinear ``grid_sample`` of the frame on the device (copied there once per frame); it
  differs from cv2's fixed-point bilinear weights by rounding only.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..boxes import crop_patch


def grid_crop(frame: torch.Tensor, step: torch.Tensor, x0: torch.Tensor, y0: torch.Tensor,
              ramp_x: torch.Tensor, ramp_y: torch.Tensor) -> torch.Tensor:
    """Bilinear crops of ``frame`` (1 x 3 x H x W, mean colour already subtracted, so outside pixels read 0):
    crop k's column j samples image x ``x0[k] + ramp_x[j] * step[k] - 0.5`` in pixel-index coordinates (``ramp =
    j + 0.5`` reproduces ``crop_patch``), rows likewise with ``y0``/``ramp_y``. ``step``, ``x0``, ``y0``: N x 1.
    Returns N x 3 x len(ramp_y) x len(ramp_x)."""
    height, width = frame.shape[-2:]
    gx = 2.0 * (x0 + ramp_x * step) / width - 1.0                      # N x wc (align_corners=False)
    gy = 2.0 * (y0 + ramp_y * step) / height - 1.0                     # N x hr
    n, hr, wc = gx.shape[0], ramp_y.shape[0], ramp_x.shape[0]
    grid = torch.stack([gx[:, None, :].expand(n, hr, wc), gy[:, :, None].expand(n, hr, wc)], dim=-1)
    return F.grid_sample(frame.expand(n, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


class OpenCVCrops:
    on_device = False       # crops are cut on the host

    def __init__(self, tracker):
        self.t = tracker

    def set_frame(self, image: np.ndarray) -> None:
        """A new frame (nothing to prepare)."""

    def __call__(self, image: np.ndarray, boxes: list[tuple[float, float, float]], size: int,
                 region: tuple[int, int, int, int] | None = None) -> torch.Tensor:
        t = self.t
        return t._to_tensor([crop_patch(image, cx, cy, side, size, pad_value=t._avg_color, region=region)
                             for cx, cy, side in boxes])


class TorchCrops:
    on_device = True        # crops are cut on the tracker's device (what CUDA graphs need)

    def __init__(self, tracker):
        self.t = tracker
        self._image = None
        self._frame_t = None

    def set_frame(self, image: np.ndarray) -> None:
        """A new frame: copied to the device at its first crop."""
        self._image, self._frame_t = image, None

    def _ramp(self, start: int, length: int) -> torch.Tensor:
        """Output pixel centres ``start + j + 0.5`` of a crop's rows or columns (``grid_crop``), cached."""
        t = self.t
        key = ("ramp", start, length)
        if key not in t._cache:
            t._cache[key] = torch.arange(start, start + length, device=t.device, dtype=torch.float32) + 0.5
        return t._cache[key]

    def __call__(self, image: np.ndarray, boxes: list[tuple[float, float, float]], size: int,
                 region: tuple[int, int, int, int] | None = None) -> torch.Tensor:
        t = self.t
        if self._frame_t is None or self._image is not image:
            self._image = image
            self._frame_t = t._frame_tensor(torch.from_numpy(np.ascontiguousarray(image)).to(t.device))
        r0, c0, rows, cols = region if region is not None else (0, 0, size, size)
        ramp_y, ramp_x = self._ramp(r0, rows), self._ramp(c0, cols)
        par = torch.tensor([[side / size, cx - side / 2.0, cy - side / 2.0] for cx, cy, side in boxes],
                           dtype=torch.float64).to(t.device, torch.float32)
        out = grid_crop(self._frame_t, par[:, 0:1], par[:, 1:2], par[:, 2:3], ramp_x, ramp_y) + t._avg_t
        if t._autocast_dtype is not None:
            return out.contiguous(memory_format=torch.channels_last)
        return out.contiguous()


def choose(tracker) -> OpenCVCrops | TorchCrops:
    """The backend the tracker's ``crop_backend`` and device call for."""
    backend = tracker.config.crop_backend
    torch_crops = backend == "torch" or (backend == "auto" and tracker.device.type == "cuda")
    return TorchCrops(tracker) if torch_crops else OpenCVCrops(tracker)
