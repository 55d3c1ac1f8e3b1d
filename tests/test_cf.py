"""CF layer (Eq. 5-9) against a brute-force spatial-domain oracle and autograd."""
import numpy as np
import pytest
import torch

from edcf_plugin.cf import (centred_cosine_window, cf_response, cf_solve, cf_solve_stacked, context_offsets,
                           cosine_window, gaussian_target)


def circulant_conv_matrix(z: np.ndarray) -> np.ndarray:
    """Explicit N x N matrix M with (M w) = z (*) w (2-D circular convolution), N = H*W, row-major."""
    h, w = z.shape
    n = h * w
    m = np.zeros((n, n))
    for r in range(h):
        for c in range(w):
            for i in range(h):
                for j in range(w):
                    # out[r, c] += z[(r - i) % h, (c - j) % w] * w[i, j]
                    m[r * w + c, i * w + j] = z[(r - i) % h, (c - j) % w]
    return m


def brute_force_cf(z0, contexts, y, lam1, lam2):
    """Spatial-domain ridge regression of Eq. 6 with explicit circulant matrices (normal equations)."""
    c, h, w = z0.shape
    big = lambda feat: np.concatenate([circulant_conv_matrix(feat[ch]) for ch in range(c)], axis=1)
    a0 = big(z0)
    lhs = a0.T @ a0 + lam1 * np.eye(c * h * w)
    for zi in contexts:
        ai = big(zi)
        lhs += lam2 * ai.T @ ai
    sol = np.linalg.solve(lhs, a0.T @ y.reshape(-1))
    return sol.reshape(c, h, w)


