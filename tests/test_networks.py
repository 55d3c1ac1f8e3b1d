"""Network shapes (paper Sec. 4.1) and the fast cross-correlation against the slow reference (Eq. 3)."""
import torch

from edcf_plugin.networks import EDCFNet, NetConfig, xcorr_fast, xcorr_reference


def test_shapes_match_the_paper():
    net = EDCFNet().eval()
    with torch.no_grad():
        x = torch.rand(2, 3, 255, 255) * 255
        z = torch.rand(2, 3, 127, 127) * 255
        sx, fx = net.embed_and_fine(x)
        sz = net.embed(z)
        assert sx.shape == (2, 256, 22, 22)
        assert sz.shape == (2, 256, 6, 6)
        assert fx.shape == (2, 8, 123, 123)          # documented equivalent of the paper's 125x125x8
        assert net.decode(sx).shape == (2, 3, 255, 255)
        assert net.decode(sz).shape == (2, 3, 127, 127)
        assert net.xcorr(sz, sx).shape == (2, 1, 17, 17)
        assert net.xcorr(sz[:1], sx).shape == (2, 1, 17, 17)


def test_embed_and_fine_equal_separate_passes():
    net = EDCFNet(NetConfig(width=0.25)).eval()
    x = torch.rand(1, 3, 255, 255) * 255
    with torch.no_grad():
        s, f = net.embed_and_fine(x)
        torch.testing.assert_close(s, net.embed(x))
        torch.testing.assert_close(f, net.fine(x))


def test_xcorr_fast_matches_reference():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 5, 4, 3, generator=g, dtype=torch.float64)
    x = torch.randn(3, 5, 9, 8, generator=g, dtype=torch.float64)
    torch.testing.assert_close(xcorr_fast(z, x), xcorr_reference(z, x))
    torch.testing.assert_close(xcorr_fast(z[:1], x), xcorr_reference(z[:1], x))
    # the peak of a patch correlated with itself embedded at (2, 3) is at (2, 3)
    x2 = torch.zeros(1, 5, 9, 8, dtype=torch.float64)
    x2[:, :, 2:6, 3:6] = z[:1]
    out = xcorr_fast(z[:1], x2)[0, 0]
    assert divmod(int(out.argmax()), out.shape[1]) == (2, 3)


def test_width_multiplier_keeps_geometry():
    net = EDCFNet(NetConfig(width=0.5)).eval()
    with torch.no_grad():
        s, f = net.embed_and_fine(torch.rand(1, 3, 255, 255) * 255)
    assert s.shape == (1, 256, 22, 22) and f.shape == (1, 8, 123, 123)


def test_normalize_input_constants_made_in_inference_mode_still_train():
    """normalize_input caches its mean/std per dtype and device; made first under inference_mode (tracking), they
    must still be ordinary tensors that autograd can save (training in the same process afterwards)."""
    import edcf_plugin.networks as nets
    nets._NORM_CACHE.clear()
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64) * 255
    with torch.inference_mode():
        first = nets.normalize_input(x)
    xr = x.clone().requires_grad_()
    out = nets.normalize_input(xr)
    out.sum().backward()
    torch.testing.assert_close(out.detach(), first)
    mean = torch.tensor(nets.PIXEL_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(nets.PIXEL_STD, dtype=torch.float64).view(1, 3, 1, 1)
    torch.testing.assert_close(out.detach(), (x - mean) / std)
    torch.testing.assert_close(xr.grad, (1.0 / std).expand_as(x))
