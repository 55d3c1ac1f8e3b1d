"""The context-aware correlation filter (CF) layer as plain, differentiable functions.

Conventions (paper Sec. 3.2). The circulant data matrix of a C-channel feature map ``z`` acts on a filter
``w`` as a sum of circular convolutions, ``Z w = sum_c z_c (*) w_c``, so in the Fourier domain
``F(Z w) = sum_c z^_c w^_c`` (Hadamard products). The regression target ``y`` peaks at index ``(0, 0)``
(zero displacement), so the response of Eq. 9 peaks at the target's displacement, circularly.

Shapes: ``B`` batch, ``K`` context patches, ``C`` channels, ``H x W`` feature size. Spectra use the real FFT
(``W//2 + 1`` columns), complex dtype matching the input precision. All functions work on CPU and CUDA and
are differentiable (autograd gives Eq. 10-14; ``tests/test_cf.py`` checks that against the printed formulas).
"""
from __future__ import annotations

import math

import torch


def gaussian_target(height: int, width: int, sigma: float, *, center: tuple[float, float] = (0.0, 0.0),
                    device=None, dtype=torch.float32) -> torch.Tensor:
    """Gaussian regression target ``y`` of Eq. 5-8, H x W, peak 1 at ``center`` (row, col), circularly wrapped.

    ``sigma`` is in feature cells. Distances are taken on the torus so a peak near a border wraps around,
    which is what the circulant model assumes.
    """
    rows = torch.arange(height, device=device, dtype=dtype)
    cols = torch.arange(width, device=device, dtype=dtype)
    dr = torch.remainder(rows - center[0] + height / 2.0, height) - height / 2.0
    dc = torch.remainder(cols - center[1] + width / 2.0, width) - width / 2.0
    return torch.exp(-0.5 * (dr[:, None] ** 2 + dc[None, :] ** 2) / sigma ** 2)


