"""How a frame's responses (Eq. 3 and 9) are computed: one strategy per path, chosen once when the tracker is built.

* :class:`ReferenceCrops` -- the paper's path: one search crop per scale through the whole encoder.
* :class:`SinglePass` (``single_pass``) -- one crop, enlarged to cover the CF context windows, through conv1 and the
  fine branch once; the other scales are resampled from its fine features (or cut as their own crops for the CF
  branch: ``single_pass_cf_scales="crops"``), and the semantic branch reads exemplars cut at every scale. Its
  features also give the next filter (Eq. 17-18) without a new crop.
* :class:`GraphedSinglePass` (``cuda_graphs`` on CUDA) -- the single pass as two replayed CUDA graphs (detection,
  CF solve). A capture failure turns graphs off for this tracker: the tracker switches to a plain
  :class:`SinglePass` and tracking goes on.

A strategy reads the tracker's network, caches and helpers; the tracker (``tracker.py``) does the rest: the fusion
(Eq. 16), the new state and the filter update. Each strategy has

* ``responses(image, cx, cy, x_side, w, h) -> (f, g, features)``: the semantic score maps (S or 1) x 1 x 17 x 17
  after the sigmoid, the CF responses S x H x W (fftshifted), None for a branch the variant does not use, and the
  features the filter update can reuse (None: it cuts a new crop);
* ``detect(...) -> Detection`` (the responses fused);
* ``filter_from_features(features, move, size, x_side)``: the new filter from a detection's features, or None;
* ``blend(alpha, w_new)``: Eq. 17's running average into ``tracker.w_hat``.
"""
from __future__ import annotations

import math
import traceback
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import cf
from ..config import TrackerConfig
from ..geometry import FINE_KERNEL, FINE_STRIDE, cells_per_pixel, fine_cells, search_side
from .crops import grid_crop


class _Replay:
    """One tensor function with static input buffers, captured in a CUDA graph (``capture``) or run eagerly.

    Calling it copies the new inputs into the static buffers and replays the graph; the outputs are the same
    static tensors every time (valid until the next call). Run everything under ``torch.inference_mode()``.
    """

    def __init__(self, fn, inputs: list[torch.Tensor], device: torch.device, capture: bool):
        self.fn = fn
        self.static = [x.to(device).clone() for x in inputs]
        self.graph = None
        if capture:
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):
                for _ in range(2):                      # lazy initialisation (cuDNN, cuFFT plans) off the graph
                    fn(*self.static)
            torch.cuda.current_stream(device).wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.outputs = fn(*self.static)

    def __call__(self, *inputs: torch.Tensor):
        for dst, src in zip(self.static, inputs):
            dst.copy_(src)
        if self.graph is None:
            return self.fn(*self.static)
        self.graph.replay()
        return self.outputs


def sampling_grid(h_in: int, w_in: int, n: int, centers: list[tuple[float, float]], pitches: list[float],
                  device=None) -> torch.Tensor:
    """``grid_sample`` grid (K x n x n x 2, align_corners=True) for K square windows of n x n cells read from an
    h_in x w_in map: window k is centred ``centers[k] = (dx, dy)`` cells from the map's middle and samples every
    ``pitches[k]`` input cells (pitch 1 at a whole-cell centre reads the cells exactly)."""
    u = torch.arange(n, dtype=torch.float64) - (n - 1) / 2.0
    grids = []
    for (dx, dy), pitch in zip(centers, pitches):
        gx = 2.0 * (dx + u * pitch) / (w_in - 1)
        gy = 2.0 * (dy + u * pitch) / (h_in - 1)
        grids.append(torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1))
    return torch.stack(grids).float().to(device)


class CropGeometry(NamedTuple):
    """Where one single-pass crop's pixels go (:meth:`SinglePass.geometry`): the crop is ``big`` pixels square
    and covers the search area plus ``px`` x ``py`` fine cells on each side (``pad = max(px, py)``); only its rows
    ``[r0, r0 + hr)`` and columns ``[c0, c0 + wc)`` feed the fine cells that are read. ``n`` is the fine grid of the
    search area; ``offsets`` the CF context windows' offsets in cells."""
    n: int
    offsets: list
    px: int
    py: int
    pad: int
    big: int
    r0: int
    c0: int
    hr: int
    wc: int


