"""EDCF networks: encoder phi, fine-grained branch varphi, decoder psi and the cross-correlation head.

One definition serves training and tracking (paper Sec. 3, Fig. 2; Sec. 4.1):

* Encoder phi: the SiamFC AlexNet (5 convolutions, 2 max-poolings, BatchNorm). 127x127 exemplar -> 6x6x256,
  255x255 search -> 22x22x256.
* Fine-grained branch varphi: the encoder's first convolution (11x11, stride 2, shared weights, no pooling)
  followed by a thin 3x3 convolution to 8 channels. For a 255 search patch it gives 123x123x8 (the paper
  prints 125x125x8 for its Conv2; AlexNet's 11x11/2 first layer gives 123, which is the documented
  equivalent used here). It feeds the context-aware CF layer (``edcf_plugin.cf``).
* Decoder psi: 7 transposed convolutions that mirror the encoder's 7 resampling stages exactly, so 22x22 ->
  255x255 and 6x6 -> 127x127; used only for the reconstruction loss of Eq. 2.
* Cross-correlation head (Eq. 3): a grouped convolution of the search embedding by the exemplar embedding,
  with a learnable affine adjustment (initial scale 1e-3, as SiamFC). ``xcorr_reference`` is a slow loop
  over positions kept as a test oracle.

Input: float B x 3 x H x W, BGR, values 0..255 (``normalize_input`` maps them to roughly unit range).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Per-channel BGR mean and std (0..255 scale) used to normalise inputs and as the reconstruction target space.
PIXEL_MEAN = (104.0, 117.0, 123.0)
PIXEL_STD = (57.0, 57.0, 58.0)

#: conv1-conv4 widths at ``NetConfig.width == 1`` for each trunk layout.
TRUNK_WIDTHS = {"siamfc": (96, 256, 384, 384), "alexnet": (64, 192, 384, 256)}


@dataclass
class NetConfig:
    """Architecture hyper-parameters stored in every checkpoint."""

    width: float = 1.0          # channel multiplier of the encoder's conv1-conv4 widths (TRUNK_WIDTHS[trunk])
    embed_channels: int = 256   # channels of the semantic embedding (conv5 output)
    fine_channels: int = 8      # channels of the fine-grained CF features (paper: 8)
    decoder_width: float = 0.5  # channel multiplier of the decoder relative to the encoder's mirror
    trunk: str = "siamfc"       # "siamfc": SiamFC AlexNet (96-256-384-384, conv2/4/5 in 2 groups);
    #                             "alexnet": torchvision AlexNet's widths (64-192-384-256, no groups), the layout an
    #                             ImageNet initialisation loads into (edcf_plugin.training.imagenet_init)

    def __post_init__(self):
        if self.trunk not in TRUNK_WIDTHS:
            raise ValueError(f"trunk must be one of {', '.join(TRUNK_WIDTHS)}, got {self.trunk!r}")

    def channels(self) -> list[int]:
        """conv1-conv4 output channels (conv5 gives ``embed_channels``)."""
        return [max(8, 8 * int(round(v * self.width / 8))) for v in TRUNK_WIDTHS[self.trunk]]

    @property
    def groups(self) -> int:
        """Groups of conv2, conv4 and conv5 (SiamFC keeps AlexNet's two-GPU split; torchvision's has none)."""
        return 2 if self.trunk == "siamfc" else 1

    def to_dict(self) -> dict:
        return asdict(self)


_NORM_CACHE: dict = {}


def normalize_input(x: torch.Tensor) -> torch.Tensor:
    """Map a BGR 0..255 batch to zero-mean, unit-scale values (the space the decoder reconstructs)."""
    key = (x.dtype, x.device)
    if key not in _NORM_CACHE:       # made once per dtype and device: no host-to-device copy on every call
        with torch.inference_mode(False):                # ordinary tensors: usable by autograd later
            _NORM_CACHE[key] = (torch.tensor(PIXEL_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1),
                                torch.tensor(PIXEL_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1))
    mean, std = _NORM_CACHE[key]
    return (x - mean) / std


def _conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride=stride, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _deconv(cin: int, cout: int, k: int, stride: int = 1, last: bool = False) -> nn.Sequential:
    if last:
        return nn.Sequential(nn.ConvTranspose2d(cin, cout, k, stride=stride))
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, k, stride=stride, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class EDCFNet(nn.Module):
    """The EDCF network. Methods expose the pieces the tracker and the training losses need."""

    def __init__(self, config: NetConfig | None = None):
        super().__init__()
        self.config = config or NetConfig()
        self.normalize_inputs = True   # False once the normalisation is folded into conv1 (tracker.fold_batchnorm)
        c = self.config
        ch, g = c.channels(), c.groups
        # Encoder phi (AlexNet, total stride 8, no padding). conv1 is shared with the fine branch.
        self.conv1 = _conv_bn_relu(3, ch[0], 11, stride=2)
        self.pool1 = nn.MaxPool2d(3, stride=2)
        self.conv2 = _conv_bn_relu(ch[0], ch[1], 5, groups=g)
        self.pool2 = nn.MaxPool2d(3, stride=2)
        self.conv3 = _conv_bn_relu(ch[1], ch[2], 3)
        self.conv4 = _conv_bn_relu(ch[2], ch[3], 3, groups=g)
        self.conv5 = nn.Conv2d(ch[3], c.embed_channels, 3, groups=g)
        # Fine-grained branch varphi: conv1 (no pooling) -> thin 3x3 conv (padding keeps the resolution).
        self.fine_head = nn.Conv2d(ch[0], c.fine_channels, 3, padding=1)
        # Cross-correlation adjustment (Eq. 3 output scale).
        self.adjust = nn.Conv2d(1, 1, 1)
        nn.init.constant_(self.adjust.weight, 1e-3)
        nn.init.zeros_(self.adjust.bias)
        # Decoder psi: 7 transposed convolutions mirroring conv5, conv4, conv3, pool2, conv2, pool1, conv1.
        d = [max(8, 8 * int(round(v * c.decoder_width / 8))) for v in (ch[3], ch[2], ch[1], ch[1], ch[0], ch[0])]
        self.decoder = nn.Sequential(
            _deconv(c.embed_channels, d[0], 3),   # 22 -> 24   (mirror of conv5)
            _deconv(d[0], d[1], 3),               # 24 -> 26   (conv4)
            _deconv(d[1], d[2], 3),               # 26 -> 28   (conv3)
            _deconv(d[2], d[3], 3, stride=2),     # 28 -> 57   (pool2)
            _deconv(d[3], d[4], 5),               # 57 -> 61   (conv2)
            _deconv(d[4], d[5], 3, stride=2),     # 61 -> 123  (pool1)
            _deconv(d[5], 3, 11, stride=2, last=True),  # 123 -> 255 (conv1)
        )
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m is not self.adjust:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    # -- pieces ------------------------------------------------------------------------------------------
    def low_level(self, x: torch.Tensor) -> torch.Tensor:
        """conv1 activations (B x C1 x 123 x 123 for a 255 input) of a BGR 0..255 batch."""
        return self.conv1(normalize_input(x) if self.normalize_inputs else x)

    def fine_from_low(self, low: torch.Tensor) -> torch.Tensor:
        """Fine-grained CF features varphi (B x 8 x h x w) from conv1 activations."""
        return self.fine_head(low)

    def semantic_from_low(self, low: torch.Tensor) -> torch.Tensor:
        """Semantic embedding phi (B x 256 x h x w) from conv1 activations."""
        h = self.conv2(self.pool1(low))
        h = self.conv5(self.conv4(self.conv3(self.pool2(h))))
        return h

    def fine(self, x: torch.Tensor) -> torch.Tensor:
        """varphi(x): B x 8 x 123 x 123 for a 255 input."""
        return self.fine_from_low(self.low_level(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): B x 256 x 22 x 22 for a 255 input, 6 x 6 for a 127 input."""
        return self.semantic_from_low(self.low_level(x))

    def embed_and_fine(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both representations from one pass over conv1."""
        low = self.low_level(x)
        return self.semantic_from_low(low), self.fine_from_low(low)

    def xcorr(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Eq. 3, fast: f = adjust(z (*) x). z: B x C x m x n (or 1 x ... shared), x: B x C x H x W -> B x 1 x h x w."""
        return self.adjust(xcorr_fast(z, x))

    def decode(self, embedding: torch.Tensor) -> torch.Tensor:
        """psi: reconstruct the normalised input image from the semantic embedding."""
        return self.decoder(embedding)


def xcorr_fast(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Cross-correlation of Eq. 3 as one grouped convolution.

    ``out[b, 0, u, v] = sum_{i,j} <z[b, :, i, j], x[b, :, u+i, v+j]>``. When ``z`` has batch 1 it is shared by
    every search patch (multi-scale tracking).
    """
    if z.shape[0] == 1:
        return F.conv2d(x, z)
    b, c, h, w = x.shape
    out = F.conv2d(x.reshape(1, b * c, h, w), z, groups=b)
    return out.reshape(b, 1, out.shape[-2], out.shape[-1])


def xcorr_reference(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Slow Eq. 3 by explicit loops over output positions: the test oracle for :func:`xcorr_fast`."""
    b, c, m, n = z.shape
    bx = x.shape[0]
    zz = z.expand(bx, c, m, n) if b == 1 else z
    oh, ow = x.shape[-2] - m + 1, x.shape[-1] - n + 1
    out = torch.zeros(bx, 1, oh, ow, dtype=x.dtype, device=x.device)
    for u in range(oh):
        for v in range(ow):
            out[:, 0, u, v] = (zz * x[:, :, u:u + m, v:v + n]).sum(dim=(1, 2, 3))
    return out
