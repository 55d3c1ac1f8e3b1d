"""Procedural tracking videos, so training and tests need no download.

Each synthetic track is a deterministic function of ``(seed, track index)``: a procedural background
(multi-octave coloured noise, stripes or blobs), a textured target with a soft elliptic or rectangular mask
that moves along a smooth random trajectory with scale change, 0-3 similar-looking distractors (the same
texture, slightly re-coloured) on their own trajectories, an occluder bar that crosses the target during part
of the video (frames where it hides more than half of the target are flagged invisible), a global illumination
change and occasional blur. Frames are rendered on demand (a few ms each), so a track costs no memory beyond its
background and textures (kept in a small cache).

With ``real_images`` (folders of photos, or OTB-style sequence roots with an ``index.json``, of which only the
``train`` split is read, minus ``exclude``), a fraction ``real_prob`` of the tracks take their background from
a random crop of a real image and their target (and occluder) texture from a random structured patch of another
one: real image statistics and far more distinct "objects" than a few annotated sequences hold. An image that
cannot be read makes that track procedural (counted in ``stats["bad_images"]``).
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from ..errors import ConfigError, InputError
from ..formats.sequences import IMAGE_EXTENSIONS, list_split
from .datasets import Track, TrackDataset


def _bench_names(root: Path) -> set[str]:
    """Names of the ``bench`` sequences of an OTB-style root with ``index.json`` (none if it has none)."""
    try:
        return {f.name for f in list_split(root, "bench")}
    except (InputError, KeyError, TypeError):
        return set()


def real_image_paths(roots, exclude=None) -> list[str]:
    """Image files for ``real_images``: a folder with ``index.json`` gives the frames of its ``train``-split
    sequences (minus ``exclude``); any other folder all images below it, refusing a folder that lies inside a
    ``bench`` sequence of such a root; a file is taken as it is."""
    if isinstance(roots, (str, Path)):
        roots = [roots]
    exclude = set(exclude or [])
    paths: list[str] = []
    for root in roots:
        root = Path(root)
        if root.is_file():
            paths.append(str(root))
            continue
        if not root.is_dir():
            raise InputError(f"real_images: folder not found: {root}")
        if (root / "index.json").is_file():
            folders = [f / "img" if (f / "img").is_dir() else f for f in list_split(root, "train")
                       if f.name not in exclude]
        else:
            resolved = root.resolve()
            for anc in [resolved, *resolved.parents][:3]:
                if (anc.parent / "index.json").is_file() and anc.name in _bench_names(anc.parent):
                    raise ConfigError(f"real_images: {root} is inside the 'bench' sequence {anc.name} of "
                                      f"{anc.parent}: bench data is for evaluation only")
            folders = [root]
        for folder in folders:
            paths.extend(sorted(str(f) for f in folder.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS))
    if not paths:
        raise InputError(f"real_images: no images found in {', '.join(str(r) for r in roots)}")
    return paths


def _real_background(rng: np.random.Generator, img: np.ndarray, h: int, w: int) -> np.ndarray:
    """A random crop of ``img`` with the aspect of h x w (30-100 % of the largest such crop), resized, float32."""
    H, W = img.shape[:2]
    side = min(H / h, W / w) * rng.uniform(0.3, 1.0)
    ch, cw = max(2, int(h * side)), max(2, int(w * side))
    y0, x0 = int(rng.integers(0, H - ch + 1)), int(rng.integers(0, W - cw + 1))
    if rng.random() < 0.5:
        img = img[:, ::-1]
        x0 = W - cw - x0
    return cv2.resize(np.ascontiguousarray(img[y0:y0 + ch, x0:x0 + cw]), (w, h),
                      interpolation=cv2.INTER_AREA).astype(np.float32)


def _real_patch(rng: np.random.Generator, img: np.ndarray, side: int, tries: int = 6) -> np.ndarray:
    """The most structured (highest grey-level spread) of a few random square patches of ``img``, side x side."""
    H, W = img.shape[:2]
    best, best_std = None, -1.0
    for _ in range(tries):
        ps = int(rng.uniform(0.1, 0.5) * min(H, W))
        ps = max(8, min(ps, H, W))
        y0, x0 = int(rng.integers(0, H - ps + 1)), int(rng.integers(0, W - ps + 1))
        patch = img[y0:y0 + ps, x0:x0 + ps]
        std = float(patch.std())
        if std > best_std:
            best, best_std = patch, std
    return cv2.resize(np.ascontiguousarray(best), (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)


def _noise(rng: np.random.Generator, h: int, w: int, octaves: int = 4, channels: int = 3) -> np.ndarray:
    """Multi-octave value noise in [0, 1], H x W x C float32."""
    out = np.zeros((h, w, channels), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gh, gw = max(2, h >> (5 - o)), max(2, w >> (5 - o))
        grid = rng.random((gh, gw, channels)).astype(np.float32)
        up = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        out += amp * up.reshape(h, w, channels)
        total += amp
        amp *= 0.55
    out /= total
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-6)


def _palette(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3)).astype(np.float32)


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A colourful structured texture (noise mapped to a palette plus shapes), H x W x 3 float32 0..255."""
    kind = rng.integers(0, 3)
    pal = _palette(rng, 3)
    t = _noise(rng, h, w, octaves=int(rng.integers(2, 5)), channels=1)[..., 0]
    img = pal[0] * t[..., None] + pal[1] * (1 - t[..., None])
    if kind == 1:   # stripes
        freq = rng.uniform(2, 8)
        ang = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        s = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (xx * np.cos(ang) + yy * np.sin(ang)) / max(h, w))
        img = img * (1 - 0.6 * s[..., None]) + pal[2] * 0.6 * s[..., None]
    for _ in range(int(rng.integers(2, 7))):     # random shapes give corners and edges
        c = tuple(float(v) for v in _palette(rng, 1)[0])
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (x0, y0), int(rng.integers(2, max(3, min(h, w) // 3))), c, -1)
        else:
            x1, y1 = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.rectangle(img, (x0, y0), (x1, y1), c, -1)
    return img.astype(np.float32)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    kind = rng.integers(0, 3)
    if kind == 0:
        base = _noise(rng, h, w, octaves=5) * 255.0
    elif kind == 1:
        base = _texture(rng, h, w)
    else:
        base = _noise(rng, h, w, octaves=3) * 160.0 + 40.0
        for _ in range(int(rng.integers(10, 40))):   # clutter blobs
            c = tuple(float(v) for v in _palette(rng, 1)[0])
            cv2.ellipse(base, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                        (int(rng.integers(3, 30)), int(rng.integers(3, 30))), float(rng.uniform(0, 180)),
                        0, 360, c, -1)
    return base.astype(np.float32)


def _mask(shape: str, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    if shape == "ellipse":
        cv2.ellipse(m, (w // 2, h // 2), (max(1, w // 2 - 1), max(1, h // 2 - 1)), 0, 0, 360, 1.0, -1)
    else:
        m[:] = 1.0
    return cv2.GaussianBlur(m, (3, 3), 0)


class SyntheticTracks(TrackDataset):
    """``num_tracks`` procedural videos of ``num_frames`` frames of ``size`` (H, W)."""

    name = "synthetic"

    def __init__(self, num_tracks: int = 200, num_frames: int = 100, size: tuple[int, int] = (240, 320),
                 seed: int = 0, cache_size: int = 32, real_images=None, real_prob: float = 0.5,
                 exclude: list[str] | None = None):
        super().__init__()
        if num_tracks < 1 or num_frames < 2:
            raise ValueError("synthetic data needs num_tracks >= 1 and num_frames >= 2")
        if not 0.0 <= float(real_prob) <= 1.0:
            raise ConfigError(f"synthetic real_prob must lie in [0, 1], got {real_prob}")
        self.real_paths = real_image_paths(real_images, exclude) if real_images else []
        self.real_prob = float(real_prob) if self.real_paths else 0.0
        self.stats["bad_images"] = 0
        self.size = (int(size[0]), int(size[1]))
        self.seed = int(seed)
        self.num_frames = int(num_frames)
        self._params = [self._make_params(i) for i in range(num_tracks)]
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        for i, p in enumerate(self._params):
            boxes = np.stack([self._state(p, t)[0] for t in range(num_frames)])
            vis = np.array([self._occluded_fraction(p, t, boxes[t]) < 0.5 for t in range(num_frames)])
            self.tracks.append(Track(f"synthetic_{i:05d}", list(range(num_frames)), boxes, vis))

    # -- deterministic parameters ------------------------------------------------------------------
    def _make_params(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, i, 7])
        h, w = self.size
        tw, th = rng.uniform(18, 0.3 * w), rng.uniform(18, 0.35 * h)
        p = {
            "idx": i, "tw": tw, "th": th,
            "x0": rng.uniform(0.25, 0.75) * w, "y0": rng.uniform(0.25, 0.75) * h,
            "vx": rng.uniform(-1.5, 1.5), "vy": rng.uniform(-1.2, 1.2),
            "ax": rng.uniform(0, 0.2) * w, "ay": rng.uniform(0, 0.2) * h,
            "fx": rng.uniform(0.01, 0.06), "fy": rng.uniform(0.01, 0.06), "ph": rng.uniform(0, 6.28, 4),
            "scale_amp": rng.uniform(0.0, 0.35), "scale_f": rng.uniform(0.01, 0.05),
            "aspect_amp": rng.uniform(0.0, 0.1),
            "shape": "ellipse" if rng.random() < 0.5 else "rect",
            "n_distractors": int(rng.integers(0, 4)),
            "illum_amp": rng.uniform(0.0, 0.35), "illum_f": rng.uniform(0.01, 0.05),
            "blur_p": rng.uniform(0.0, 0.2),
            "occ": rng.random() < 0.5,
            "occ_t0": rng.uniform(0.1, 0.7) * self.num_frames, "occ_len": rng.uniform(5, 25),
            "occ_w": rng.uniform(0.3, 0.8), "occ_dir": int(rng.integers(0, 2)),
            "dist": [{"x0": rng.uniform(0.1, 0.9) * w, "y0": rng.uniform(0.1, 0.9) * h,
                      "vx": rng.uniform(-2, 2), "vy": rng.uniform(-2, 2), "ph": rng.uniform(0, 6.28),
                      "gain": rng.uniform(0.75, 1.25, 3), "s": rng.uniform(0.8, 1.2)}
                     for _ in range(4)],
        }
        return p

    def _state(self, p: dict, t: int) -> tuple[np.ndarray, float]:
        h, w = self.size
        s = float(np.exp(p["scale_amp"] * np.sin(2 * np.pi * p["scale_f"] * t + p["ph"][2])))
        a = float(np.exp(p["aspect_amp"] * np.sin(2 * np.pi * p["scale_f"] * 1.7 * t + p["ph"][3])))
        tw, th = p["tw"] * s * a, p["th"] * s / a
        cx = p["x0"] + p["vx"] * t + p["ax"] * np.sin(2 * np.pi * p["fx"] * t + p["ph"][0])
        cy = p["y0"] + p["vy"] * t + p["ay"] * np.sin(2 * np.pi * p["fy"] * t + p["ph"][1])
        cx = self._bounce(cx, tw / 2, w - tw / 2)        # reflect at the borders: the target stays in view
        cy = self._bounce(cy, th / 2, h - th / 2)
        return np.array([cx - tw / 2, cy - th / 2, tw, th]), s

    @staticmethod
    def _bounce(v: float, lo: float, hi: float) -> float:
        if hi <= lo:
            return (lo + hi) / 2
        span = hi - lo
        m = np.mod(v - lo, 2 * span)
        return lo + (m if m <= span else 2 * span - m)

    def _occluder(self, p: dict, t: int, box: np.ndarray) -> tuple[int, int, int, int] | None:
        if not p["occ"] or not (p["occ_t0"] <= t < p["occ_t0"] + p["occ_len"]):
            return None
        frac = (t - p["occ_t0"]) / p["occ_len"]          # sweeps across the target
        x, y, bw, bh = box
        if p["occ_dir"] == 0:
            ow = p["occ_w"] * bw
            ox = x - ow + frac * (bw + ow)
            return int(ox), int(y - 0.3 * bh), int(ox + ow), int(y + 1.3 * bh)
        oh = p["occ_w"] * bh
        oy = y - oh + frac * (bh + oh)
        return int(x - 0.3 * bw), int(oy), int(x + 1.3 * bw), int(oy + oh)

    def _occluded_fraction(self, p: dict, t: int, box: np.ndarray) -> float:
        r = self._occluder(p, t, box)
        if r is None:
            return 0.0
        x, y, bw, bh = box
        iw = max(0.0, min(r[2], x + bw) - max(r[0], x))
        ih = max(0.0, min(r[3], y + bh) - max(r[1], y))
        return iw * ih / max(bw * bh, 1e-6)

    def _assets(self, p: dict) -> dict:
        i = p["idx"]
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        rng = np.random.default_rng([self.seed, i, 11])
        h, w = self.size
        tex_side = 96
        assets = None
        if self.real_paths and rng.random() < self.real_prob:
            picks = rng.integers(0, len(self.real_paths), size=3)
            imgs = [cv2.imread(self.real_paths[k], cv2.IMREAD_COLOR) for k in picks]
            if any(im is None or im.shape[0] < 8 or im.shape[1] < 8 for im in imgs):
                if not self.stats["bad_images"]:
                    bad = [self.real_paths[k] for k, im in zip(picks, imgs) if im is None or min(im.shape[:2]) < 8]
                    print(f"[edcf train] synthetic: cannot use real image {bad[0]}; this track (and any other "
                          f"such) is procedural")
                self.stats["bad_images"] += 1
            else:
                assets = {"bg": _real_background(rng, imgs[0], h, w), "tex": _real_patch(rng, imgs[1], tex_side),
                          "occ_tex": _real_patch(rng, imgs[2], 64)}
        if assets is None:
            assets = {"bg": _background(rng, h, w), "tex": _texture(rng, tex_side, tex_side),
                      "occ_tex": _texture(rng, 64, 64)}
        self._cache[i] = assets
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return assets

    # -- rendering ---------------------------------------------------------------------------------
    @staticmethod
    def _paste(img: np.ndarray, tex: np.ndarray, mask_shape: str, box: np.ndarray) -> None:
        x, y, bw, bh = box
        x0, y0 = int(round(x)), int(round(y))
        tw, th = max(2, int(round(bw))), max(2, int(round(bh)))
        patch = cv2.resize(tex, (tw, th), interpolation=cv2.INTER_LINEAR)
        m = _mask(mask_shape, th, tw)[..., None]
        H, W = img.shape[:2]
        ix0, iy0, ix1, iy1 = max(0, x0), max(0, y0), min(W, x0 + tw), min(H, y0 + th)
        if ix1 <= ix0 or iy1 <= iy0:
            return
        px0, py0 = ix0 - x0, iy0 - y0
        sub = patch[py0:py0 + iy1 - iy0, px0:px0 + ix1 - ix0]
        ms = m[py0:py0 + iy1 - iy0, px0:px0 + ix1 - ix0]
        img[iy0:iy1, ix0:ix1] = ms * sub + (1 - ms) * img[iy0:iy1, ix0:ix1]

    def render(self, track_index: int, t: int) -> np.ndarray:
        """Frame ``t`` of track ``track_index``: BGR uint8 H x W x 3."""
        p = self._params[track_index]
        a = self._assets(p)
        h, w = self.size
        img = a["bg"].copy()
        box, s = self._state(p, t)
        for k in range(p["n_distractors"]):
            d = p["dist"][k]
            dw, dh = p["tw"] * d["s"], p["th"] * d["s"]
            cx = self._bounce(d["x0"] + d["vx"] * t + 10 * np.sin(0.05 * t + d["ph"]), dw / 2, w - dw / 2)
            cy = self._bounce(d["y0"] + d["vy"] * t, dh / 2, h - dh / 2)
            self._paste(img, np.clip(a["tex"] * d["gain"], 0, 255), p["shape"],
                        np.array([cx - dw / 2, cy - dh / 2, dw, dh]))
        self._paste(img, a["tex"], p["shape"], box)
        occ = self._occluder(p, t, box)
        if occ is not None:
            x0, y0, x1, y1 = max(0, occ[0]), max(0, occ[1]), min(w, occ[2]), min(h, occ[3])
            if x1 > x0 and y1 > y0:
                img[y0:y1, x0:x1] = cv2.resize(a["occ_tex"], (x1 - x0, y1 - y0))
        gain = 1.0 + p["illum_amp"] * np.sin(2 * np.pi * p["illum_f"] * t)
        img *= gain
        rng = np.random.default_rng([self.seed, track_index, t, 13])
        if rng.random() < p["blur_p"]:
            k = int(rng.integers(2, 5)) * 2 + 1
            if rng.random() < 0.5:
                img = cv2.GaussianBlur(img, (k, k), 0)
            else:   # horizontal or vertical motion blur
                kern = np.zeros((k, k), np.float32)
                kern[k // 2, :] = 1.0 / k
                img = cv2.filter2D(img, -1, kern if rng.random() < 0.5 else kern.T)
        img += rng.normal(0, 3.0, img.shape).astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8)

    def read_frame(self, track: Track, index: int) -> np.ndarray:
        return self.render(int(track.name.rsplit("_", 1)[1]), int(track.frames[index]))