@pytest.mark.parametrize("channels,k,shape", [(1, 0, (5, 6)), (1, 4, (6, 5)), (3, 4, (5, 6)), (4, 2, (6, 6))])
def test_solve_matches_bruteforce(channels, k, shape):
    rng = np.random.default_rng(channels * 10 + k)
    h, w = shape
    z0 = rng.normal(size=(channels, h, w))
    ctx = rng.normal(size=(k, channels, h, w))
    y = gaussian_target(h, w, 1.2, dtype=torch.float64).numpy()
    lam1, lam2 = 1e-2, 0.1
    w_ref = brute_force_cf(z0, ctx, y, lam1, lam2)
    w_hat = cf_solve(torch.from_numpy(z0)[None], torch.from_numpy(y),
                     torch.from_numpy(ctx)[None] if k else None, lam1, lam2)
    w_ours = torch.fft.irfft2(w_hat, s=(h, w))[0].numpy()
    np.testing.assert_allclose(w_ours, w_ref, atol=1e-6, rtol=0)
    # and the response of Eq. 9 on a search patch equals the explicit circulant product X w
    x = rng.normal(size=(channels, h, w))
    g_ref = sum(circulant_conv_matrix(x[ch]) @ w_ref[ch].reshape(-1) for ch in range(channels)).reshape(h, w)
    g = cf_response(w_hat, torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(g, g_ref, atol=1e-6, rtol=0)


def test_single_channel_is_eq7_as_printed():
    rng = np.random.default_rng(0)
    z0 = torch.from_numpy(rng.normal(size=(1, 1, 8, 8)))
    ctx = torch.from_numpy(rng.normal(size=(1, 4, 1, 8, 8)))
    y = gaussian_target(8, 8, 1.0, dtype=torch.float64)
    lam1, lam2 = 1e-4, 0.1
    zf = torch.fft.rfft2(z0[0, 0])
    cfs = torch.fft.rfft2(ctx[0, :, 0])
    eq7 = zf.conj() * torch.fft.rfft2(y) / (zf.conj() * zf + lam1 + lam2 * (cfs.conj() * cfs).sum(0))
    ours = cf_solve(z0, y, ctx, lam1, lam2)[0, 0]
    torch.testing.assert_close(ours, eq7, atol=1e-9, rtol=1e-9)


def test_batched_solve_equals_per_item():
    rng = np.random.default_rng(3)
    z0 = torch.from_numpy(rng.normal(size=(3, 2, 6, 7)))
    ctx = torch.from_numpy(rng.normal(size=(3, 4, 2, 6, 7)))
    y = gaussian_target(6, 7, 1.0, dtype=torch.float64)
    batched = cf_solve(z0, y, ctx)
    for b in range(3):
        torch.testing.assert_close(batched[b], cf_solve(z0[b:b + 1], y, ctx[b:b + 1])[0])


def test_gradcheck_solve_and_response():
    rng = np.random.default_rng(1)
    z0 = torch.from_numpy(rng.normal(size=(1, 2, 4, 5))).requires_grad_()
    ctx = torch.from_numpy(rng.normal(size=(1, 2, 2, 4, 5))).requires_grad_()
    x = torch.from_numpy(rng.normal(size=(1, 2, 4, 5))).requires_grad_()
    y = gaussian_target(4, 5, 1.0, dtype=torch.float64)

    def fn(z0, ctx, x):
        return cf_response(cf_solve(z0, y, ctx, 1e-2, 0.1), x)

    assert torch.autograd.gradcheck(fn, (z0, ctx, x), eps=1e-6, atol=1e-5)


def test_eq10_to_14_agree_with_autograd_single_channel():
    """The printed derivatives (Eq. 10-12) for one channel and no context match autograd.

    Eq. 11 ``dL/dx = F^-1(dL/dg^* (.) w^*)`` and Eq. 12 ``dL/dw^ = dL/dg^* (.) x^*`` are checked through
    the Parseval-consistent form: for L = ||g - y||^2, dL/dx = (correlation of 2(g - y) with w).
    """
    rng = np.random.default_rng(5)
    h, w = 6, 6
    z0 = torch.from_numpy(rng.normal(size=(1, 1, h, w)))
    x = torch.from_numpy(rng.normal(size=(1, 1, h, w))).requires_grad_()
    y = gaussian_target(h, w, 1.0, dtype=torch.float64)
    w_hat = cf_solve(z0, y, None, 1e-2)
    g = cf_response(w_hat, x)[0]
    loss = ((g - y) ** 2).sum()
    loss.backward()
    # Eq. 10: dL/dg = 2(g - y) (spatial). Eq. 11: dL/dx = F^-1(F(dL/dg) (.) conj(w^)).
    dg = 2.0 * (g.detach() - y)
    eq11 = torch.fft.ifft2(torch.fft.fft2(dg) * torch.fft.fft2(torch.fft.irfft2(w_hat[0, 0], s=(h, w))).conj()).real
    torch.testing.assert_close(x.grad[0, 0], eq11, atol=1e-9, rtol=1e-9)


def test_target_and_window():
    y = gaussian_target(9, 8, 1.5)
    assert y.argmax().item() == 0 and abs(y[0, 0].item() - 1.0) < 1e-6
    assert torch.allclose(y[1, 0], y[-1, 0])  # wraps around
    yc = gaussian_target(9, 8, 1.5, center=(4, 3))
    assert divmod(yc.argmax().item(), 8) == (4, 3)
    win = cosine_window(9, 8)
    assert win.shape == (9, 8) and win[0, 0] == 0 and win.max() <= 1
    assert context_offsets(10, 20) == [(0.0, -20.0), (-10.0, 0.0), (0.0, 20.0), (10.0, 0.0)]


@pytest.mark.parametrize("h,w", [(128, 128), (123, 123), (9, 8), (6, 7)])
def test_motion_prior_window_is_symmetric_about_zero_displacement(h, w):
    """The motion prior peaks at (h // 2, w // 2), where a response grid has zero displacement, and falls off
    equally on both sides of it (the symmetric Hann window of an even size peaks half a cell before)."""
    win = centred_cosine_window(h, w, dtype=torch.float64)
    cy, cx = h // 2, w // 2
    assert win[cy, cx] == win.max() and abs(win[cy, cx].item() - 1.0) < 1e-12
    for k in range(1, min(cy, h - 1 - cy) + 1):
        assert torch.allclose(win[cy + k], win[cy - k])
    for k in range(1, min(cx, w - 1 - cx) + 1):
        assert torch.allclose(win[:, cx + k], win[:, cx - k])
    if h % 2 and w % 2:
        assert torch.equal(win, cosine_window(h, w, dtype=torch.float64))


def test_detects_shift():
    """A filter learned on z detects a circularly shifted copy of z at the shift."""
    rng = np.random.default_rng(2)
    z = torch.from_numpy(rng.normal(size=(1, 3, 16, 16)))
    y = gaussian_target(16, 16, 1.0, dtype=torch.float64)
    ctx = torch.from_numpy(rng.normal(size=(1, 4, 3, 16, 16)))
    w_hat = cf_solve(z, y, ctx)
    g = cf_response(w_hat, torch.roll(z, shifts=(3, -5), dims=(-2, -1)))[0]
    assert divmod(g.argmax().item(), 16) == (3, 11)


def test_flat_input_with_identical_contexts_is_finite():
    """A flat frame makes every patch's spectrum identical (rank-1 Gram matrix): the solve must not fail."""
    z0 = torch.full((1, 8, 123, 123), 3.7e2)
    ctx = z0.unsqueeze(1).expand(1, 4, 8, 123, 123).clone()
    y = gaussian_target(123, 123, 3.0)
    w_hat = cf_solve(z0, y, ctx)
    assert w_hat.dtype == torch.complex64 and torch.isfinite(torch.view_as_real(w_hat)).all()
    assert torch.isfinite(cf_response(w_hat, z0)).all()


def test_fft_size_is_smallest_2_3_smooth_at_least_n():
    from edcf_plugin.cf import fft_size

    def smooth(m):
        for p in (2, 3):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 300):
        expected = next(m for m in range(n, 4 * n + 2) if smooth(m))
        assert fft_size(n) == expected, n


