"""Training targets and losses (Eq. 2, 4, 8, 15): geometry of the crops, labels, and where gradients go."""
import math

import numpy as np
import pytest
import torch

from edcf_plugin import cf
from edcf_plugin.boxes import context_size, crop_patch
from edcf_plugin.networks import EDCFNet
from edcf_plugin.training.losses import EDCFActor, cf_targets, logistic_loss, loss_weights
from edcf_plugin.training.processing import PairProcessing, ProcessingConfig, logistic_labels
from train_helpers import TINY_NET, frame_with_target, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

NO_AUG = dict(color_jitter=0.0, grayscale_p=0.0, blur_p=0.0, stretch=0.0, scale_jitter=0.0)


def test_logistic_labels_balanced_and_displaced():
    labels, weights = logistic_labels(17, dx=16.0, dy=-8.0, radius=16.0)
    pos = labels > 0
    assert set(np.unique(labels)) == {-1.0, 1.0}
    assert weights[pos].sum() == pytest.approx(0.5) and weights[~pos].sum() == pytest.approx(0.5)
    r, c = np.argwhere(pos).mean(axis=0)
    assert c == pytest.approx(8 + 2, abs=0.3) and r == pytest.approx(8 - 1, abs=0.3)   # 8 px per cell


def test_logistic_loss_matches_eq4():
    torch.manual_seed(0)
    s = torch.randn(2, 1, 17, 17)
    y = torch.where(torch.rand(2, 17, 17) > 0.8, 1.0, -1.0)
    w = torch.full((2, 17, 17), 1.0 / 289)
    ref = torch.log(1 + torch.exp(-y * s[:, 0])).mean()
    assert float(logistic_loss(s, y, w)) == pytest.approx(float(ref), rel=1e-5)


def test_processing_places_target_and_cf_patches_like_the_tracker():
    box = np.array([100.0, 80.0, 40.0, 30.0])                 # 0-based x, y, w, h
    img = frame_with_target(300, 400, box, seed=1)
    proc = PairProcessing(ProcessingConfig(**NO_AUG, max_shift=40.0))
    out = proc(img, box, img, box, np.random.default_rng(3))
    # CF patches: exactly EDCFTracker._learn_cf's crops (centre + 4 context offsets, side s_x, size 255)
    cx, cy = 120.0, 95.0
    side = context_size(40, 30, 0.5) * 255 / 127
    centres = [(cx, cy)] + [(cx + dx, cy + dy) for dx, dy in cf.context_offsets(40, 30, 4)]
    pad = img.reshape(-1, 3).mean(axis=0)
    for k, (px, py) in enumerate(centres):
        ref = crop_patch(img, px, py, side, 255, pad_value=pad).transpose(2, 0, 1)
        assert np.abs(out["cf_patches"][k].astype(int) - ref.astype(int)).max() <= 1
    # search patch: the red core of the target sits at centre + 2 * cf_shift (fine cells are 2 px)
    x = out["search"].transpose(1, 2, 0).astype(int)
    red = (x[..., 2] < 80) & (x[..., 0] > 200)
    rr, cc = np.argwhere(red).mean(axis=0)
    dy, dx = 2 * out["cf_shift"]
    assert abs(dx) + abs(dy) > 1.0                           # the shift is not always zero
    assert cc - 127.0 == pytest.approx(dx, abs=2.0) and rr - 127.0 == pytest.approx(dy, abs=2.0)
    assert out["exemplar"].shape == (3, 127, 127) and out["cf_patches"].shape == (5, 3, 255, 255)


def test_cf_targets_peak_at_shift_and_zero():
    y0, ys = cf_targets((123, 123), torch.tensor([[3.0, -5.0]]), torch.tensor([2.0]))
    assert int(y0[0].argmax()) == 0
    r, c = divmod(int(ys[0].argmax()), 123)
    assert (r, c) == (3, 123 - 5)


def _batch(b=2, seed=0):
    rng = np.random.default_rng(seed)
    proc = PairProcessing()
    items = []
    for i in range(b):
        box = np.array([60.0 + 10 * i, 50.0, 36.0, 28.0])
        img = frame_with_target(200, 260, box, seed=i)
        box2 = box + np.array([4.0, -3.0, 0, 0])
        img2 = frame_with_target(200, 260, box2, seed=i + 10)
        items.append({k: torch.from_numpy(np.asarray(v)) for k, v in proc(img, box, img2, box2, rng).items()})
    return torch.utils.data.default_collate(items)