class Detection(NamedTuple):
    """One frame's fused response (Eq. 16): its best scale, the peak's flat index on the ``hf`` x ``wf`` grid, the
    fused peak (the confidence), the semantic peak f*(x_t) of Eq. 18, and the single pass's enlarged fine features
    ``(fine_big, (px, py))`` for the CF update (None on the reference path)."""
    scale: int
    index: int
    score: float
    semantic_peak: float
    hf: int
    wf: int
    features: tuple | None


def context_cell_offsets(w: float, h: float, side: float, config: TrackerConfig) -> list[tuple[int, int]]:
    """Offsets ``(dx, dy)`` in fine-feature cells of the k context patches (CACF: above, left, below, right, one
    target size away) for a ``w`` x ``h`` target in a CF patch of ``side`` image pixels; each is capped at half
    the feature window so that a very elongated target does not blow up the crop."""
    scale = cells_per_pixel(config.search_size, side)
    cap = fine_cells(config.search_size) // 2
    d = config.cf_context_distance
    return [(int(np.clip(round(dx * scale), -cap, cap)), int(np.clip(round(dy * scale), -cap, cap)))
            for dx, dy in cf.context_offsets(w * d, h * d, config.cf_num_context)]


def detection(picks: list[float], hf: int, wf: int, features) -> Detection:
    """A :class:`Detection` from the fusion's read-back ``picks`` (best scale, peak index, fused peak and, with the
    semantic branch, its peak)."""
    return Detection(int(picks[0]), int(picks[1]), float(picks[2]), float(picks[3]) if len(picks) > 3 else 0.0,
                     hf, wf, features)


class ResponsePath:
    """A strategy's common part: fusion of its responses, and no reusable features (the filter update re-crops)."""

    def __init__(self, tracker):
        self.t = tracker

    def reset(self) -> None:
        """A new target (``tracker.init``)."""

    def responses(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float):
        raise NotImplementedError

    def detect(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float):
        """Eq. 3, 9 and 16 on this frame: the fused response's best scale and peak (a ``Detection``)."""
        t = self.t
        f, g, features = self.responses(image, cx, cy, x_side, w, h)
        if g is not None:
            hf, wf = g.shape[-2:]
        else:
            hf = wf = cf.fft_size(fine_cells(t.config.search_size))
        with t._stage("fusion"), torch.inference_mode():
            picks_t, resp, peaks = t._fusion_tensors(f, g, hf, wf)
            t.last_peaks = peaks            # per-scale peaks of the fused response (diagnostics)
            t.last_response = resp          # fused response of the chosen scale (for visualisation)
            # one device-to-host read per frame: best scale, peak index, its fused peak and semantic peak
            picks = picks_t.tolist()
        return detection(picks, hf, wf, features)

    def filter_from_features(self, features, move: np.ndarray, size: np.ndarray, x_side: float):
        """The new filter from this frame's features, or None: the tracker cuts a new crop."""
        return None

    def blend(self, alpha: float, w_new: torch.Tensor) -> None:
        """Eq. 17: ``w_t = alpha w + (1 - alpha) w_{t-1}``."""
        self.t.w_hat = alpha * w_new + (1.0 - alpha) * self.t.w_hat