@pytest.mark.parametrize("flat", [False, True])
def test_tracking_solve_equals_autograd_solve(flat):
    """cf_solve without autograd (vectorised elimination) = with autograd (LAPACK solve + pinv fallback),
    also on a flat patch whose per-frequency systems are numerically singular."""
    rng = np.random.default_rng(7)
    if flat:
        z0 = torch.ones(1, 3, 12, 10)
        ctx = torch.ones(1, 4, 3, 12, 10)
    else:
        z0 = torch.from_numpy(rng.normal(size=(2, 3, 12, 10))).float()
        ctx = torch.from_numpy(rng.normal(size=(2, 4, 3, 12, 10))).float()
    y = gaussian_target(12, 10, 1.5)
    with torch.no_grad():
        fast = cf_solve(z0, y, ctx, 1e-4, 0.1)
    slow = cf_solve(z0.clone().requires_grad_(), y, ctx, 1e-4, 0.1).detach()
    assert torch.isfinite(torch.view_as_real(fast)).all()
    scale = slow.abs().max()
    assert (fast - slow).abs().max() <= 1e-4 * scale + 1e-7


@pytest.mark.parametrize("grad", [False, True])
def test_per_item_lambda1_equals_separate_solves(grad):
    rng = np.random.default_rng(11)
    z0 = torch.from_numpy(rng.normal(size=(3, 2, 6, 7)))
    ctx = torch.from_numpy(rng.normal(size=(3, 4, 2, 6, 7)))
    y = gaussian_target(6, 7, 1.0, dtype=torch.float64)
    lams = torch.tensor([1e-3, 0.5, 20.0], dtype=torch.float64)
    z_in = z0.clone().requires_grad_(grad)
    batched = cf_solve(z_in, y, ctx, lams).detach()
    for b in range(3):
        single = cf_solve(z0[b:b + 1], y, ctx[b:b + 1], float(lams[b]))[0]
        torch.testing.assert_close(batched[b], single, rtol=1e-9, atol=1e-12)
    # and for plain ridge regression (no context)
    batched = cf_solve(z0, y, None, lams)
    for b in range(3):
        torch.testing.assert_close(batched[b], cf_solve(z0[b:b + 1], y, None, float(lams[b]))[0])


def test_tracking_solve_partial_fallback_in_a_batch():
    """A batch mixing a flat item (its systems need the pseudo-inverse fallback) with a textured one: the
    frequency-vectorised solve must route only the singular frequencies to the fallback and keep each item's
    frequencies in place (no mixing of batch items and channels)."""
    rng = np.random.default_rng(3)
    z0 = torch.from_numpy(rng.normal(size=(2, 3, 9, 11))).float()
    ctx = torch.from_numpy(rng.normal(size=(2, 4, 3, 9, 11))).float()
    z0[0] = 1.0
    ctx[0] = 1.0
    y = gaussian_target(9, 11, 1.2)
    with torch.no_grad():
        fast = cf_solve(z0, y, ctx, 1e-6, 0.1)
    slow = cf_solve(z0.clone().requires_grad_(), y, ctx, 1e-6, 0.1).detach()
    for b in range(2):
        assert (fast[b] - slow[b]).abs().max() <= 1e-4 * slow[b].abs().max() + 1e-7


