"""The multi-task loss of Eq. 15 and the actor that runs the network on a batch.

* ``L_high`` (Eq. 4): balanced logistic loss of the semantic score map ``f`` (Eq. 3) against +-1 labels.
* ``L_low`` (Eq. 8): squared error of the CF response ``g(x)`` (Eq. 9) of a filter solved in closed form from
  the exemplar frame's target patch and its k context patches (Eq. 6-7) against a Gaussian centred at the
  target's true displacement. Autograd through ``torch.fft`` / ``torch.linalg.solve`` gives Eq. 10-14.
* ``L_recon`` (Eq. 2): ``||psi(phi(z)) - z||^2 + ||psi(phi(x)) - x||^2`` in the normalised input space, as a
  per-pixel mean of each term (the paper's sum divided by the pixel count, so the weights below are
  resolution independent).
* ``R(theta)`` of Eq. 15 is the optimiser's weight decay.

``VARIANT_LOSS_WEIGHTS`` switches the terms per variant as in the paper's ablation (Table 1).
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import cf
from ..config import resolve_variant
from ..networks import EDCFNet, normalize_input

#: Which terms of Eq. 15 train each variant (weights 0/1; ``TrainConfig.loss_scale`` rescales them).
VARIANT_LOSS_WEIGHTS: dict[str, dict[str, float]] = {
    "SiamFC": {"high": 1.0, "low": 0.0, "recon": 0.0},
    "EDSiam": {"high": 1.0, "low": 0.0, "recon": 1.0},
    "CACFNet": {"high": 0.0, "low": 1.0, "recon": 0.0},
    "CACFNet+": {"high": 1.0, "low": 1.0, "recon": 1.0},
    "EDCF": {"high": 1.0, "low": 1.0, "recon": 1.0},
}


def loss_weights(variant: str, scale: dict[str, float] | None = None) -> dict[str, float]:
    """The variant's on/off pattern times the per-term ``scale`` (e.g. ``{"low": 0.1}``)."""
    w = dict(VARIANT_LOSS_WEIGHTS[resolve_variant(variant)])
    for k, v in (scale or {}).items():
        if k not in w:
            raise KeyError(f"unknown loss term {k!r}; terms: {', '.join(w)}")
        w[k] *= float(v)
    return w