def cosine_window(height: int, width: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """Hann (cosine) window, H x W, applied to CF features to reduce the boundary effect."""
    wr = torch.hann_window(height, periodic=False, device=device, dtype=dtype)
    wc = torch.hann_window(width, periodic=False, device=device, dtype=dtype)
    return wr[:, None] * wc[None, :]


def centred_cosine_window(height: int, width: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """Hann window, H x W, peaking at row ``H // 2`` and column ``W // 2``: the zero displacement of a response
    grid (the motion prior). For an odd size this is :func:`cosine_window`; for an even one the symmetric window
    would peak half a cell before the centre and pull every peak towards the top left, so the periodic window
    (symmetric about ``n / 2``) is used."""
    wr = torch.hann_window(height, periodic=height % 2 == 0, device=device, dtype=dtype)
    wc = torch.hann_window(width, periodic=width % 2 == 0, device=device, dtype=dtype)
    return wr[:, None] * wc[None, :]


def fft_size(n: int) -> int:
    """Smallest ``2^a 3^b >= n``: the FFT length the CF layer pads its features to. Sizes with a large prime
    factor are slow (the fine features are 123 = 3 x 41 cells: 5x8 FFTs take 5.3 ms there, 0.44 ms at 128)."""
    best = 1 << max(0, (n - 1).bit_length())
    p3 = 1
    while p3 < best:
        m = p3
        while m < n:
            m *= 2
        best = min(best, m)
        p3 *= 3
    return best


def context_offsets(width: float, height: float, k: int = 4) -> list[tuple[float, float]]:
    """Centre offsets ``(dx, dy)`` of the ``k`` context patches (CACF): above, left, below, right of the target,
    one target size away; for ``k > 4`` the diagonals follow, then further rings."""
    base = [(0.0, -1.0), (-1.0, 0.0), (0.0, 1.0), (1.0, 0.0),
            (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)]
    out = []
    ring = 1
    while len(out) < k:
        for dx, dy in base:
            if len(out) == k:
                break
            out.append((dx * ring * width, dy * ring * height))
        ring += 1
    return out


def relative_ridge(z0: torch.Tensor, lambda1: float, lambda1_rel: float) -> float | torch.Tensor:
    """lambda_1 of Eq. 6 made scale-free: ``lambda1 + lambda1_rel * E`` per batch item, E the mean spectral
    energy per frequency of the (windowed) target features ``z0`` (B x C x H x W; by Parseval, the sum of their
    squares). Returns ``lambda1`` itself when ``lambda1_rel`` is 0, else a (B,) tensor (no gradient) for
    :func:`cf_solve`. Used by the tracker and by the training CF layer alike."""
    if not lambda1_rel:
        return lambda1
    return lambda1 + lambda1_rel * z0.detach().float().square().sum(dim=(1, 2, 3))


#: Tracking (no-grad) solve on CUDA: "elimination" (``_solve_dual_no_grad``, many small element-wise kernels) or
#: "batched" (the batched LAPACK-style ``solve_ex`` of the training path: a few large kernels).
CUDA_SOLVE = "batched"


def default_method(device: torch.device) -> str:
    """The no-grad solve used when none is named: elimination on the CPU, ``CUDA_SOLVE`` on CUDA."""
    return CUDA_SOLVE if device.type == "cuda" else "elimination"


def cf_solve(z0: torch.Tensor, y: torch.Tensor, contexts: torch.Tensor | None = None,
             lambda1: float | torch.Tensor = 1e-4, lambda2: float = 0.1, fallback: bool = True,
             method: str | None = None, precision: str = "double") -> torch.Tensor:
    """Closed-form context-aware CF (Eq. 6-7): the exact minimiser of

    ``||Z0 w - y||^2 + lambda1 ||w||^2 + lambda2 sum_i ||Zi w||^2``

    for multi-channel features, solved per frequency in the dual. At one frequency let ``a_i`` (C-vector) be
    the spectrum of patch ``i`` and ``B = [conj(a_0), sqrt(lambda2) conj(a_1), ..., sqrt(lambda2) conj(a_k)]``
    (C x (k+1)). The primal normal equations ``(B B^H + lambda1 I) w^ = conj(a_0) y^`` give, by the
    push-through identity, ``w^ = B (B^H B + lambda1 I)^-1 e_0 y^``: a (k+1) x (k+1) Hermitian system per
    frequency instead of C x C. For one channel this is Eq. 7 as printed.

    Args:
        z0: target features, B x C x H x W (real).
        y: regression target, H x W or B x H x W (real).
        contexts: context features, B x K x C x H x W, or None (K = 0: plain ridge regression, Eq. 5).
        lambda1: a scalar, or one value per batch item (a tensor of B values, treated as a constant).
        fallback: frequencies whose system is numerically singular get the pseudo-inverse solution (True), or a
            zero filter (False: no host synchronisation, so the solve can be captured in a CUDA graph).
        method: without autograd, "elimination" (``_solve_dual_no_grad``) or "batched" (``solve_ex``); default:
            elimination on the CPU, ``CUDA_SOLVE`` on CUDA. With autograd always batched.
        precision: "double" (complex128, default) or "single" (complex64, faster on the CPU; only the
            no-autograd elimination uses it, the batched and autograd solves stay in double precision).
    Returns:
        w^: the filter spectrum, B x C x H x (W//2+1), complex.
    """
    zf = torch.fft.rfft2(z0)                                    # B x C x H x Wr
    yf = torch.fft.rfft2(y)
    if yf.dim() == 2:
        yf = yf.unsqueeze(0)
    if contexts is None or contexts.shape[1] == 0:
        # Eq. 5 (k = 0): w^ = conj(z^) y^ / (sum_c |z^_c|^2 + lambda1)
        denom = (zf.real ** 2 + zf.imag ** 2).sum(1) + _per_item(lambda1, zf.shape[0], 2, zf.real.dtype)
        return zf.conj() * (yf / denom).unsqueeze(1)
    cf = torch.fft.rfft2(contexts)                              # B x K x C x H x Wr
    a = torch.cat([zf.unsqueeze(1), math.sqrt(lambda2) * cf], dim=1)   # B x (K+1) x C x H x Wr
    if not (torch.is_grad_enabled() and a.requires_grad):
        method = method or default_method(a.device)
        if method == "elimination":
            return _solve_dual_no_grad(a, yf, lambda1, fallback, precision).to(zf.dtype)
    # Gram matrix G_ij = sqrt(mu_i mu_j) sum_c a_ic conj(a_jc) = (B^H B)_ij, per frequency.
    # The per-frequency systems are tiny but can be very ill-conditioned (e.g. a flat frame: every patch has the
    # same spectrum, so the Gram matrix is rank 1 next to lambda1); solve them in double precision.
    a_f = a.permute(0, 3, 4, 1, 2).to(torch.complex128)         # B x H x Wr x (K+1) x C
    gram = a_f @ a_f.conj().transpose(-1, -2)                   # B x H x Wr x (K+1) x (K+1)
    n = gram.shape[-1]
    eye = torch.eye(n, dtype=gram.dtype, device=gram.device)
    rhs = torch.zeros(gram.shape[:-1] + (1,), dtype=gram.dtype, device=gram.device)
    rhs[..., 0, 0].fill_(1.0)                                  # fill_: no host-to-device copy
    lhs = gram + _per_item(lambda1, gram.shape[0], 4, torch.float64) * eye
    alpha, info = torch.linalg.solve_ex(lhs, rhs)               # B x H x Wr x (K+1) x 1
    bad = info != 0
    if not fallback:
        ok = ~bad[..., None, None] & torch.isfinite(torch.view_as_real(alpha)).all(-1)
        alpha = torch.where(ok, alpha, torch.zeros((), dtype=alpha.dtype, device=alpha.device))
    elif bool(bad.any()):
        # Numerically singular despite lambda1 (e.g. a flat frame: huge DC term, all patches alike): fall back
        # to the eigen-decomposition based pseudo-inverse for those frequencies only.
        alpha = alpha.clone()
        alpha[bad] = torch.linalg.pinv(lhs[bad], hermitian=True) @ rhs[bad]
    alpha = alpha * yf.reshape(yf.shape[0], yf.shape[1], yf.shape[2], 1, 1).to(alpha.dtype)
    # w^ = B alpha = sum_i conj(a_i) alpha_i
    w = (a_f.conj().transpose(-1, -2) @ alpha).squeeze(-1)      # B x H x Wr x C
    return w.permute(0, 3, 1, 2).to(zf.dtype)


def _per_item(lambda1: float | torch.Tensor, b: int, trailing: int, dtype) -> float | torch.Tensor:
    """lambda_1 as a scalar, or a per-item tensor (B,) shaped to broadcast over ``trailing`` more dims."""
    if not torch.is_tensor(lambda1):
        return float(lambda1)
    lam = lambda1.detach().to(dtype).reshape(-1)
    if lam.numel() not in (1, b):
        raise ValueError(f"lambda1 must be a scalar or hold one value per batch item ({b}), got {lam.numel()}")
    return lam.expand(b).reshape((b,) + (1,) * trailing)


def _regularised_gram(a_n: torch.Tensor, a_c: torch.Tensor, lam) -> torch.Tensor:
    """``G + lambda1 I`` per frequency, n x n x F, from spectra ``a_n`` (n x C x F) and their conjugates ``a_c``:
    ``G_ij = sum_c a_ic conj(a_jc)``, one row of the Hermitian matrix per element-wise product."""
    n, _, f = a_n.shape
    m = torch.empty(n, n, f, dtype=a_n.dtype, device=a_n.device)
    for i in range(n):
        row = (a_n[i:i + 1] * a_c[i:]).sum(1)                                   # (n - i) x F
        m[i, i:] = row
        m[i + 1:, i] = row[1:].conj()
    diag = torch.arange(n, device=a_n.device)
    m[diag, diag] += lam
    return m


#: Working dtypes of the tracking solve by ``precision``, and the relative pivot below which a frequency's system
#: counts as singular (~4500 machine epsilons in double, ~80 in single).
_SOLVE_DTYPES = {"double": (torch.complex128, torch.float64, 1e-12), "single": (torch.complex64, torch.float32, 1e-5)}


def _solve_dual_no_grad(a: torch.Tensor, yf: torch.Tensor, lambda1: float, fallback: bool = True,
                        precision: str = "double") -> torch.Tensor:
    """The same dual solve as ``cf_solve`` for tracking (no autograd), several times faster: the Hermitian
    positive definite (K+1) x (K+1) systems ``(G + lambda1 I) alpha = e_0`` are solved for every frequency at
    once by Gaussian elimination vectorised over the frequencies (a handful of tensor operations instead of one
    LAPACK call per frequency), in double precision. The Gram matrix and ``w^ = sum_i conj(a_i) alpha_i`` are
    formed with element-wise products over frequency-last tensors (one per Gram row) rather than batched tiny
    matrix products, which cost ~2x more on the CPU. Frequencies whose pivots are not clearly positive or whose
    solution is not finite fall back to the pseudo-inverse, as in ``cf_solve`` (``fallback=False``: get a zero
    filter instead, with no host synchronisation). ``precision="single"`` does all of it in complex64 (the
    relative ridge keeps the systems' condition number near 1 / cf_lambda1_rel; the singular-pivot test is
    scaled to the precision).

    ``a``: B x (K+1) x C x H x Wr spectra (context ones already scaled by sqrt(lambda2)); ``yf``: B' x H x Wr.
    Returns w^: B x C x H x Wr, complex128 (complex64 with ``precision="single"``).
    """
    if precision not in _SOLVE_DTYPES:
        raise ValueError(f"precision must be one of {', '.join(_SOLVE_DTYPES)}, got {precision!r}")
    cdtype, rdtype, tiny = _SOLVE_DTYPES[precision]
    b, n, c, h, wr = a.shape
    hw = h * wr
    f = b * hw
    a_n = a.reshape(b, n, c, hw).permute(1, 2, 0, 3).reshape(n, c, f).to(cdtype)   # n x C x F, F = B H Wr
    a_c = a_n.conj()
    lam = _per_item(lambda1, b, 1, rdtype)
    if torch.is_tensor(lam):
        lam = lam.reshape(b, 1).expand(b, hw).reshape(f)
    m = _regularised_gram(a_n, a_c, lam)                                        # n x n x F, eliminated in place
    scale = m.diagonal(dim1=0, dim2=1).real.amax(dim=-1)                         # F
    rhs = torch.zeros(n, f, dtype=m.dtype, device=m.device)
    rhs[0].fill_(1.0)                                          # fill_: no host-to-device copy (CUDA graphs)
    pivots = []
    for j in range(n):
        pivots.append(m[j, j].real)
        if j < n - 1:
            factor = m[j + 1:, j] / m[j, j]                                     # (n-j-1) x F
            m[j + 1:, j + 1:] -= factor[:, None] * m[j, j + 1:][None]
            rhs[j + 1:] -= factor * rhs[j]
    alpha = torch.empty_like(rhs)
    for j in range(n - 1, -1, -1):
        acc = rhs[j]
        if j < n - 1:
            acc = acc - (m[j, j + 1:] * alpha[j + 1:]).sum(0)
        alpha[j] = acc / m[j, j]
    # Singular (pivot not clearly positive; NaN compares False) or not finite. A non-finite alpha_j reaches
    # alpha_0 through the back substitution, so checking alpha_0 covers every component.
    bad = ~(torch.stack(pivots) > tiny * scale).all(0) | ~torch.isfinite(torch.view_as_real(alpha[0])).all(-1)
    if not fallback:
        alpha = torch.where(bad[None], torch.zeros((), dtype=alpha.dtype, device=alpha.device), alpha)
    elif bool(bad.any()):
        # Rebuilt (m was eliminated in place), and in double precision whatever ``precision`` says: these are
        # the frequencies whose systems are too ill-conditioned for the working precision.
        lam_bad = lam[bad].double() if torch.is_tensor(lam) else lam
        a_bad = a_n[:, :, bad].to(torch.complex128)
        lhs = _regularised_gram(a_bad, a_bad.conj(), lam_bad)
        fix = torch.linalg.pinv(lhs.permute(2, 0, 1), hermitian=True)[..., 0]   # (G + l I)^+ e_0
        alpha[:, bad] = fix.transpose(0, 1).to(alpha.dtype)
    alpha = alpha * yf.reshape(yf.shape[0], hw).expand(b, hw).reshape(f).to(alpha.dtype)
    w = (a_c * alpha[:, None]).sum(0)                                           # C x F: sum_i conj(a_i) alpha_i
    return w.reshape(c, b, h, wr).transpose(0, 1)


def band_indices(yf: torch.Tensor, band: float) -> torch.Tensor | None:
    """Flat indices (into ``yf.flatten()``) of the frequencies where the target spectrum ``|y^|`` exceeds
    ``band`` times its peak, or None when that is every frequency (or ``band`` is 0).

    The CF filter is ``w^ = B alpha y^`` (``cf_solve``), and ``|B alpha| <= 1 / (2 sqrt(lambda1))`` at every
    frequency (the singular values s of B give ``s / (s^2 + lambda1)``), so where ``|y^| < band max|y^|`` the
    exact filter is below ``band max|y^| / (2 sqrt(lambda1))`` in magnitude: a band-limited solve that leaves
    those frequencies at zero differs from the full one by no more than that. A Gaussian target of sigma 2 / 3 / 4
    cells on a 128 x 128 grid keeps 37 / 16 / 9 % of the frequencies at ``band = 1e-4`` (55 / 24 / 14 % at 1e-6);
    the tracker's sigma is ~3 cells.
    """
    if band <= 0:
        return None
    mag = yf.abs().flatten()
    keep = mag > band * mag.max()
    if bool(keep.all()):
        return None
    return keep.nonzero().squeeze(1)


def cf_solve_stacked(patches: torch.Tensor, yf: torch.Tensor, lambda1: float | torch.Tensor = 1e-4,
                     lambda2: float = 0.1, fallback: bool = True, precision: str = "double",
                     s: tuple[int, int] | None = None, band: float | torch.Tensor | None = None) -> torch.Tensor:
    """The tracking (no-autograd) ``cf_solve`` for one target: ``patches`` is (1 + K) x C x h x w, the target's
    features then the K context ones, zero-padded to ``s`` = (H, W) by the FFT (default: their own size);
    ``yf`` the target's spectrum ``rfft2(y)``, H x (W//2+1) (cache it: it only changes with the target size).
    One FFT for all patches and no concatenation; the same solution as ``cf_solve``.

    ``band``: solve only where ``|y^| > band max|y^|`` and leave the filter zero elsewhere (``band_indices``
    bounds the difference); a float, or the indices ``band_indices`` returned (cache them with ``yf``); None or
    0: every frequency. Returns 1 x C x H x Wr."""
    a = torch.fft.rfft2(patches, s=s)                           # (1+K) x C x H x Wr
    if a.shape[0] == 1:
        zf = a
        denom = (zf.real ** 2 + zf.imag ** 2).sum(1) + _per_item(lambda1, 1, 2, zf.real.dtype)
        return zf.conj() * (yf / denom).unsqueeze(1)
    a[1:] *= math.sqrt(lambda2)
    yf = yf[0] if yf.dim() == 3 else yf
    idx = band_indices(yf, band) if isinstance(band, (int, float)) else band
    if idx is None:
        return _solve_dual_no_grad(a.unsqueeze(0), yf.unsqueeze(0), lambda1, fallback, precision).to(a.dtype)
    n, c, h, wr = a.shape
    sub = a.reshape(n, c, h * wr).index_select(-1, idx).reshape(1, n, c, 1, -1)
    w_sub = _solve_dual_no_grad(sub, yf.flatten().index_select(0, idx).reshape(1, 1, -1), lambda1, fallback,
                                precision)
    out = torch.zeros(c, h * wr, dtype=a.dtype, device=a.device)
    out.index_copy_(1, idx, w_sub.reshape(c, -1).to(a.dtype))
    return out.reshape(1, c, h, wr)


def cf_response(w_hat: torch.Tensor, x: torch.Tensor, s: tuple[int, int] | None = None) -> torch.Tensor:
    """Detection response of Eq. 9, ``g(x) = F^-1(sum_c x^_c w^_c)``.

    Args:
        w_hat: filter spectrum, B x C x H x (W//2+1) (or 1 x ... broadcast over a batch of search patches).
        x: search features, B x C x h x w (real), zero-padded to ``s`` = (H, W) (default: their own size).
    Returns:
        B x H x W real response; its peak index is the target's circular displacement.
    """
    xf = torch.fft.rfft2(x, s=s)
    return torch.fft.irfft2((xf * w_hat).sum(1), s=s or x.shape[-2:])


def cf_loss(response: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_low of Eq. 8: squared error of the response against the (shifted) Gaussian target, mean over the batch."""
    return ((response - target) ** 2).sum(dim=(-2, -1)).mean()
