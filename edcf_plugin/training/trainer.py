"""The training loop: SGD on Eq. 15, per-epoch checkpoints, validation, resume, DDP.

Launch one process (``edcf train ...``) or many (``torchrun --nproc_per_node N -m edcf_plugin.commands.train
...``): under torchrun the actor is wrapped in ``DistributedDataParallel`` (NCCL on CUDA, gloo on CPU), each
rank reads its share of the pairs through a ``DistributedSampler``, and only rank 0 writes checkpoints, logs
and TensorBoard scalars. ``batch_size`` is per process.

Checkpoints (``OUT/last.pth`` every epoch, ``OUT/best.pth`` for the best validation AUC, ``OUT/epoch_NNN.pth``
when ``keep_epochs``) are :func:`edcf_plugin.checkpoint.make_checkpoint` dicts with the optimiser, scheduler,
step, epoch and metrics added, all loadable with ``torch.load(weights_only=True)`` and directly usable by
``edcf track --weights``. A non-finite loss stops training with a message and leaves the last good checkpoint.
"""
from __future__ import annotations

import errno
import json
import math
import os
import platform
import random
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from ..checkpoint import build_network, git_revision, load_checkpoint, make_checkpoint, save_checkpoint
from ..config import TrackerConfig
from ..errors import ConfigError, EDCFError
from ..machine import cpu_features
from ..networks import EDCFNet
from ..tracking.tracker import resolve_device
from .config import VALIDATION_SELECT, TrainConfig, config_from_dict
from .data_sources import build_dataset
from .losses import EDCFActor, loss_weights
from .processing import PairProcessing
from .sampler import PairDataset
from .validation import Validator


