"""The EDCF tracker (paper Sec. 3.3): fused multi-scale search with a long-term semantic template and a
short-term context-aware CF updated online.

``tracker.init(image, box)`` then ``box, score = tracker.update(image)`` per frame, on BGR uint8 images and
0-based ``[x, y, w, h]`` boxes (docs/ARCHITECTURE.md). Device-agnostic: pass ``device="cuda"`` to run there.
"""
from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import cf
from ..boxes import as_box, center, check_box_in_frame, context_size, from_center
from ..checkpoint import build_network, default_weights, load_checkpoint
from ..config import VARIANTS, TrackerConfig, resolve_variant  # noqa: F401 (VARIANTS re-exported)
from ..errors import ConfigError
from ..networks import EDCFNet
from ..process_setup import frame_done, steady_allocator
from ..formats.sequences import to_bgr
from ..geometry import EMBED_STRIDE, FINE_STRIDE, cells_per_pixel, gaussian_sigma_cells, search_side
from . import crops, responses
from .responses import Detection, context_cell_offsets

#: Entries the tracker keeps of its geometry-derived constants (cosine windows, sampling grids, Gaussian targets
#: keyed by the target's size): one frame uses fewer than 20; a long run whose target changes size would otherwise
#: add entries without end.
CACHE_ENTRIES = 48


class BoundedCache(OrderedDict):
    """A dict that keeps its ``limit`` most recently used entries (insertion and ``[]`` reads count as use)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)

    def _pairs(self) -> list:
        return [(key, dict.__getitem__(self, key)) for key in list(self)]     # reading is not a use here

    def copy(self) -> "BoundedCache":
        other = type(self)(self.limit)
        for key, value in self._pairs():
            other[key] = value
        return other

    def __reduce__(self):
        return type(self), (self.limit,), None, None, iter(self._pairs())


def cf_windows(fine_big: torch.Tensor, pad: int | tuple[int, int], offsets: list[tuple[int, int]],
               shift: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Slice the target window and the context windows out of enlarged fine features.

    ``fine_big`` (1 x C x (n + 2 pad_y) x (m + 2 pad_x)) are the features of a crop enlarged by ``pad`` cells
    (an int, or ``(pad_x, pad_y)``) on each side; returns (1 + k) x C x n x m: the window centred
    ``shift = (dx, dy)`` cells from the middle, then one window per ``(dx, dy)`` offset from it. Every
    ``|shift + offset|`` must stay within the padding.
    """
    px, py = (pad, pad) if isinstance(pad, int) else pad
    nh, nw = fine_big.shape[-2] - 2 * py, fine_big.shape[-1] - 2 * px
    sx, sy = shift
    wins = []
    for dx, dy in [(0, 0)] + list(offsets):
        oy, ox = py + sy + dy, px + sx + dx
        if not (0 <= oy <= 2 * py and 0 <= ox <= 2 * px):
            raise ValueError(f"window offset ({sx + dx}, {sy + dy}) exceeds the padding ({px}, {py})")
        wins.append(fine_big[0, :, oy:oy + nh, ox:ox + nw])
    return torch.stack(wins)