GROUPS = {"encoder_high": ("conv2.", "conv3.", "conv4.", "conv5."), "conv1": ("conv1.",),
          "fine": ("fine_head.",), "decoder": ("decoder.",)}


@pytest.mark.parametrize("term,reach,not_reach", [
    ("high", ["conv1", "encoder_high"], ["fine", "decoder"]),
    ("low", ["conv1", "fine"], ["encoder_high", "decoder"]),
    ("recon", ["conv1", "encoder_high", "decoder"], ["fine"]),
])
def test_each_loss_term_reaches_its_layers(term, reach, not_reach):
    torch.manual_seed(0)
    net = EDCFNet(TINY_NET)
    weights = {"high": 0.0, "low": 0.0, "recon": 0.0, term: 1.0}
    loss, stats = EDCFActor(net, weights)(_batch())
    assert torch.isfinite(loss) and f"loss/{term}" in stats
    loss.backward()
    for group in reach:
        params = [(n, p) for n, p in net.named_parameters() if n.startswith(GROUPS[group]) and p.dim() > 1]
        assert params
        for n, p in params:
            assert p.grad is not None and torch.isfinite(p.grad).all(), n
            assert float(p.grad.abs().sum()) > 0, n
    for group in not_reach:
        for n, p in net.named_parameters():
            if n.startswith(GROUPS[group]):
                assert p.grad is None or float(p.grad.abs().sum()) == 0.0, n


def test_variant_weights_follow_the_ablation():
    assert loss_weights("SiamFC") == {"high": 1.0, "low": 0.0, "recon": 0.0}
    assert loss_weights("EDSiam") == {"high": 1.0, "low": 0.0, "recon": 1.0}
    assert loss_weights("CACFNet") == {"high": 0.0, "low": 1.0, "recon": 0.0}
    assert loss_weights("cacfnet_plus", {"low": 0.01}) == {"high": 1.0, "low": 0.01, "recon": 1.0}
    assert loss_weights("EDCF")["low"] == 1.0
    with pytest.raises(KeyError):
        loss_weights("EDCF", {"bogus": 1.0})


def test_cf_loss_zero_for_a_perfect_filter_on_the_same_patch():
    # Solving Eq. 7 without contexts on x and evaluating on x reproduces y (lambda1 -> 0): L_low ~ 0.
    torch.manual_seed(0)
    feat = torch.randn(1, 8, 16, 16)
    y = cf.gaussian_target(16, 16, 1.5).unsqueeze(0)
    w = cf.cf_solve(feat, y, None, lambda1=1e-6)
    assert float(cf.cf_loss(cf.cf_response(w, feat), y)) < 1e-4 * float((y ** 2).sum())
    assert math.isfinite(float(cf.cf_loss(cf.cf_response(w, torch.roll(feat, 2, -1)), y)))


def test_relative_ridge_in_training_matches_explicit_per_pair_lambda(monkeypatch):
    """cf_lambda1_rel gives each pair lambda_1 = cf_lambda1 + rel * (energy of its windowed target patch),
    exactly what the tracker's cf.relative_ridge computes, and the CF loss still back-propagates to the fine branch."""
    from edcf_plugin import cf
    seen = []
    original = cf.cf_solve

    def spy(z0, y, ctx, lambda1, lambda2):
        seen.append((z0.detach().clone(), lambda1))
        return original(z0, y, ctx, lambda1, lambda2)

    monkeypatch.setattr(cf, "cf_solve", spy)
    torch.manual_seed(0)
    net = EDCFNet(TINY_NET)
    actor = EDCFActor(net, {"high": 0.0, "low": 1.0, "recon": 0.0}, cf_lambda1=1e-4, cf_lambda1_rel=0.003)
    loss, _ = actor(_batch())
    loss.backward()
    z0, lam = seen[-1]
    expected = 1e-4 + 0.003 * z0.float().square().sum(dim=(1, 2, 3))
    assert torch.is_tensor(lam) and lam.shape == (z0.shape[0],)
    torch.testing.assert_close(lam, expected)
    grads = [p.grad for n, p in net.named_parameters() if n.startswith("fine_head.") and p.dim() > 1]
    assert grads and all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
