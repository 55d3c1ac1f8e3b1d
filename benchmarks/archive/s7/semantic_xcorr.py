"""The single-pass semantic cross-correlation (fast preset, uav10_boat1 frame 2, 2 threads): conv2d as the tracker
runs it against an FFT form: python benchmarks/archive/s7/semantic_xcorr.py ../shared/data/sequences/uav10_boat1"""
import torch, time, sys
import torch.nn.functional as F
from edcf_plugin.tracker import EDCFTracker
from edcf_plugin.sequences import load_sequence
from edcf_plugin.config import preset
torch.set_num_threads(2)
seq = load_sequence(sys.argv[1])
frames = [im for i, im in zip(range(5), seq.images())]
t = EDCFTracker(variant="EDCF", device="cpu", overrides=preset("fast"))
cap = {}
orig = t._sp_semantic_response
def g(sem):
    cap['sem'] = sem; return orig(sem)
t._sp_semantic_response = g
t.init(frames[0], seq.groundtruth[0]); t.update(frames[1])
sem, z = cap['sem'], t.z_scales
print(sem.shape, sem.dtype, sem.is_contiguous(), sem.is_contiguous(memory_format=torch.channels_last), z.shape, z.dtype, z.is_contiguous(), z.is_contiguous(memory_format=torch.channels_last))
def bench(fn, n=300):
    for _ in range(20): fn()
    s = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - s) / n * 1e3
with torch.inference_mode():
    print("full", bench(lambda: orig(sem)))
    print("conv only", bench(lambda: F.conv2d(sem, z)))
    sc, zc = sem.contiguous(), z.contiguous()
    print("conv contiguous", bench(lambda: F.conv2d(sc, zc)))
    print("conv contiguous incl. conversion", bench(lambda: F.conv2d(sem.contiguous(), zc)))
    r = F.conv2d(sem, z)
    print("adjust+sigmoid", bench(lambda: torch.sigmoid(t.net.adjust(r.transpose(0, 1)))))
    print(t.net.adjust)
    # as a matmul via unfold
    print("max diff", (F.conv2d(sc, zc) - F.conv2d(sem, z)).abs().max().item())
    H, W = sem.shape[-2:]
    zp = torch.zeros(3, 256, H, W); zp[..., :6, :6] = z
    Fz = torch.fft.rfft2(zp).conj().reshape(3, 256, -1).contiguous()
    def fftcorr():
        Fs = torch.fft.rfft2(sem).reshape(256, -1)
        P = torch.matmul(Fz.permute(2, 0, 1), Fs.T.unsqueeze(-1)).squeeze(-1).T       # 3 x (H * Wr)
        R = torch.fft.irfft2(P.reshape(3, H, W // 2 + 1), s=(H, W))
        return R[:, :17, :17]
    def fftcorr2():
        Fs = torch.fft.rfft2(sem).reshape(256, -1)
        P = torch.einsum("sck,ck->sk", Fz, Fs)
        return torch.fft.irfft2(P.reshape(3, H, W // 2 + 1), s=(H, W))[:, :17, :17]
    ref = F.conv2d(sc, zc)[0]
    for fn in (fftcorr, fftcorr2):
        out = fn()
        print(fn.__name__, bench(fn), "max abs diff", (out - ref).abs().max().item(), "ref max", ref.abs().max().item())
    print("rfft only", bench(lambda: torch.fft.rfft2(sem)))