def fold_batchnorm(net: EDCFNet) -> EDCFNet:
    """A copy of ``net`` (eval mode) with every BatchNorm folded into the convolution before it, and the input
    normalisation folded into conv1 (it has no padding, so this is exact): the same function up to float
    rounding, without those passes (8 ms of a 29 ms frame in channels_last)."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    from ..networks import PIXEL_MEAN, PIXEL_STD
    net = copy.deepcopy(net).eval()
    conv1 = net.conv1[0]
    if conv1.padding == (0, 0) and net.normalize_inputs:
        with torch.no_grad():
            mean = torch.tensor(PIXEL_MEAN, dtype=conv1.weight.dtype, device=conv1.weight.device)
            std = torch.tensor(PIXEL_STD, dtype=conv1.weight.dtype, device=conv1.weight.device)
            weight = conv1.weight / std.view(1, 3, 1, 1)
            bias = -(weight * mean.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
            if conv1.bias is not None:
                bias = bias + conv1.bias
            folded = torch.nn.Conv2d(3, conv1.out_channels, conv1.kernel_size, stride=conv1.stride, bias=True)
            folded = folded.to(device=conv1.weight.device, dtype=conv1.weight.dtype).eval()
            folded.weight.copy_(weight)
            folded.bias.copy_(bias)
        net.conv1[0] = folded
        net.normalize_inputs = False
    for module in net.modules():
        if isinstance(module, torch.nn.Sequential):
            for i in range(len(module) - 1):
                conv, bn = module[i], module[i + 1]
                if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(conv, bn)
                    module[i + 1] = torch.nn.Identity()
    return net


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` (or None -> cpu); a clear ConfigError for any other device type (``mps``,
    ``meta``, ...) and when CUDA or that CUDA device is not available."""
    try:
        dev = torch.device(device or "cpu")
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {device!r}: use cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {str(device)!r} is not supported: use cpu, cuda or cuda:N")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but CUDA is not available (use --device cpu)")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConfigError(f"device {str(device)!r} requested but only {torch.cuda.device_count()} CUDA device(s) "
                          f"are present")
    return dev


