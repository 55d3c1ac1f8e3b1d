"""Typed tracker configuration: every tracking parameter in one place, with its meaning.

``TrackerConfig.from_yaml(path, **overrides)`` and ``TrackerConfig.from_dict`` reject unknown keys with the
list of valid ones; values are type-checked. Variants (paper Table 1) select which responses are used.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

#: Smallest exemplar side the encoder maps to a 1 x 1 embedding (AlexNet: 11/2, pool 3/2, 5, pool 3/2, 3, 3, 3).
MIN_EXEMPLAR_SIZE = 87
#: Smallest search side for the CF branch alone (conv1 11/2: at least 7 x 7 fine cells).
MIN_SEARCH_SIZE = 23
#: Largest exemplar / search side: 4x the paper's 255 keeps a crop and its features to tens of MB (a side of 100000
#: would ask OpenCV for a 30 GB crop).
MAX_CROP_SIZE = 1024

#: Paper Table 1 variants -> (uses semantic response f, uses CF response g).
VARIANT_BRANCHES: dict[str, tuple[bool, bool]] = {
    "SiamFC": (True, False),     # semantic cross-correlation only, trained with L_high
    "EDSiam": (True, False),     # semantic only, trained with L_high + L_recon
    "CACFNet": (False, True),    # context-aware CF only, trained with L_low
    "CACFNet+": (False, True),   # CF only at tracking time, trained with all three losses
    "EDCF": (True, True),        # fused responses (Eq. 16), trained with all three losses
}
VARIANTS: tuple[str, ...] = tuple(VARIANT_BRANCHES)

#: Identifier-safe aliases (VOT's trackers.ini allows only [A-Za-z0-9_-]).
VARIANT_ALIASES = {"CACFNet_plus": "CACFNet+", "CACFNetplus": "CACFNet+"}


def resolve_variant(name: str) -> str:
    """Canonical variant name, accepting aliases and any letter case; ConfigError listing the valid ones."""
    aliases = {k.lower(): v for k, v in VARIANT_ALIASES.items()}
    name = aliases.get(str(name).lower(), name)
    for v in VARIANTS:
        if v.lower() == str(name).lower():
            return v
    raise ConfigError(f"unknown variant {name!r}; valid variants: {', '.join(VARIANTS)} "
                      f"(aliases: {', '.join(VARIANT_ALIASES)})")


@dataclass(frozen=True)
class TrackerConfig:
    """Every online tracking parameter. Defaults follow the paper (Sec. 4.1) where it gives a value. The paper's
    parameters come first; the execution options (how the responses are computed) follow them."""

    # ===== the paper's algorithm =====
    variant: str = "EDCF"            # which responses to use (see VARIANT_BRANCHES)
    # --- crops (SiamFC geometry) ---
    exemplar_size: int = 127         # exemplar patch side fed to the encoder (pixels)
    search_size: int = 255           # search patch side (pixels); CF patches use the same size
    context_amount: float = 0.5      # exemplar context p = context_amount * (w + h) around the target
    # --- scale search ---
    scale_num: int = 3               # number of search scales (paper: 3)
    scale_step: float = 1.02         # ratio between neighbouring scales (paper: S = 1.02)
    scale_penalty: float = 0.985     # multiplies the peak of every scale other than 1 (prefers no change)
    scale_lr: float = 0.6            # damping of the size update towards the best scale
    # --- response post-processing ---
    window_influence: float = 0.25   # weight of the cosine-window motion prior mixed into the fused response
    #                                  (the trackers with the CF branch: CACFNet, CACFNet+, EDCF)
    semantic_window_influence: float = 0.25  # the same for the trackers without it (SiamFC, EDSiam)
    cf_weight: float = 0.6           # Eq. 16 fusion weight of the CF response g; f gets 1 - cf_weight. Eq. 16 as
    #                                  printed is 0.5 (f + g); 0.6 was chosen for the bundled recipe by
    #                                  cross-validation over the train split, each fold's model tracking the videos
    #                                  it did not train on (BENCHMARKS.md 4; 0.8 before 2026-12-07)
    # --- context-aware CF layer (Eq. 6-7, 17-18) ---
    cf_lambda1: float = 1e-4         # lambda_1, ridge regulariser of Eq. 6
    cf_lambda1_rel: float = 0.003    # extra lambda_1 relative to the target features' energy (scale-free ridge;
    #                                  chosen on the train split: 35.1 -> 45.3 mean AUC there, see BENCHMARKS.md)
    cf_lambda2: float = 0.1          # lambda_2, weight of the context patches in Eq. 6
    cf_num_context: int = 4          # k context patches: above, left, below, right (CACF)
    cf_context_distance: float = 1.0  # context patch offset in target sizes
    cf_sigma: float = 0.1            # Gaussian target sigma as a fraction of the target size (in feature cells)
    cf_lr: float = 0.017             # basic learning rate alpha of Eq. 18
    cf_lr_max: float = 0.1           # upper bound on the dynamic rate alpha_t of Eq. 18
    # --- robustness ---
    min_target_size: float = 4.0     # smallest allowed box side (pixels)
    max_scale_change: float = 5.0    # box side stays within [1/x, x] times its initial side
    # ===== execution: how the responses are computed (cheaper paths and approximations of the same algorithm;
    #       the presets of PRESETS set these, the paper's parameters above stay) =====
    cf_update_interval: int = 1       # re-solve the CF every n-th frame (1 = every frame, as the paper)
    semantic_scales: str = "all"     # "all": semantic response at every scale; "center": one pass (fast)
    single_pass: bool = False        # one enlarged crop and one encoder pass per frame: CF scales from resampled
    #                                  fine features, semantic scales from exemplars cut at every scale, CF
    #                                  update from the same features shifted to the new position
    single_pass_update: str = "nearest"  # single_pass CF update windows: "nearest" whole cells, or "bilinear"
    #                                  (sub-cell position and the new size's cell pitch)
    single_pass_margin: int = 8      # extra fine cells around the context windows for the move (single_pass)
    single_pass_cf_scales: str = "resample"  # single_pass CF scales: "resample" the centre crop's fine features at
    #                                  each scale's cell pitch (one crop), or "crops": the other scales from their own
    #                                  search crops through conv1 and the fine branch only (as the reference does;
    #                                  the semantic branch still runs once)
    side_crop_interval: int = 1      # with single_pass_cf_scales="crops": cut the other scales' crops every n-th
    #                                  frame only (the frames whose CF is re-solved when n = cf_update_interval),
    #                                  resampling on the frames between
    cf_solve_precision: str = "double"  # tracking CF solve (Eq. 7 per frequency) in "double" (complex128) or
    #                                  "single" (complex64: ~1 ms of ~4.5 ms saved per solve on 2 CPU threads;
    #                                  filters within ~1e-3 relative; singular frequencies re-solved in double)
    cf_band: float = 0.0             # tracking CF solve only at the frequencies where the target's spectrum |y^|
    #                                  exceeds this fraction of its peak, the filter zero elsewhere (cf.band_indices:
    #                                  the exact filter is below cf_band max|y^| / (2 sqrt(lambda_1)) there); 0 = all.
    #                                  The CPU presets use 1e-4 (15-17 % of the 128 x 128 grid's frequencies at
    #                                  the tracker's sigma of ~3 cells); the cuda_graphs solve ignores it
    half_precision: bool = False     # bf16 autocast + channels_last on CPU / fp16 on CUDA (fast path)
    cf_half_precision: bool = False  # with half_precision: conv1 and the fine (CF) branch in it too
    crop_backend: str = "auto"       # "opencv": crops by cv2.warpAffine on the host; "torch": the frame is copied
    #                                  to the device once and every crop is a grid_sample there (no per-crop
    #                                  host work or copies); "auto": torch on CUDA, opencv on the CPU
    cuda_graphs: bool = False        # EXPERIMENTAL, not yet working on a GPU (BENCHMARKS.md 5): on CUDA with
    #                                  single_pass (nearest update, resampled CF scales) and torch crops, replay
    #                                  each frame's detection and CF solve from captured CUDA graphs (one host
    #                                  read per frame; singular CF frequencies get a zero filter). A failed
    #                                  capture turns it off with a warning and tracking goes on without graphs.
    #                                  Ignored elsewhere.

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            expected = {"int": int, "float": (int, float), "bool": bool, "str": str}[str(f.type)]
            if isinstance(value, bool) and f.type != "bool" or not isinstance(value, expected):
                raise ConfigError(f"config key {f.name!r} must be {f.type}, got {value!r}")
        object.__setattr__(self, "variant", resolve_variant(self.variant))
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"config key {f.name!r} must be a finite number, got {value!r}")
        if self.exemplar_size < 1 or self.search_size < MIN_SEARCH_SIZE:
            raise ConfigError(f"exemplar_size must be > 0 and search_size >= {MIN_SEARCH_SIZE}, got "
                              f"{self.exemplar_size} and {self.search_size}")
        if max(self.exemplar_size, self.search_size) > MAX_CROP_SIZE:
            raise ConfigError(f"exemplar_size and search_size must be <= {MAX_CROP_SIZE} pixels (the paper uses 127 "
                              f"and 255), got {self.exemplar_size} and {self.search_size}")
        if self.uses_semantic and (self.exemplar_size < MIN_EXEMPLAR_SIZE or self.search_size < self.exemplar_size):
            raise ConfigError(f"with the semantic branch ({self.variant}) exemplar_size must be >= "
                              f"{MIN_EXEMPLAR_SIZE} (the encoder's receptive field) and search_size >= "
                              f"exemplar_size, got {self.exemplar_size} and {self.search_size}")
        positive = ("context_amount", "scale_step", "scale_penalty", "cf_sigma", "cf_context_distance",
                    "min_target_size")
        for key in positive:
            if getattr(self, key) <= 0:
                raise ConfigError(f"config key {key!r} must be > 0, got {getattr(self, key)}")
        for key in ("cf_lambda1", "cf_lambda1_rel", "cf_lambda2", "cf_num_context"):
            if getattr(self, key) < 0:
                raise ConfigError(f"config key {key!r} must be >= 0, got {getattr(self, key)}")
        for key in ("scale_lr", "window_influence", "semantic_window_influence", "cf_lr", "cf_lr_max"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"config key {key!r} must lie in [0, 1], got {getattr(self, key)}")
        if self.max_scale_change < 1.0:
            raise ConfigError(f"max_scale_change must be >= 1, got {self.max_scale_change}")
        if self.scale_num < 1 or self.scale_num % 2 == 0:
            raise ConfigError(f"scale_num must be a positive odd number, got {self.scale_num}")
        if self.semantic_scales not in ("all", "center"):
            raise ConfigError(f"semantic_scales must be 'all' or 'center', got {self.semantic_scales!r}")
        if self.single_pass_update not in ("nearest", "bilinear"):
            raise ConfigError(f"single_pass_update must be 'nearest' or 'bilinear', got {self.single_pass_update!r}")
        if self.single_pass_cf_scales not in ("resample", "crops"):
            raise ConfigError(f"single_pass_cf_scales must be 'resample' or 'crops', got {self.single_pass_cf_scales!r}")
        if self.cf_solve_precision not in ("double", "single"):
            raise ConfigError(f"cf_solve_precision must be 'double' or 'single', got {self.cf_solve_precision!r}")
        if self.crop_backend not in ("auto", "opencv", "torch"):
            raise ConfigError(f"crop_backend must be 'auto', 'opencv' or 'torch', got {self.crop_backend!r}")
        if self.single_pass_margin < 0:
            raise ConfigError(f"single_pass_margin must be >= 0, got {self.single_pass_margin}")
        if self.side_crop_interval < 1:
            raise ConfigError(f"side_crop_interval must be >= 1, got {self.side_crop_interval}")
        if self.cf_update_interval < 1:
            raise ConfigError(f"cf_update_interval must be >= 1, got {self.cf_update_interval}")
        if not 0.0 <= self.cf_band < 1.0:
            raise ConfigError(f"cf_band must lie in [0, 1), got {self.cf_band}")
        if not 0.0 <= self.cf_weight <= 1.0:
            raise ConfigError(f"cf_weight must lie in [0, 1], got {self.cf_weight}")

    @property
    def uses_semantic(self) -> bool:
        return VARIANT_BRANCHES[self.variant][0]

    @property
    def uses_cf(self) -> bool:
        return VARIANT_BRANCHES[self.variant][1]

    @property
    def motion_prior(self) -> float:
        """The cosine window's weight in this variant's response: ``window_influence`` with the CF branch,
        ``semantic_window_influence`` without it."""
        return self.window_influence if self.uses_cf else self.semantic_window_influence

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None = None, **overrides: Any) -> "TrackerConfig":
        merged = dict(data or {})
        merged.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(merged) - set(cls.keys()))
        if unknown:
            raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; valid keys: {', '.join(cls.keys())}")
        return cls(**merged)

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> "TrackerConfig":
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys to values")
        data = data.get("tracker", data) if isinstance(data.get("tracker"), dict) else data
        return cls.from_dict(data, **overrides)

    def replace(self, **changes: Any) -> "TrackerConfig":
        return TrackerConfig.from_dict(asdict(self), **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named presets: deltas applied over the defaults (``edcf track --preset NAME``).
PRESETS: dict[str, dict[str, Any]] = {
    "reference": {},                                    # fp32 eager, the accuracy reference
    # one enlarged crop through conv1 and the fine branch (CF at the centre scale, CF update, semantic branch once);
    # the other CF scales from their own crops (conv1 and the fine branch only) every 3rd frame, resampled from the
    # enlarged crop's features in between; bf16 features, single-precision CF solve on the frequencies where the
    # target's spectrum exceeds 1e-4 of its peak (cf_band: boxes identical to the full solve on the train split, the
    # CF update ~1 ms cheaper; BENCHMARKS.md 4); >= 40 FPS on 2 CPU threads
    "realtime": {"half_precision": True, "cf_half_precision": True, "single_pass": True,
                 "single_pass_cf_scales": "crops", "side_crop_interval": 3, "cf_solve_precision": "single",
                 "cf_band": 1e-4},
    # realtime with the other scales' crops on every frame: closer to the reference, ~35 FPS on 2 CPU threads
    "balanced": {"half_precision": True, "cf_half_precision": True, "single_pass": True,
                 "single_pass_cf_scales": "crops", "cf_solve_precision": "single", "cf_band": 1e-4},
    # realtime, re-solving the CF every 2nd frame with a smaller move margin (more re-crops on fast motion), the
    # other scales' crops on those frames only (resampled scales in between); chosen on the train split over
    # every 3rd frame (BENCHMARKS.md 4)
    "fast": {"half_precision": True, "cf_half_precision": True, "single_pass": True, "cf_update_interval": 2,
             "single_pass_margin": 4, "single_pass_cf_scales": "crops", "side_crop_interval": 2,
             "cf_solve_precision": "single", "cf_band": 1e-4},
    # GPU: realtime's single pass with fp16 semantic branch, fp32 CF features, crops made on the device
    "gpu": {"half_precision": True, "single_pass": True, "crop_backend": "torch"},
}


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return dict(PRESETS[name])


__all__ = ["PRESETS", "preset", "TrackerConfig", "VARIANTS", "VARIANT_BRANCHES", "resolve_variant"]