class TrainingError(EDCFError):
    """Training had to stop (non-finite loss, no space for a checkpoint, ...)."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def _dist_info() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment (1 process without it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return rank, world, local


def build_data(cfg: TrainConfig) -> tuple[list, list[float], list[int]]:
    datasets, weights, ranges = [], [], []
    exclude = list(cfg.validation.sequences)      # held out even when validation runs elsewhere (GPU recipe)
    for entry in cfg.data:
        entry = dict(entry)
        weights.append(float(entry.get("weight", 1.0)))
        ranges.append(int(entry.pop("frame_range", cfg.frame_range)))
        # held-out validation videos leave every source by name (a crops corpus holds the same videos)
        datasets.append(build_dataset(entry, cache_dir=cfg.cache_dir, exclude=exclude, seed=cfg.seed))
    if cfg.use_synthetic:
        datasets.append(build_dataset({"kind": "synthetic", **cfg.synthetic}, exclude=exclude, seed=cfg.seed))
        weights.append(cfg.synthetic_weight)
        ranges.append(cfg.frame_range)
    return datasets, weights, ranges


def make_loader(pairs: PairDataset, cfg: TrainConfig, sampler, dev: torch.device) -> DataLoader:
    """The batch loader. Workers are not persistent: each epoch's workers start from the main process's
    ``pairs``, so ``pairs.set_epoch`` reaches them (persistent workers keep the first epoch's copy and would draw
    the same pairs every epoch)."""
    return DataLoader(pairs, batch_size=cfg.batch_size, sampler=sampler, shuffle=False, drop_last=True,
                      num_workers=cfg.num_workers, pin_memory=dev.type == "cuda", persistent_workers=False)


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _save(ckpt: dict, path: Path) -> None:
    try:
        save_checkpoint(ckpt, path)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise TrainingError(f"no space left on the device to write checkpoint {path}; the previous "
                                f"checkpoint is kept (free space and rerun with --resume)") from None
        raise TrainingError(f"cannot write checkpoint {path}: {exc}") from None


def _imagenet_init(net: EDCFNet, cfg: TrainConfig, pairs: PairDataset, verbose: bool) -> dict:
    """Load torchvision's ImageNet AlexNet trunk into the encoder; BatchNorm statistics and the Eq. 3 scale from
    ``cfg.init_batch`` training pairs (drawn with their own seed, so every rank gets the same network)."""
    from .imagenet_init import find_alexnet_trunk, init_encoder_from_alexnet
    trunk, provenance = find_alexnet_trunk(cfg.init_path)
    calib = PairDataset(pairs.datasets, pairs.processing, cfg.init_batch, list(pairs.weights), pairs.frame_ranges,
                        seed=cfg.seed + 7919)
    items = [calib[i] for i in range(len(calib))]
    search = torch.stack([it["search"] for it in items]).float()
    exemplar = torch.stack([it["exemplar"] for it in items]).float()
    summary = init_encoder_from_alexnet(net, trunk, search, exemplar, cfg.init_layers)
    if verbose:
        print(f"[edcf train] encoder initialised from ImageNet AlexNet ({provenance['source']}: "
              f"{provenance['path']}, sha256 {provenance['sha256'][:12]}...), conv1-conv{summary['layers']} of "
              f"widths {summary['widths']}, "
              f"Eq. 3 scale {summary['adjust_scale']:.3g}", flush=True)
    return {"kind": "imagenet-alexnet", **provenance, **summary}


def _resume_state(cfg: TrainConfig, resume: str | Path | None) -> tuple:
    """(recipe, checkpoint or None, first epoch, step, best validation figure, history) of a fresh or resumed run.
    A resumed run keeps its saved recipe, except for the run length, which the command line may extend."""
    if resume is None:
        return cfg, None, 0, 0, -1.0, []
    ckpt = load_checkpoint(resume)
    if "optimizer" not in ckpt or "train_config" not in ckpt:
        raise ConfigError(f"{resume} is not a training checkpoint (no optimizer/train_config): "
                          f"only checkpoints written by 'edcf train' can be resumed")
    saved = config_from_dict(ckpt["train_config"])
    cfg = config_from_dict({**saved.to_dict(), "epochs": max(cfg.epochs, saved.epochs),
                            "steps": max(cfg.steps, saved.steps) if saved.steps else cfg.steps})
    return (cfg, ckpt, int(ckpt["epoch"]) + 1, int(ckpt["step"]), float(ckpt.get("best_auc", -1.0)),
            list(ckpt.get("history", [])))


def _optimiser(net: EDCFNet, cfg: TrainConfig, total_steps: int, autocast_dtype, dev: torch.device,
               resume_ckpt: dict | None) -> tuple:
    """SGD (momentum, weight decay) with per-layer lr multipliers (``layer_lr_mult``; 0 freezes a layer), the
    Eq. 3 scale trained only with ``adjust_lr_mult``, an exponential lr from ``lr_start`` to ``lr_end`` over
    ``total_steps``, and fp16's gradient scaler; restored from ``resume_ckpt``."""
    adjust_w = [net.adjust.weight]
    by_mult: dict[float, list] = {}
    for n, p in net.named_parameters():
        if n == "adjust.weight":
            continue
        mult = float(cfg.layer_lr_mult.get(n.split(".")[0], 1.0))
        if mult == 0:
            p.requires_grad_(False)
        else:
            by_mult.setdefault(mult, []).append(p)
    groups = [{"params": ps, "lr": cfg.lr_start * m, "lr_mult": m} for m, ps in sorted(by_mult.items(), reverse=True)]
    if cfg.adjust_lr_mult > 0:
        groups.append({"params": adjust_w, "lr": cfg.lr_start * cfg.adjust_lr_mult, "weight_decay": 0.0})
    else:
        net.adjust.weight.requires_grad_(False)
    optimizer = torch.optim.SGD(groups, lr=cfg.lr_start, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    gamma = (cfg.lr_end / cfg.lr_start) ** (1.0 / max(total_steps - 1, 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    scaler = torch.amp.GradScaler("cuda", enabled=autocast_dtype == torch.float16 and dev.type == "cuda")
    if resume_ckpt is not None:
        optimizer.load_state_dict(resume_ckpt["optimizer"])
        scheduler.load_state_dict(resume_ckpt["scheduler"])
        if resume_ckpt.get("scaler") and scaler.is_enabled():
            scaler.load_state_dict(resume_ckpt["scaler"])
    return optimizer, scheduler, scaler


def _optimiser_step(model, net: EDCFNet, batch: dict, optimizer, scheduler, scaler, cfg: TrainConfig,
                    distributed: bool, where: str, last: Path) -> dict:
    """One SGD step on Eq. 15; returns the loss terms and diagnostics. A non-finite loss (agreed by every rank)
    stops training with :class:`TrainingError`, naming the last good checkpoint."""
    loss, stats = model(batch)
    check = loss.detach().float().reshape(1)        # every rank must agree on stopping (NaN/inf propagate)
    if distributed:
        dist.all_reduce(check)
    if not torch.isfinite(check).all():
        raise TrainingError(f"non-finite loss ({float(check)}) at {where} (terms: {stats}); stopped. Last good "
                            f"checkpoint: {last if last.is_file() else 'none yet'}. Lower lr_start or loss_scale.")
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if cfg.grad_clip > 0:
        scaler.unscale_(optimizer)
        gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        stats["train/grad_norm"] = float(gnorm)
    scaler.step(optimizer)
    scaler.update()
    stats["lr"] = optimizer.param_groups[0]["lr"] / optimizer.param_groups[0].get("lr_mult", 1.0)
    with warnings.catch_warnings():
        # fp16: GradScaler skips the optimiser step while it calibrates its scale; the lr schedule follows the step
        # count on purpose, so PyTorch's "scheduler before optimizer" warning does not apply.
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
        scheduler.step()
    return stats


def train(cfg: TrainConfig, out_dir: str | Path, device: str = "cpu",
          resume: str | Path | None = None, keep_epochs: bool = False, progress: bool = True) -> dict:
    """Run training; returns ``{"step", "epoch", "checkpoint", "metrics"}`` (rank 0's view)."""
    rank, world, local = _dist_info()
    distributed = world > 1
    dev = resolve_device(device)
    if distributed:
        if dev.type == "cuda":
            dev = torch.device("cuda", local)
            torch.cuda.set_device(dev)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    is_main = rank == 0
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    out = Path(out_dir)
    if is_main:
        out.mkdir(parents=True, exist_ok=True)

    # ---- state: fresh or resumed -------------------------------------------------------------------
    cfg, resume_ckpt, start_epoch, step, best_auc, history = _resume_state(cfg, resume)
    seed_everything(cfg.seed + rank)

    datasets, dweights, ranges = build_data(cfg)
    pairs = PairDataset(datasets, PairProcessing(cfg.processing), cfg.samples_per_epoch, dweights, ranges,
                        seed=cfg.seed)
    net = EDCFNet(cfg.net) if resume_ckpt is None else build_network(resume_ckpt, "cpu")
    init_meta = dict(resume_ckpt["metadata"].get("init", {})) if resume_ckpt is not None else {"kind": "scratch"}
    if resume_ckpt is None and cfg.init == "imagenet-alexnet":
        init_meta = _imagenet_init(net, cfg, pairs, is_main)
    net = net.to(dev).train()
    autocast_dtype = None
    if cfg.amp == "bf16":
        autocast_dtype = torch.bfloat16
    elif cfg.amp == "auto" and dev.type == "cuda":
        autocast_dtype = torch.float16
    if cfg.channels_last:
        net = net.to(memory_format=torch.channels_last)
    weights = loss_weights(cfg.variant, cfg.loss_scale)
    actor = EDCFActor(net, weights, cfg.cf_lambda1, cfg.cf_lambda2, autocast_dtype, cfg.channels_last,
                      cf_lambda1_rel=cfg.cf_lambda1_rel)
    model = actor
    if distributed:
        model = torch.nn.parallel.DistributedDataParallel(
            actor, device_ids=[dev.index] if dev.type == "cuda" else None, find_unused_parameters=True)

    # ---- data ---------------------------------------------------------------------------------------
    sampler = DistributedSampler(pairs, num_replicas=world, rank=rank, shuffle=False, drop_last=True) \
        if distributed else None
    loader = make_loader(pairs, cfg, sampler, dev)
    steps_per_epoch = len(loader)
    if steps_per_epoch < 1:
        raise ConfigError(f"samples_per_epoch {cfg.samples_per_epoch} gives no full batch of {cfg.batch_size} "
                          f"per process ({world} process(es))")
    total_steps = cfg.steps if cfg.steps > 0 else cfg.epochs * steps_per_epoch
    epochs = math.ceil(total_steps / steps_per_epoch)

    # ---- optimiser: SGD momentum 0.9, wd 5e-4, lr exponential lr_start -> lr_end over total_steps --------
    optimizer, scheduler, scaler = _optimiser(net, cfg, total_steps, autocast_dtype, dev, resume_ckpt)

    validator = None
    if is_main and cfg.validation.root and cfg.validation.sequences:
        validator = Validator(cfg.validation.root, list(cfg.validation.sequences), cfg.variant,
                              cfg.validation.max_frames, cfg.validation.tracker, cfg.validation.branches)
    records = _RunRecords(out, cfg, history, best_auc, keep_epochs) if is_main else None
    tracker_cfg = TrackerConfig.from_dict(dict(cfg.validation.tracker), variant=cfg.variant).to_dict()

    def checkpoint(epoch: int, metrics: dict) -> dict:
        meta = {"trained": True, "step": step, "epoch": epoch, "train_config": cfg.to_dict(), "init": init_meta,
                "git_revision": records.revision, "environment": records.environment, "world_size": world,
                "device": str(dev)}
        return make_checkpoint(net, cfg.variant, tracker_cfg, metadata=meta, extra={
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler.is_enabled() else {},
            "step": step, "epoch": epoch, "metrics": metrics, "best_auc": records.best,
            "history": records.history, "train_config": cfg.to_dict()})

    result = {"step": step, "epoch": start_epoch - 1, "checkpoint": str(out / "last.pth") if resume else None,
              "metrics": {}}
    t_start = time.time()
    for epoch in range(start_epoch, epochs):
        if step >= total_steps:
            break
        # ---- one epoch of optimiser steps -----------------------------------------------------------
        t_epoch = time.time()
        pairs.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        sums: dict[str, float] = {}
        n_batches = 0
        bar = tqdm(loader, total=min(steps_per_epoch, total_steps - step), disable=not (is_main and progress),
                   desc=f"epoch {epoch + 1}/{epochs}", leave=False, dynamic_ncols=True)
        for batch in bar:
            if step >= total_steps:
                break
            batch = {k: v.to(dev, non_blocking=True) for k, v in batch.items()}
            stats = _optimiser_step(model, net, batch, optimizer, scheduler, scaler, cfg, distributed,
                                    f"step {step + 1}, epoch {epoch + 1}", out / "last.pth")
            step += 1
            n_batches += 1
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v
            if records is not None:
                bar.set_postfix(loss=f"{stats['loss/total']:.3f}")
                records.step(step, epoch, stats, time.time() - t_start)
        bar.close()
        metrics = {k: v / max(n_batches, 1) for k, v in sums.items()}
        metrics["train_time_s"] = time.time() - t_epoch       # this epoch's optimisation, without validation
        metrics["elapsed_s"] = time.time() - t_start          # since this process started training
        # ---- validate, checkpoint, report (the main process) ------------------------------------------
        if validator is not None:
            t_val = time.time()
            metrics.update(validator.run(net, dev))
            metrics["val_time_s"] = time.time() - t_val
        if records is not None:
            records.epoch_end(epoch, epochs, step, total_steps, metrics, validator is not None, checkpoint,
                              pairs.take_skipped())
        if distributed:
            dist.barrier()
        result = {"step": step, "epoch": epoch, "checkpoint": str(out / "last.pth"), "metrics": metrics}
    if records is not None:
        records.close()
    return result


def training_environment() -> dict:
    """What a run's numbers depend on beyond the code and the seed (decoding, resizing, random streams, kernels):
    Python, the installed torch, numpy, OpenCV and Pillow distributions (None where absent), and the CPU with the
    instruction sets its bf16 kernels use (``machine.cpu_features``: AMX or AVX-512 BF16 round differently)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(*names: str) -> str | None:
        for name in names:
            try:
                return f"{name} {version(name)}"
            except PackageNotFoundError:
                continue
        return None

    return {"python": platform.python_version(), "torch": installed("torch"), "numpy": installed("numpy"),
            "opencv": installed("opencv-contrib-python-headless", "opencv-contrib-python", "opencv-python-headless",
                                "opencv-python"),
            "pillow": installed("pillow", "Pillow"), **cpu_features()}


class _RunRecords:
    """What the main process writes of a run: TensorBoard scalars and ``metrics.jsonl`` every ``log_every`` steps;
    at each epoch's end the history, ``last.pth`` (``best.pth`` when the validation figure ``validation.select``
    improved, ``epoch_NNN.pth`` with ``keep_epochs``), ``history.json`` and one line on stdout."""

    VAL_SCALARS = ("val/auc", "val/op50", "val/dp20", "val/semantic/auc", "val/cf/auc", "val/mean_auc")

    def __init__(self, out: Path, cfg: TrainConfig, history: list, best: float, keep_epochs: bool):
        self.out, self.cfg, self.history, self.best, self.keep_epochs = out, cfg, history, best, keep_epochs
        self.select_key = VALIDATION_SELECT[cfg.validation.select]
        self.revision = git_revision()
        self.environment = training_environment()
        self.log_path = out / "metrics.jsonl"
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter
            self.writer = SummaryWriter(str(out / "tensorboard"))
        except ImportError:  # tensorboard is an optional extra ([train])
            print("[edcf train] tensorboard not installed: scalars go to metrics.jsonl only")

    def step(self, step: int, epoch: int, stats: dict, elapsed: float) -> None:
        if step % self.cfg.log_every and step != 1:
            return
        if self.writer is not None:
            for k, v in stats.items():
                self.writer.add_scalar(k, v, step)
        with open(self.log_path, "a") as fh:
            fh.write(json.dumps({"step": step, "epoch": epoch, "time": elapsed, **stats}) + "\n")

    def epoch_end(self, epoch: int, epochs: int, step: int, total_steps: int, metrics: dict, validated: bool,
                  checkpoint, skipped: int) -> None:
        if self.writer is not None and validated:
            for k in self.VAL_SCALARS:
                if k in metrics:
                    self.writer.add_scalar(k, metrics[k], step)
        self.history.append({"epoch": epoch, "step": step, **metrics})
        improved = validated and metrics[self.select_key] > self.best
        if improved:
            self.best = metrics[self.select_key]
        ckpt = checkpoint(epoch, metrics)
        _save(ckpt, self.out / "last.pth")
        if self.keep_epochs:
            _save(ckpt, self.out / f"epoch_{epoch + 1:03d}.pth")
        if improved:
            _save(ckpt, self.out / "best.pth")
        _atomic_json(self.out / "history.json", {"git_revision": self.revision, "environment": self.environment,
                                                 "train_config": self.cfg.to_dict(), "history": self.history,
                                                 "best_val_auc": self.best})
        msg = f"[edcf train] epoch {epoch + 1}/{epochs} step {step}/{total_steps} " \
              f"loss {metrics.get('loss/total', float('nan')):.4f}"
        if validated:
            msg += f" val AUC {metrics['val/auc']:.1f}"
            if "val/mean_auc" in metrics:
                msg += f" (semantic {metrics['val/semantic/auc']:.1f}, CF {metrics['val/cf/auc']:.1f})"
            label = "" if self.cfg.validation.select == "auc" else f"{self.cfg.validation.select} "
            msg += f" (best {label}{self.best:.1f})"
        if skipped:
            msg += f", {skipped} pair(s) skipped for an unreadable image"
        print(msg, flush=True)
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def config_summary(cfg: TrainConfig) -> str:
    d = asdict(cfg)
    return json.dumps({k: d[k] for k in ("variant", "net", "epochs", "steps", "batch_size", "samples_per_epoch")})
