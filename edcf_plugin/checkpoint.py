"""Versioned checkpoints: network weights plus everything needed to rebuild and describe them.

Format (a plain dict, loadable with ``torch.load(..., weights_only=True)``)::

    {"format": "edcf-checkpoint", "version": 1,
     "variant": "EDCF", "net_config": {...NetConfig...}, "tracker_config": {...TrackerConfig...},
     "state_dict": {name: tensor}, "metadata": {"git_revision": ..., "step": ..., "trained": bool, ...}}

Training checkpoints may add ``optimizer``/``scheduler`` state; the tracker ignores them.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import WeightsError
from .networks import EDCFNet, NetConfig

FORMAT = "edcf-checkpoint"
VERSION = 1
#: The model bundled with the package (trained by ``edcf train``; see BENCHMARKS.md for its recipe).
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "models" / "edcf_default.pth"
#: The paper's ablation rows with weights of their own (trained with their own terms of Eq. 15, ``models/NOTICE``);
#: a variant without a file here tracks with the EDCF model's weights and its own branch(es).
VARIANT_WEIGHTS = {"SiamFC": "siamfc.pth", "EDSiam": "edsiam.pth", "CACFNet": "cacfnet.pth",
                   "CACFNet+": "cacfnet_plus.pth"}
VARIANT_WEIGHTS_DIR = DEFAULT_WEIGHTS.parent / "variants"


def default_weights(variant: str | None = None) -> Path:
    """The bundled checkpoint a variant tracks with when no weights are given: its own ablation weights where the
    package ships them, else the EDCF model."""
    own = VARIANT_WEIGHTS_DIR / VARIANT_WEIGHTS.get(str(variant), "-")
    return own if own.is_file() else DEFAULT_WEIGHTS


def git_revision(path: str | Path | None = None) -> str:
    """The git revision of the source tree (``unknown`` outside a checkout), with ``-dirty`` when modified."""
    cwd = Path(path) if path else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (rev + ("-dirty" if dirty else "")) if rev else "unknown"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_checkpoint(net: EDCFNet, variant: str, tracker_config: dict | None = None,
                    metadata: dict | None = None, include_decoder: bool = True, half: bool = False,
                    extra: dict | None = None) -> dict[str, Any]:
    """Build the checkpoint dict. ``half`` stores weights as float16 (bundled model); loading restores float32."""
    state = {}
    for k, v in net.state_dict().items():
        if not include_decoder and k.startswith("decoder."):
            continue
        v = v.detach().cpu()
        state[k] = v.half() if half and v.is_floating_point() else v.clone()
    meta = {"git_revision": git_revision()}
    meta.update(metadata or {})
    ckpt = {"format": FORMAT, "version": VERSION, "variant": variant, "net_config": net.config.to_dict(),
            "tracker_config": dict(tracker_config or {}), "state_dict": state, "metadata": meta}
    ckpt.update(extra or {})
    return ckpt


def save_checkpoint(ckpt: dict[str, Any], path: str | Path) -> Path:
    """Write atomically (temp file + rename), so a full disk or a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path | None = None) -> dict[str, Any]:
    """Load and validate a checkpoint (``None``: the bundled default). Raises :class:`WeightsError`."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt/foreign files
        raise WeightsError(f"cannot read weights file {path}: not an EDCF checkpoint or corrupt "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise WeightsError(f"{path} is not an EDCF checkpoint (missing format tag {FORMAT!r})")
    if ckpt.get("version") != VERSION:
        raise WeightsError(f"{path} has checkpoint version {ckpt.get('version')}, this edcf_plugin reads {VERSION}")
    for key in ("variant", "net_config", "state_dict"):
        if key not in ckpt:
            raise WeightsError(f"{path} is missing the {key!r} entry")
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise WeightsError(f"{path}: 'state_dict' must map parameter names to tensors, got "
                           f"{type(state).__name__}")
    if not isinstance(ckpt["net_config"], dict):
        raise WeightsError(f"{path}: 'net_config' must be a mapping, got {type(ckpt['net_config']).__name__}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise WeightsError(f"{path}: non-finite (NaN or inf) weights in {bad[:3]}{' ...' if len(bad) > 3 else ''}"
                           " (a diverged training run?)")
    ckpt["path"] = str(path)
    return ckpt


def build_network(ckpt: dict[str, Any], device: str | torch.device = "cpu") -> EDCFNet:
    """Rebuild the network of a loaded checkpoint, in eval mode, on ``device`` (float32)."""
    try:
        net = EDCFNet(NetConfig(**ckpt["net_config"]))
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{ckpt.get('path')}: unknown network configuration: {exc}") from None
    state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    own = net.state_dict()
    wrong = [k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if wrong:
        raise WeightsError(f"{ckpt.get('path')}: weights do not match the network "
                           f"(shape mismatch in {wrong[:3]}{' ...' if len(wrong) > 3 else ''})")
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("decoder.")]
    if missing or unexpected:
        raise WeightsError(f"{ckpt.get('path')}: weights do not match the network "
                           f"(missing: {missing[:5]}, unexpected: {unexpected[:5]})")
    return net.to(device).eval()