@pytest.mark.parametrize("method", ["elimination", "batched"])
def test_solve_without_fallback_zeroes_only_the_singular_frequencies(method):
    """fallback=False (the CUDA-graph path: no host synchronisation) gives a zero filter at the frequencies whose
    system is singular and exactly the fallback solve's values everywhere else."""
    rng = np.random.default_rng(4)
    z0 = torch.from_numpy(rng.normal(size=(2, 8, 9, 11))).float()
    ctx = torch.from_numpy(rng.normal(size=(2, 4, 8, 9, 11))).float()
    z0[0] = 1.0                       # flat item: exactly singular systems away from DC (lambda1 = 0)
    ctx[0] = 1.0
    y = gaussian_target(9, 11, 1.2)
    with torch.no_grad():
        ref = cf_solve(z0, y, ctx, 0.0, 0.1, method=method)
        raw = cf_solve(z0, y, ctx, 0.0, 0.1, fallback=False, method=method)
    assert torch.isfinite(torch.view_as_real(raw)).all()
    differs = (raw - ref).abs() > 1e-6 * ref.abs().max()
    assert differs.any(), "the flat item should need the fallback somewhere"
    assert (raw[differs] == 0).all()
    assert not differs[1].any()       # the textured item is untouched


@pytest.mark.parametrize("flat", [False, True])
def test_single_precision_tracking_solve_matches_the_brute_force_oracle(flat):
    """precision="single" (complex64 elimination, the realtime presets' solve) against the spatial-domain normal
    equations solved in float64 (and against the double-precision solve), also where the systems are singular
    (a flat patch: the singular-pivot test must route those frequencies to the fallback in single precision too)."""
    rng = np.random.default_rng(21)
    c, k, h, w = 3, 4, 6, 5
    if flat:
        z0, ctx = np.ones((c, h, w)), np.ones((k, c, h, w))
    else:
        z0, ctx = rng.normal(size=(c, h, w)), rng.normal(size=(k, c, h, w))
    y = gaussian_target(h, w, 1.1, dtype=torch.float64).numpy()
    lam1, lam2 = 1e-2, 0.1
    w_ref = brute_force_cf(z0, ctx, y, lam1, lam2)
    with torch.no_grad():
        single = cf_solve(torch.from_numpy(z0).float()[None], torch.from_numpy(y).float(),
                          torch.from_numpy(ctx).float()[None], lam1, lam2, precision="single")
        double = cf_solve(torch.from_numpy(z0)[None], torch.from_numpy(y), torch.from_numpy(ctx)[None], lam1, lam2)
    assert single.dtype == torch.complex64 and double.dtype == torch.complex128
    w_single = torch.fft.irfft2(single, s=(h, w))[0].double().numpy()
    assert np.isfinite(w_single).all()
    np.testing.assert_allclose(w_single, w_ref, atol=1e-3 * np.abs(w_ref).max(), rtol=0)   # float32: cond ~ 1e4 here
    assert (single.to(double.dtype) - double).abs().max() <= 1e-3 * double.abs().max()


def test_solve_precision_is_checked():
    z0 = torch.rand(1, 2, 4, 4)
    with torch.no_grad(), pytest.raises(ValueError, match="precision"):
        cf_solve(z0, torch.rand(4, 4), torch.rand(1, 4, 2, 4, 4), precision="half")