class ReferenceCrops(ResponsePath):
    """The paper's path: one search crop per scale through the encoder."""

    def responses(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float):
        t = self.t
        c = t.config
        sides = x_side * t._scales.numpy()
        with t._stage("crop"):
            x = t._crops(image, [(cx, cy, s) for s in sides], c.search_size)
        # One semantic pass (centre scale) is enough when the CF branch resolves scale (semantic_scales=center).
        center_only = c.semantic_scales == "center" and c.uses_cf and c.uses_semantic
        with t._stage("encoder"), torch.inference_mode():
            sem = fine = None
            if c.uses_cf:
                low, fine = t._low_and_fine(x)
                if c.uses_semantic:
                    mid = c.scale_num // 2
                    with t._autocast():
                        sem = t.net.semantic_from_low(low[mid:mid + 1] if center_only else low).float()
            else:
                with t._autocast():
                    sem = t.net.embed(x).float()
        f = g = None
        with t._stage("cf_response"), torch.inference_mode():
            if c.uses_cf:
                g = t._cf_detect(fine)
        if sem is not None:
            with t._stage("fusion"), torch.inference_mode():
                f = torch.sigmoid(t.net.xcorr(t.z_embed, sem))
        return f, g, None


class SinglePass(ResponsePath):
    """One enlarged crop per frame (module docstring); its fine features give the next filter."""

    def geometry(self, x_side: float, w: float, h: float, cf_update: bool = True):
        """Single-pass crop geometry (``CropGeometry``). One crop of ``big`` pixels covers the CF context windows
        plus ``single_pass_margin`` cells; only its rows [r0, r0 + hr) and columns [c0, c0 + wc) feed fine cells
        [pad - py, pad + n + py) x [pad - px, pad + n + px). Without ``cf_update`` (a frame whose CF is not
        re-solved: ``cf_update_interval`` > 1) the crop only covers what the detection reads: the search area plus
        the cells the resampled scales reach, and two more so that the fine branch's zero padding (3 x 3 kernel)
        does not touch them; the responses are the same as with the enlarged crop."""
        t = self.t
        c = t.config
        n = fine_cells(c.search_size)
        offsets = context_cell_offsets(w, h, x_side, c)
        if cf_update:
            px = max([abs(dx) for dx, _ in offsets], default=0) + c.single_pass_margin
            py = max([abs(dy) for _, dy in offsets], default=0) + c.single_pass_margin
        else:
            px = py = int(math.ceil((n - 1) * (float(t._scales.max()) - 1.0) / 2.0)) + 2
        pad = max(px, py)
        big = c.search_size + 2 * FINE_STRIDE * pad
        r0, c0 = FINE_STRIDE * (pad - py), FINE_STRIDE * (pad - px)
        hr, wc = FINE_STRIDE * (n + 2 * py - 1) + FINE_KERNEL, FINE_STRIDE * (n + 2 * px - 1) + FINE_KERNEL
        return CropGeometry(n, offsets, px, py, pad, big, r0, c0, hr, wc)

    def _features(self, x: torch.Tensor, n: int, px: int, py: int):
        """conv1 and the fine branch once on the enlarged crop; the semantic branch on its centre."""
        t = self.t
        c = t.config
        sem = fine_big = None
        with torch.inference_mode():
            low, fine_big = t._low_and_fine(x, fine=c.uses_cf)
            if c.uses_semantic:
                with t._autocast():
                    sem = t.net.semantic_from_low(low[..., py:py + n, px:px + n]).float()
        return sem, fine_big

    def _scaled_grid(self, h_in: int, w_in: int, n_out: int) -> torch.Tensor:
        """grid_sample grid (S x n_out x n_out x 2) reading, for each scale s, the n_out x n_out window centred
        in an h_in x w_in map with a cell pitch of s input cells (s = 1: exactly the central window)."""
        t = self.t
        key = ("sgrid", h_in, w_in, n_out)
        if key not in t._cache:
            scales = t._scales.tolist()
            t._cache[key] = sampling_grid(h_in, w_in, n_out, [(0.0, 0.0)] * len(scales), scales, t.device)
        return t._cache[key]

    def _cf_response(self, fine_big: torch.Tensor, n: int) -> torch.Tensor:
        """CF responses of the S scales, resampled from the enlarged fine features."""
        with torch.inference_mode():
            grid = self._scaled_grid(fine_big.shape[-2], fine_big.shape[-1], n)
            fine = F.grid_sample(fine_big.expand(grid.shape[0], -1, -1, -1), grid, mode="bilinear",
                                 padding_mode="zeros", align_corners=True)
            return self.t._cf_detect(fine)

    def _semantic_response(self, sem: torch.Tensor) -> torch.Tensor:
        t = self.t
        with torch.inference_mode():
            z = t.z_embed if t.config.semantic_scales == "center" else t.z_scales
            return torch.sigmoid(t.net.adjust(F.conv2d(sem, z).transpose(0, 1)))   # S x 1 x 17 x 17

    def responses(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float):
        """(f, g) like :class:`ReferenceCrops` and the enlarged fine features with their padding
        ``(pad_x, pad_y)`` in cells, for the CF update."""
        t = self.t
        c = t.config
        n, _, px, py, _, big, r0, c0, hr, wc = self.geometry(x_side, w, h, t._cf_update_next())
        side_crops = c.uses_cf and c.single_pass_cf_scales == "crops" and c.scale_num > 1 \
            and t._next_frame_every(c.side_crop_interval)
        mid = c.scale_num // 2
        with t._stage("crop"):
            # Only the pixels that feed fine cells [pad - py, pad + n + py) x [pad - px, pad + n + px).
            x = t._crops(image, [(cx, cy, x_side * big / c.search_size)], big, region=(r0, c0, hr, wc))
            if side_crops:      # the other scales' search crops, for the CF branch only
                sides = [x_side * s for i, s in enumerate(t._scales.tolist()) if i != mid]
                xs = t._crops(image, [(cx, cy, sd) for sd in sides], c.search_size)
        with t._stage("encoder"):
            sem, fine_big = self._features(x, n, px, py)
            if side_crops:
                fine_sides = t._low_and_fine(xs)[1]
        f = g = None
        if c.uses_cf:
            with t._stage("cf_response"):
                if side_crops:
                    with torch.inference_mode():
                        centre = fine_big[..., py:py + n, px:px + n]
                        g = t._cf_detect(torch.cat([fine_sides[:mid], centre, fine_sides[mid:]]))
                else:
                    g = self._cf_response(fine_big, n)
        if sem is not None:
            with t._stage("fusion"):
                f = self._semantic_response(sem)
        return f, g, (fine_big, (px, py))

    def _solve_nearest(self, fine_big: torch.Tensor, pad: tuple[int, int], offsets: list[tuple[int, int]],
                       w_cells: float, h_cells: float, shift: tuple[int, int]) -> torch.Tensor:
        return self.t._solve_cf(fine_big, pad, offsets, w_cells, h_cells, shift)

    def filter_from_features(self, features, move: np.ndarray, size: np.ndarray, x_side: float):
        """Solve Eq. 6-7 on windows of this frame's enlarged fine features placed at the new position, instead of
        cutting a new crop. ``single_pass_update = "nearest"`` slices whole-cell windows; ``"bilinear"`` resamples
        them at the exact sub-cell position and at the new target size's cell pitch (what a new crop would see).
        None when the move plus the context offsets leave the features (then the tracker re-crops)."""
        t = self.t
        fine_big, (px, py) = features
        c = t.config
        scale = cells_per_pixel(c.search_size, x_side)                    # fine cells per image pixel
        side = search_side(size[0], size[1], c.context_amount, c.exemplar_size, c.search_size)
        exact = (move[0] * scale, move[1] * scale)
        shift = (int(round(exact[0])), int(round(exact[1])))
        if c.single_pass_update == "nearest":
            offsets = context_cell_offsets(size[0], size[1], x_side, c)       # in fine_big's cells
            reach = [(shift[0] + dx, shift[1] + dy) for dx, dy in [(0, 0)] + offsets]
        else:
            offsets = context_cell_offsets(size[0], size[1], side, c)         # in the new crop's cells
            r = side / x_side
            reach = [(exact[0] + dx * r, exact[1] + dy * r) for dx, dy in [(0, 0)] + offsets]
        if any(abs(rx) > px or abs(ry) > py for rx, ry in reach):
            t.recrops = getattr(t, "recrops", 0) + 1
            return None
        new_scale = cells_per_pixel(c.search_size, side)                  # cells of a crop at the new size
        with torch.inference_mode():
            if c.single_pass_update == "nearest":
                return self._solve_nearest(fine_big, (px, py), offsets, size[0] * scale, size[1] * scale, shift)
            # bilinear: window k is centred at the exact shift + offset_k * r and samples every r = side / x_side
            h_in, w_in = fine_big.shape[-2:]
            n = h_in - 2 * py
            grid = sampling_grid(h_in, w_in, n, reach, [side / x_side] * len(reach), t.device)
            wins = F.grid_sample(fine_big.expand(grid.shape[0], -1, -1, -1), grid, mode="bilinear",
                                 padding_mode="zeros", align_corners=True)
            return t._solve_windows(wins, size[0] * new_scale, size[1] * new_scale)