def logistic_loss(scores: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Eq. 4: ``sum_(u,v) w(u,v) log(1 + exp(-y(u,v) f(u,v)))``, mean over the batch.

    scores: B x 1 x H x W logits; labels: B x H x W in {+1, -1}; weights: B x H x W (class-balanced, each
    class summing to 0.5, so with uniform weights this is the paper's mean over D).
    """
    s = scores.float().reshape(labels.shape)
    return (weights * F.softplus(-labels * s)).sum(dim=(-2, -1)).mean()


def reconstruction_loss(recon: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """One term of Eq. 2: mean squared error between ``psi(phi(image))`` and the normalised ``image``."""
    return F.mse_loss(recon.float(), normalize_input(image.float()))


def cf_targets(shape: tuple[int, int], shifts: torch.Tensor, sigmas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian targets for the exemplar (peak at 0) and for the search patch (peak at the displacement).

    shifts: B x 2 (row, col) in fine cells; sigmas: B. Returns two B x H x W tensors.
    """
    h, w = shape
    y0, ys = [], []
    for (r, c), s in zip(shifts.tolist(), sigmas.tolist()):
        y0.append(cf.gaussian_target(h, w, s, device=shifts.device))
        ys.append(cf.gaussian_target(h, w, s, center=(r, c), device=shifts.device))
    return torch.stack(y0), torch.stack(ys)


class EDCFActor(nn.Module):
    """Network + Eq. 15. ``forward(batch) -> (loss, stats)``; wrap this module in DDP (not the bare net) so
    gradient synchronisation sees every piece that is used.

    Batch (as produced by :class:`PairDataset`, collated): ``exemplar`` B x 3 x 127 x 127, ``search``
    B x 3 x 255 x 255, ``cf_patches`` B x (1+k) x 3 x 255 x 255 (uint8 or float, BGR 0..255), ``labels`` /
    ``label_weights`` B x 17 x 17, ``cf_shift`` B x 2, ``cf_sigma`` B.
    """

    def __init__(self, net: EDCFNet, weights: dict[str, float], cf_lambda1: float = 1e-4,
                 cf_lambda2: float = 0.1, autocast_dtype: torch.dtype | None = None,
                 channels_last: bool = False, cf_lambda1_rel: float = 0.0):
        super().__init__()
        self.cf_lambda1_rel = cf_lambda1_rel
        self.net = net
        self.weights = dict(weights)
        self.cf_lambda1 = cf_lambda1
        self.cf_lambda2 = cf_lambda2
        self.autocast_dtype = autocast_dtype
        self.channels_last = channels_last

    def _autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def _prep(self, t: torch.Tensor) -> torch.Tensor:
        t = t.float()
        return t.contiguous(memory_format=torch.channels_last) if self.channels_last else t

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        w = self.weights
        use_high, use_low, use_recon = w["high"] > 0, w["low"] > 0, w["recon"] > 0
        need_sem = use_high or use_recon
        net = self.net
        z = self._prep(batch["exemplar"])
        x = self._prep(batch["search"])
        b = x.shape[0]
        device = x.device
        terms: dict[str, torch.Tensor] = {}
        with self._autocast(device):
            if use_low:
                cfp = batch["cf_patches"]
                k1 = cfp.shape[1]
                allx = torch.cat([x, self._prep(cfp.flatten(0, 1))])   # one conv1 pass for search + CF patches
                low = net.low_level(allx)
                low_x = low[:b]
                fine = net.fine_from_low(low).float()
                fine_x = fine[:b]
                fine_cf = fine[b:].reshape(b, k1, *fine.shape[1:])
            else:
                low_x = net.low_level(x)
            if need_sem:
                sem_x = net.semantic_from_low(low_x)
                sem_z = net.embed(z)
            if use_high:
                scores = net.xcorr(sem_z, sem_x)
                terms["high"] = logistic_loss(scores, batch["labels"].float(), batch["label_weights"].float())
            if use_recon:
                terms["recon"] = reconstruction_loss(net.decode(sem_z), z) + reconstruction_loss(net.decode(sem_x), x)
        if use_low:
            # Eq. 6-9 in float32 (FFT and the per-frequency solve), outside autocast.
            with torch.autocast(device_type=device.type, enabled=False):
                hf, wf = fine_x.shape[-2:]
                win = cf.cosine_window(hf, wf, device=device)
                y0, ys = cf_targets((hf, wf), batch["cf_shift"].float(), batch["cf_sigma"].float())
                z0 = fine_cf[:, 0] * win
                ctx = fine_cf[:, 1:] * win if k1 > 1 else None
                lam1 = cf.relative_ridge(z0, self.cf_lambda1, self.cf_lambda1_rel)   # the tracker's ridge
                w_hat = cf.cf_solve(z0, y0, ctx, lam1, self.cf_lambda2)
                g = cf.cf_response(w_hat, fine_x * win)
                terms["low"] = cf.cf_loss(g, ys)
                with torch.no_grad():
                    # localisation error of the CF peak (cells), a readable training statistic
                    idx = g.flatten(1).argmax(1)
                    pr = (idx // wf).float()
                    pc = (idx % wf).float()
                    pr = torch.remainder(pr + hf / 2, hf) - hf / 2
                    pc = torch.remainder(pc + wf / 2, wf) - wf / 2
                    err = torch.sqrt((pr - batch["cf_shift"][:, 0]) ** 2 + (pc - batch["cf_shift"][:, 1]) ** 2)
        loss = sum(w[k] * v for k, v in terms.items())
        stats = {f"loss/{k}": float(v.detach()) for k, v in terms.items()}
        stats["loss/total"] = float(loss.detach())
        if use_low:
            stats["train/cf_peak_error_px"] = float(err.mean()) * 2.0
        if use_high:
            with torch.no_grad():
                s = scores.detach().float().reshape(batch["labels"].shape).flatten(1)
                pos = batch["labels"].flatten(1) > 0
                stats["train/high_peak_in_positive"] = float(pos.gather(1, s.argmax(1, keepdim=True)).float().mean())
        return loss, stats