@pytest.mark.parametrize("precision", ["single", "double"])
@pytest.mark.parametrize("k,pad,flat", [(4, (0, 0), False), (4, (2, 1), False), (0, (1, 2), False), (3, (1, 1), True)])
def test_stacked_tracking_solve_matches_the_brute_force_oracle(precision, k, pad, flat):
    """cf_solve_stacked (the tracker's solve: target and context patches through one FFT that zero-pads them to
    ``s``, the target's spectrum given) against the spatial-domain normal equations on the zero-padded patches,
    also where the systems are singular (flat patches), and equal to cf_solve on the padded patches."""
    rng = np.random.default_rng(5 + k + pad[0])
    c, h, w = 3, 5, 6
    hs, ws = h + pad[0], w + pad[1]
    patches = np.ones((1 + k, c, h, w)) if flat else rng.normal(size=(1 + k, c, h, w))
    padded = np.zeros((1 + k, c, hs, ws))
    padded[:, :, :h, :w] = patches
    y = gaussian_target(hs, ws, 1.1, dtype=torch.float64)
    lam1, lam2 = 1e-2, 0.1
    w_ref = brute_force_cf(padded[0], padded[1:], y.numpy(), lam1, lam2)
    dtype = torch.float32 if precision == "single" else torch.float64
    with torch.no_grad():
        p = torch.from_numpy(patches).to(dtype)
        yf = torch.fft.rfft2(y.to(dtype))
        ours = cf_solve_stacked(p, yf, lam1, lam2, precision=precision, s=(hs, ws))
        pp = torch.from_numpy(padded).to(dtype)
        general = cf_solve(pp[:1], y.to(dtype), pp[1:][None] if k else None, lam1, lam2, precision=precision)
    assert ours.shape == (1, c, hs, ws // 2 + 1) and ours.dtype == yf.dtype
    w_ours = torch.fft.irfft2(ours, s=(hs, ws))[0].double().numpy()
    tol = 1e-3 if precision == "single" else 1e-8
    np.testing.assert_allclose(w_ours, w_ref, atol=tol * np.abs(w_ref).max(), rtol=0)
    torch.testing.assert_close(ours, general, atol=tol * float(general.abs().max()), rtol=0)


@pytest.mark.parametrize("precision", ["single", "double"])
def test_band_limited_solve_is_the_full_solve_in_band_and_bounded_outside(precision):
    """cf_solve_stacked with ``band`` (the presets' cf_band): at the frequencies it keeps, the filter equals the
    brute-force oracle's; at the ones it drops it is zero, and the oracle's filter there is no larger than the
    bound band_indices documents (band max|y^| / (2 sqrt(lambda_1)), channel vector norm per frequency)."""
    from edcf_plugin.cf import band_indices

    rng = np.random.default_rng(11)
    c, k, h, w = 2, 4, 14, 12
    patches = rng.normal(size=(1 + k, c, h, w))
    y = gaussian_target(h, w, 1.3, dtype=torch.float64)
    lam1, lam2, band = 1e-2, 0.1, 1e-3
    w_ref = brute_force_cf(patches[0], patches[1:], y.numpy(), lam1, lam2)
    ref_hat = np.fft.rfft2(w_ref)                                 # C x H x Wr, the oracle's spectrum
    dtype = torch.float32 if precision == "single" else torch.float64
    yf = torch.fft.rfft2(y.to(dtype))
    idx = band_indices(yf, band)
    assert idx is not None and 0 < idx.numel() < yf.numel()       # this target drops some frequencies
    assert band_indices(yf, 0.0) is None
    with torch.no_grad():
        ours = cf_solve_stacked(torch.from_numpy(patches).to(dtype), yf, lam1, lam2, precision=precision,
                                band=band)[0].numpy().reshape(c, -1)
        by_index = cf_solve_stacked(torch.from_numpy(patches).to(dtype), yf, lam1, lam2, precision=precision,
                                    band=idx)[0].numpy().reshape(c, -1)
    np.testing.assert_array_equal(ours, by_index)
    keep = np.zeros(yf.numel(), bool)
    keep[idx.numpy()] = True
    ref = ref_hat.reshape(c, -1)
    tol = (1e-3 if precision == "single" else 1e-8) * np.abs(ref).max()
    np.testing.assert_allclose(ours[:, keep], ref[:, keep], atol=tol, rtol=0)
    assert (ours[:, ~keep] == 0).all()
    bound = band * float(yf.abs().max()) / (2 * np.sqrt(lam1))
    dropped = np.linalg.norm(ref[:, ~keep], axis=0)
    assert dropped.max() <= bound * (1 + 1e-9)
    assert dropped.max() > 0                                       # the bound is checked on non-zero filters