class GraphedSinglePass(SinglePass):
    """The single pass (whole-cell update, resampled CF scales) as two replayed tensor functions: the detection
    from a uint8 frame and crop parameters, and the CF solve on windows gathered at tensor offsets, without host
    synchronisation. ``capture=False`` runs the same functions eagerly (tests, on any device)."""

    def __init__(self, tracker, capture: bool = True):
        super().__init__(tracker)
        self.capture = capture
        self.graphs: dict = {}

    def reset(self) -> None:
        self.graphs = {}                   # captured for the previous target's state tensors

    def _off(self, exc: Exception) -> None:
        """A capture failure: warn once, drop the graphs and hand the tracker a plain single pass."""
        where = [f"{Path(f.filename).name}:{f.lineno}" for f in traceback.extract_tb(exc.__traceback__)
                 if "edcf_plugin" in f.filename][-3:]
        warnings.warn(f"EDCF: CUDA graphs turned off for this tracker ({type(exc).__name__}: {exc}; at "
                      f"{' < '.join(reversed(where))}); tracking continues without them")
        self.graphs = {}
        self.t.responses = SinglePass(self.t)
        self.t.graph_status = (f"off after a capture failure at {' < '.join(reversed(where))}: "
                               f"{type(exc).__name__}: {exc}")

    def _replay(self, key, make_fn, inputs: list[torch.Tensor]) -> _Replay:
        entry = self.graphs.pop(key, None)
        if entry is None:
            if len(self.graphs) >= 16:                           # geometry changes are rare: keep the newest
                self.graphs.pop(next(iter(self.graphs)))
            entry = _Replay(make_fn(), inputs, self.t.device, capture=self.capture)
            entry.constants = list(self.t._cache.values())  # a graph reads them by address: outlive eviction
        self.graphs[key] = entry
        return entry

    def _detect_fn(self, geo):
        """The single-pass detection as one tensor function of (frame as uint8 H x W x 3, crop parameters
        [pixel pitch, x0, y0]): the crop rows/columns that feed the features, the encoder, both responses and
        the fusion. Returns (picks, fine_big, response, peaks)."""
        t = self.t
        n, _, px, py, _, _, r0, c0, hr, wc = geo
        c = t.config
        ramp_y = torch.arange(r0, r0 + hr, device=t.device, dtype=torch.float32) + 0.5
        ramp_x = torch.arange(c0, c0 + wc, device=t.device, dtype=torch.float32) + 0.5
        fmt = torch.channels_last if t._autocast_dtype is not None else torch.contiguous_format

        def fn(frame_u8: torch.Tensor, par: torch.Tensor):
            par = par.reshape(3, 1, 1)
            x = grid_crop(t._frame_tensor(frame_u8), par[0], par[1], par[2], ramp_x, ramp_y) + t._avg_t
            sem, fine_big = self._features(x.contiguous(memory_format=fmt), n, px, py)
            g = self._cf_response(fine_big, n) if c.uses_cf else None
            f = self._semantic_response(sem) if sem is not None else None
            hf = wf = cf.fft_size(n)
            with torch.inference_mode():
                picks, resp, peaks = t._fusion_tensors(f, g, hf, wf)
            return picks, fine_big, resp, peaks
        return fn

    def detect(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float):
        t = self.t
        try:
            geo = self.geometry(x_side, w, h, t._cf_update_next())
            big = geo.big
            side = x_side * big / t.config.search_size
            par = torch.tensor([side / big, cx - side / 2.0, cy - side / 2.0], dtype=torch.float64).float()
            frame = torch.from_numpy(np.ascontiguousarray(image))
            key = ("detect", tuple(frame.shape), geo.px, geo.py, geo.pad)
            with t._stage("detect"), torch.inference_mode():
                replay = self._replay(key, lambda: self._detect_fn(geo), [frame, par])
                picks_t, fine_big, resp, peaks = replay(frame, par)
                picks = picks_t.tolist()                        # the one device-to-host read of the frame
                t.last_response, t.last_peaks = resp.clone(), peaks.clone()
        except Exception as exc:                                  # noqa: BLE001 (any capture failure)
            if not self.capture:
                raise
            self._off(exc)
            return t.responses.detect(image, cx, cy, x_side, w, h)
        return detection(picks, resp.shape[-1], resp.shape[-1], (fine_big, (geo.px, geo.py)))

    def _solve_fn(self, nh: int, nw: int):
        """CF solve on windows gathered at whole-cell offsets (K x 2 tensor of top-left rows/columns) of the
        enlarged fine features, without host synchronisation (zero filter where the system is singular)."""
        t = self.t
        ar_h = torch.arange(nh, device=t.device)
        ar_w = torch.arange(nw, device=t.device)

        def fn(fine_big: torch.Tensor, offs: torch.Tensor, y: torch.Tensor):
            rows = offs[:, 0:1] + ar_h[None]
            cols = offs[:, 1:2] + ar_w[None]
            wins = fine_big[0][:, rows[:, :, None], cols[:, None, :]].transpose(0, 1)   # K x C x nh x nw
            return t._solve_prepared(wins, y, fallback=False, method="elimination")
        return fn

    def _solve_nearest(self, fine_big: torch.Tensor, pad: tuple[int, int], offsets: list[tuple[int, int]],
                       w_cells: float, h_cells: float, shift: tuple[int, int]) -> torch.Tensor:
        t = self.t
        px, py = pad
        try:
            nh, nw = fine_big.shape[-2] - 2 * py, fine_big.shape[-1] - 2 * px
            offs = torch.tensor([[py + shift[1] + dy, px + shift[0] + dx] for dx, dy in [(0, 0)] + list(offsets)],
                                dtype=torch.long)
            y = t._target(cf.fft_size(nh), cf.fft_size(nw), w_cells, h_cells)
            key = ("solve", tuple(fine_big.shape), len(offs), px, py)
            with torch.inference_mode():
                return self._replay(key, lambda: self._solve_fn(nh, nw), [fine_big, offs, y])(fine_big, offs, y)
        except Exception as exc:                                  # noqa: BLE001 (any capture failure)
            if not self.capture:
                raise
            self._off(exc)
            return super()._solve_nearest(fine_big, pad, offsets, w_cells, h_cells, shift)

    def blend(self, alpha: float, w_new: torch.Tensor) -> None:
        """In place: the detection graph reads ``w_hat``'s storage."""
        with torch.inference_mode():
            self.t.w_hat.copy_(alpha * w_new + (1.0 - alpha) * self.t.w_hat)


def choose(tracker) -> ResponsePath:
    """The strategy the tracker's config and device call for, chosen once when the tracker is built. Graphs
    cover the single pass with resampled CF scales and the whole-cell update, with torch crops on CUDA."""
    c = tracker.config
    graphs_fit = bool(c.single_pass and c.single_pass_update == "nearest"
                      and (c.single_pass_cf_scales == "resample" or c.scale_num == 1 or not c.uses_cf))
    if tracker.device.type == "cuda" and c.cuda_graphs and graphs_fit and tracker.crops.on_device:
        return GraphedSinglePass(tracker)
    return SinglePass(tracker) if c.single_pass else ReferenceCrops(tracker)