class EDCFTracker:
    """EDCF and its ablation variants (by name), on any torch device.

    Args:
        variant: ``SiamFC``, ``EDSiam``, ``CACFNet``, ``CACFNet+`` or ``EDCF`` (default: the config's).
        weights: checkpoint path (None: the bundled default model).
        device: torch device string.
        config: a :class:`TrackerConfig` (default: defaults); ``overrides`` are applied on top.
        net: an already built network (training/validation), used instead of loading ``weights``.
    """

    def __init__(self, variant: str | None = None, weights: str | Path | None = None,
                 device: str | torch.device | None = "cpu", config: TrackerConfig | None = None,
                 overrides: dict | None = None, net: EDCFNet | None = None):
        cfg = config or TrackerConfig()
        changes = dict(overrides or {})
        if variant is not None:
            changes["variant"] = resolve_variant(variant)
        self.config = cfg.replace(**changes) if changes else cfg
        self.device = resolve_device(device)
        if net is None:
            own = weights if weights is not None else default_weights(self.config.variant)
            self.checkpoint = load_checkpoint(own)
            net = build_network(self.checkpoint, self.device)
        else:
            self.checkpoint = {"path": None, "metadata": {}}
            net = net.to(self.device)
        self.net = net.eval()
        self._autocast_dtype = None
        if self.config.half_precision:
            self._autocast_dtype = torch.bfloat16 if self.device.type == "cpu" else torch.float16
            self.net = fold_batchnorm(self.net).to(memory_format=torch.channels_last)
        self._scales = torch.tensor(
            [self.config.scale_step ** (i - self.config.scale_num // 2) for i in range(self.config.scale_num)],
            dtype=torch.float64)
        self._cache = BoundedCache(CACHE_ENTRIES)
        self.crops = crops.choose(self)            # how network inputs are cut (crops.py): OpenCV or torch
        # how the responses are computed (responses.py): one crop per scale, the single pass, or its CUDA graphs
        self.responses = responses.choose(self)
        self.graph_status = "on" if isinstance(self.responses, responses.GraphedSinglePass) else "off"
        self.initialized = False
        self.profile: dict[str, float] | None = None   # set to {} to accumulate per-stage seconds

    # -- helpers ---------------------------------------------------------------------------------------
    @property
    def variant(self) -> str:
        return self.config.variant

    def _autocast(self):
        if self._autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._autocast_dtype)

    def _cf_autocast(self):
        """Autocast for conv1 and the fine branch: only with ``cf_half_precision`` (the CF is sensitive to
        feature noise; with the relative ridge ``cf_lambda1_rel`` it tolerates bf16 features)."""
        if self._autocast_dtype is None or not self.config.cf_half_precision:
            return contextlib.nullcontext()
        return self._autocast()

    def _to_tensor(self, patches: list[np.ndarray]) -> torch.Tensor:
        arr = patches[0][None] if len(patches) == 1 else np.stack(patches)      # N x H x W x 3 (BGR) uint8
        t = torch.from_numpy(arr).to(self.device).permute(0, 3, 1, 2).float()  # channels_last strides
        if self._autocast_dtype is not None:
            return t.contiguous(memory_format=torch.channels_last)
        return t.contiguous()

    @contextlib.contextmanager
    def _stage(self, name: str):
        """Accumulate wall time of a tracking stage into ``self.profile`` (when it is a dict)."""
        if self.profile is None:
            yield
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t0 = time.perf_counter()
        yield
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.profile[name] = self.profile.get(name, 0.0) + time.perf_counter() - t0

    def _window(self, h: int, w: int) -> torch.Tensor:
        key = ("win", h, w)
        if key not in self._cache:
            self._cache[key] = cf.cosine_window(h, w, device=self.device)
        return self._cache[key]

    def _set_frame(self, image: np.ndarray) -> None:
        """The current frame (the crop backend prepares it once, at its first crop)."""
        self.crops.set_frame(image)

    def _crops(self, image: np.ndarray, boxes: list[tuple[float, float, float]], size: int,
               region: tuple[int, int, int, int] | None = None) -> torch.Tensor:
        """N x 3 x size x size network input: one square crop per ``(cx, cy, side)``, by the backend chosen when
        the tracker was built (``crops.py``; ``region``: only those rows and columns)."""
        return self.crops(image, boxes, size, region)

    def _frame_tensor(self, frame_u8: torch.Tensor) -> torch.Tensor:
        """H x W x 3 uint8 frame on the device -> 1 x 3 x H x W float with the mean colour subtracted."""
        return frame_u8.permute(2, 0, 1).unsqueeze(0).float() - self._avg_t

    def _low_and_fine(self, x: torch.Tensor, fine: bool = True):
        """conv1 activations and the float32 fine (CF) features of a batch of crops (None without ``fine``), in
        the CF branch's precision: float32 unless ``cf_half_precision``."""
        with torch.inference_mode(), self._cf_autocast():
            low = self.net.low_level(x)
            return low, (self.net.fine_from_low(low).float() if fine else None)

    def _features(self, x: torch.Tensor, semantic: bool, fine: bool):
        with torch.inference_mode(), self._autocast():
            if semantic and fine:
                s, f = self.net.embed_and_fine(x)
            elif semantic:
                s, f = self.net.embed(x), None
            else:
                s, f = None, self.net.fine(x)
        return (s.float() if s is not None else None), (f.float() if f is not None else None)

    def _cf_window(self, fine: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """The CF layer's input: the cosine-windowed features, and the FFT size they are zero-padded to
        (``cf.fft_size``: 123 -> 128 cells; the padding only adds zero border to windowed features and makes the
        FFTs ~10x faster). The FFTs pad (``s=``), so no padded copy is made."""
        hf, wf = fine.shape[-2:]
        return fine * self._window(hf, wf), (cf.fft_size(hf), cf.fft_size(wf))

    def _cf_detect(self, fine: torch.Tensor) -> torch.Tensor:
        """CF responses (Eq. 9) of the S scales' fine features, fftshifted (zero displacement in the middle)."""
        x, s = self._cf_window(fine)
        return torch.fft.fftshift(cf.cf_response(self.w_hat, x, s=s), dim=(-2, -1))

    def _solve_cf(self, fine_big: torch.Tensor, pad: int | tuple[int, int], offsets: list[tuple[int, int]],
                  w_cells: float, h_cells: float, shift: tuple[int, int] = (0, 0)) -> torch.Tensor:
        """Eq. 6-7 on windows of enlarged fine features: the target window centred ``shift`` cells from the
        middle of ``fine_big`` and the k context windows at ``offsets`` from it; the target is ``w_cells`` x
        ``h_cells`` fine cells."""
        return self._solve_windows(cf_windows(fine_big, pad, offsets, shift), w_cells, h_cells)

    def _target(self, hf: int, wf: int, w_cells: float, h_cells: float, spectrum: bool = False,
                band: bool = False) -> torch.Tensor | None:
        """Gaussian target (Eq. 8's y) on the hf x wf CF grid: sigma proportional to the target size in cells
        (with ``spectrum``: its ``rfft2``; with ``band``: ``cf.band_indices`` of that for ``cf_band``, None when
        every frequency is solved), cached alike."""
        sigma = gaussian_sigma_cells(w_cells, h_cells, self.config.cf_sigma)
        kind = "band" if band else "yf" if spectrum else "y"
        key = (kind, hf, wf, round(sigma, 3))
        if key not in self._cache:
            if band:
                yf = self._target(hf, wf, w_cells, h_cells, spectrum=True)
                self._cache[key] = cf.band_indices(yf, self.config.cf_band)
            else:
                y = cf.gaussian_target(hf, wf, sigma, device=self.device)
                self._cache[key] = torch.fft.rfft2(y) if spectrum else y
        return self._cache[key]

    def _solve_prepared(self, windows: torch.Tensor, y: torch.Tensor, fallback: bool = True,
                        method: str | None = None, yf: torch.Tensor | None = None,
                        band: torch.Tensor | None = None) -> torch.Tensor:
        """Eq. 6-7 for (1 + k) x C x h x w windows (target first) and the target ``y`` on the FFT grid (``yf``:
        its spectrum, when cached; ``band``: the frequencies to solve, ``cf.band_indices``, None: all). The
        elimination solve (the CPU's, and CUDA graphs') takes all windows through one FFT
        (``cf.cf_solve_stacked``); the batched solve goes through ``cf.cf_solve`` (every frequency)."""
        c = self.config
        fine, s = self._cf_window(windows)
        lam1 = cf.relative_ridge(fine[:1], c.cf_lambda1, c.cf_lambda1_rel)
        method = method or cf.default_method(fine.device)
        if method == "elimination":
            yf = torch.fft.rfft2(y) if yf is None else yf
            return cf.cf_solve_stacked(fine, yf, lam1, c.cf_lambda2, fallback=fallback,
                                       precision=c.cf_solve_precision, s=s, band=band)
        ph, pw = s[0] - fine.shape[-2], s[1] - fine.shape[-1]
        fine = F.pad(fine, (0, pw, 0, ph)) if ph or pw else fine
        ctx = fine[1:].unsqueeze(0) if fine.shape[0] > 1 else None
        return cf.cf_solve(fine[:1], y, ctx, lam1, c.cf_lambda2, fallback=fallback, method=method,
                           precision=c.cf_solve_precision)

    def _solve_windows(self, windows: torch.Tensor, w_cells: float, h_cells: float) -> torch.Tensor:
        """Eq. 6-7 for (1 + k) x C x n x n fine-feature windows: the target's, then the k context ones."""
        hf, wf = cf.fft_size(windows.shape[-2]), cf.fft_size(windows.shape[-1])
        return self._solve_prepared(windows, self._target(hf, wf, w_cells, h_cells),
                                    yf=self._target(hf, wf, w_cells, h_cells, spectrum=True),
                                    band=self._target(hf, wf, w_cells, h_cells, band=True))

    def _learn_cf(self, image: np.ndarray, cx: float, cy: float, w: float, h: float, side: float,
                  with_semantic: bool = False):
        """Solve Eq. 6-7 for the target patch centred on (cx, cy) and its k context patches.

        One enlarged crop covers the target patch and every context patch; its fine features are computed
        once and the k+1 windows are sliced from them (``cf_windows``), which costs ~2x one patch instead of
        k+1 patches. The semantic embedding of the target patch (for f*(x_1) of Eq. 18) comes from the same
        conv1 activations.
        """
        c = self.config
        size = c.search_size
        offsets = context_cell_offsets(w, h, side, c)
        pad = max([abs(v) for o in offsets for v in o], default=0)
        big = size + 2 * FINE_STRIDE * pad
        x = self._crops(image, [(cx, cy, side * big / size)], big)
        with torch.inference_mode():
            # The fine branch feeding the CF stays in float32 even in the half-precision presets: the
            # closed-form solve is sensitive to feature noise (bf16 cost up to 30 AUC points on a sequence).
            low, fine_big = self._low_and_fine(x)
            sem = None
            if with_semantic:
                n = low.shape[-1] - 2 * pad
                with self._autocast():
                    sem = self.net.semantic_from_low(low[..., pad:pad + n, pad:pad + n]).float()
            scale = cells_per_pixel(size, side)
            w_hat = self._solve_cf(fine_big, pad, offsets, w * scale, h * scale)
        return w_hat, sem

    def _semantic_on_cf_grid(self, f: torch.Tensor, hf: int, wf: int) -> torch.Tensor:
        """Bilinearly resample the semantic response (S x 1 x hs x ws, stride 8) onto the CF displacement grid
        (hf x wf, stride 2, zero displacement at the centre), as Eq. 16 requires; zero outside its support."""
        hs, ws = f.shape[-2:]
        key = ("grid", hs, ws, hf, wf)
        if key not in self._cache:
            dy = torch.arange(hf, device=self.device, dtype=torch.float32) - hf // 2
            dx = torch.arange(wf, device=self.device, dtype=torch.float32) - wf // 2
            gy = 2.0 * dy * FINE_STRIDE / (EMBED_STRIDE * max(hs - 1, 1))
            gx = 2.0 * dx * FINE_STRIDE / (EMBED_STRIDE * max(ws - 1, 1))
            grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)  # hf x wf x 2 (x, y)
            self._cache[key] = grid.unsqueeze(0)
        grid = self._cache[key].expand(f.shape[0], -1, -1, -1)
        return F.grid_sample(f, grid, mode="bilinear", padding_mode="zeros", align_corners=True)[:, 0]

    # -- public API ------------------------------------------------------------------------------------
    def init(self, image: np.ndarray, box) -> None:
        """Start tracking ``box`` (0-based x, y, w, h) in ``image`` (BGR uint8; grayscale accepted)."""
        image = to_bgr(image)
        box = as_box(box, "initial box")
        height, width = image.shape[:2]
        check_box_in_frame(box, width, height, "initial box")
        c = self.config
        cx, cy = center(box)
        w = max(float(box[2]), c.min_target_size)
        h = max(float(box[3]), c.min_target_size)
        self.responses.reset()
        self._avg_color = image.reshape(-1, 3).mean(axis=0)
        self._avg_t = torch.tensor(self._avg_color, dtype=torch.float32).reshape(1, 3, 1, 1).to(self.device)
        self._set_frame(image)
        self.pos = np.array([cx, cy], dtype=np.float64)
        self.size = np.array([w, h], dtype=np.float64)
        self.init_size = self.size.copy()
        self.frame_size = (width, height)
        z_side = context_size(w, h, c.context_amount)
        x_side = search_side(w, h, c.context_amount, c.exemplar_size, c.search_size)
        self.z_embed = None
        self.f1_peak = 1.0
        self.z_scales = None
        if c.uses_semantic:
            z = self._crops(image, [(cx, cy, z_side)], c.exemplar_size)
            self.z_embed, _ = self._features(z, True, False)
            if c.single_pass:
                # One search crop per frame: scale s is searched with an exemplar cut at z_side / s, in which
                # the target looks s times larger (what a search crop of side x_side * s does in the
                # reference path).
                zs = self._crops(image, [(cx, cy, z_side / s) for s in self._scales.tolist()], c.exemplar_size)
                self.z_scales, _ = self._features(zs, True, False)
        if c.uses_cf:
            self.w_hat, sem1 = self._learn_cf(image, cx, cy, w, h, x_side, with_semantic=c.uses_semantic)
        else:
            sem1 = self._features(self._crops(image, [(cx, cy, x_side)], c.search_size), True, False)[0]
        if c.uses_semantic:
            with torch.inference_mode():
                self.f1_peak = float(torch.sigmoid(self.net.xcorr(self.z_embed, sem1)).max())
        self._frame = 0
        self.initialized = True

    def _next_frame_every(self, interval: int) -> bool:
        """Whether the frame being tracked is an ``interval``-th one, counted as ``update`` counts
        ``cf_update_interval`` (frame numbers after init, from 1)."""
        return (self._frame + 1) % interval == 0

    def _cf_update_next(self) -> bool:
        """Whether the frame being tracked re-solves the CF."""
        return self.config.uses_cf and self._next_frame_every(self.config.cf_update_interval)

    def _fusion_tensors(self, f: torch.Tensor | None, g: torch.Tensor | None, hf: int, wf: int):
        """Eq. 16 fusion, scale choice and motion prior, all on the device. Returns (picks, response, peaks):
        ``picks`` = [best scale, peak index in the hf x wf response, its fused peak, the semantic peak of that
        scale (0 without the semantic branch)] as one float64 tensor, read back once per frame."""
        c = self.config
        f_peak = None
        if f is not None:
            f_peak = f.amax(dim=(1, 2, 3)).expand(c.scale_num)
            f_up = self._semantic_on_cf_grid(f, hf, wf)
        if f is not None and g is not None:
            fused = (1.0 - c.cf_weight) * f_up + c.cf_weight * g          # Eq. 16 (weighted)
        elif f is not None:
            fused = f_up
        else:
            fused = g
        peaks = fused.amax(dim=(1, 2)).double()
        key = ("penalty", peaks.device)
        if key not in self._cache:                  # scale_penalty on every scale but the centre one
            penalty = torch.full_like(peaks, c.scale_penalty)
            penalty[c.scale_num // 2] = 1.0
            self._cache[key] = penalty
        penalty = self._cache[key]
        adjusted = torch.where(peaks > 0, peaks * penalty, peaks / penalty)
        best_t = adjusted.argmax()
        resp = fused.index_select(0, best_t.reshape(1))[0]
        resp = resp - resp.min()
        resp = resp / resp.sum().clamp_min(1e-12)
        key = ("prior", hf, wf)
        if key not in self._cache:                  # the motion prior, centred on zero displacement
            prior = cf.centred_cosine_window(hf, wf, device=self.device)
            self._cache[key] = prior / prior.sum()
        prior_weight = c.motion_prior
        resp = (1.0 - prior_weight) * resp + prior_weight * self._cache[key]
        # index_select, not t[best_t]: indexing by a 0-dim tensor reads it back to the host (no CUDA graph capture)
        pick = best_t.reshape(1)
        sem_peak = f_peak.index_select(0, pick).double() if f_peak is not None else \
            torch.zeros(1, dtype=torch.float64, device=peaks.device)
        return torch.cat([best_t.double().reshape(1), resp.argmax().double().reshape(1), peaks.index_select(0, pick),
                          sem_peak]), resp, peaks

    def update(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Track one frame. Returns the 0-based ``[x, y, w, h]`` box and a confidence score.

        Eq. 3 and 9 give the semantic and CF responses at every scale, Eq. 16 fuses them (:meth:`_detect`); the
        fused peak moves the target and picks its scale (:meth:`_new_state`); Eq. 17-18 update the filter,
        weighted by the semantic confidence (:meth:`_update_filter`)."""
        if not self.initialized:
            raise RuntimeError("update() called before init()")
        image = to_bgr(image)
        self._set_frame(image)
        c = self.config
        cx, cy = self.pos
        w, h = self.size
        x_side = search_side(w, h, c.context_amount, c.exemplar_size, c.search_size)
        cf_update = self._cf_update_next()         # this frame re-solves the CF (decided before _frame moves on)
        det = self._detect(image, cx, cy, x_side, w, h)
        new_pos, new_size = self._new_state(det, x_side, image.shape[1], image.shape[0])
        self.pos, self.size = new_pos, new_size
        self._frame += 1
        frame_done()                               # every 50th frame: the heap's free pages back (process_setup.py)
        if cf_update:
            self._update_filter(image, det, new_pos - np.array([cx, cy]), new_size, x_side)
        return from_center(new_pos[0], new_pos[1], new_size[0], new_size[1]), det.score

    def _detect(self, image: np.ndarray, cx: float, cy: float, x_side: float, w: float, h: float) -> Detection:
        """Eq. 3, 9 and 16 on this frame: the fused response's best scale and peak, by the strategy chosen when the
        tracker was built (``self.responses``: one crop per scale, the single pass, or its CUDA graphs)."""
        return self.responses.detect(image, cx, cy, x_side, w, h)

    def _new_state(self, det: Detection, x_side: float, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """The peak's displacement moves the target; its scale changes the size, damped by ``scale_lr`` and
        clamped to the frame and to ``max_scale_change`` of the initial size."""
        c = self.config
        scales = self._scales.numpy()
        iy, ix = divmod(det.index, det.wf)
        cells = np.array([ix - det.wf // 2, iy - det.hf // 2], dtype=np.float64) * scales[det.scale]  # centre scale
        disp = cells * FINE_STRIDE * x_side / c.search_size
        new_size = self.size * (1.0 - c.scale_lr + c.scale_lr * scales[det.scale])
        new_size = np.clip(new_size, np.maximum(self.init_size / c.max_scale_change, c.min_target_size),
                           np.maximum(self.init_size * c.max_scale_change, c.min_target_size))
        new_size = np.minimum(new_size, np.array([width, height], dtype=np.float64) * 2.0)
        new_pos = self.pos + disp
        new_pos = np.clip(new_pos, 0.0, np.array([width, height], dtype=np.float64))
        return new_pos, new_size

    def _update_filter(self, image: np.ndarray, det: Detection, move: np.ndarray, new_size: np.ndarray,
                       x_side: float) -> None:
        """Eq. 17-18: w_t = alpha_t w + (1 - alpha_t) w_{t-1}, alpha_t = alpha f*(x_t) / f*(x_1). The new filter w
        comes from this frame's features where the single pass kept them, else from a new crop."""
        c = self.config
        alpha = c.cf_lr
        if c.uses_semantic:
            alpha = c.cf_lr * det.semantic_peak / max(self.f1_peak, 1e-6)
        alpha = float(np.clip(alpha, 0.0, c.cf_lr_max))
        if not alpha > 0:
            return
        with self._stage("cf_update"):
            w_new = self.responses.filter_from_features(det.features, move, new_size, x_side) \
                if det.features is not None else None
            if w_new is None:
                side = search_side(*new_size, c.context_amount, c.exemplar_size, c.search_size)
                w_new, _ = self._learn_cf(image, *self.pos, *new_size, side)
            self.responses.blend(alpha, w_new)

    def warmup(self, size: tuple[int, int] = (240, 320)) -> None:
        """One dummy init + update so that lazy allocations happen before the first real frame."""
        rng = np.random.default_rng(0)
        img = rng.integers(0, 255, size=(size[0], size[1], 3), dtype=np.uint8)
        self.init(img, [size[1] / 3, size[0] / 3, size[1] / 4, size[0] / 4])
        self.update(img)
        self.initialized = False


def build_tracker(variant: str | None = "EDCF", weights: str | Path | None = None,
                  device: str | torch.device | None = "cpu", config: TrackerConfig | str | Path | None = None,
                  overrides: dict | None = None, threads: int | None = None) -> EDCFTracker:
    """The one builder every adapter uses (TraX, pysot, got10k, CLI).

    ``config``: a :class:`TrackerConfig` or a YAML file of one. ``threads``: torch's CPU thread count for this
    process (None: leave it). Also fixes glibc's allocator thresholds for the process (``process_setup.py``; the
    tracker hands the heap's free pages back every 50 frames of the process)."""
    steady_allocator()
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"threads must be a positive integer, got {threads!r}")
        torch.set_num_threads(threads)
    if config is not None and not isinstance(config, TrackerConfig):
        config = TrackerConfig.from_yaml(config)
    return EDCFTracker(variant=variant, weights=weights, device=device, config=config, overrides=overrides)

