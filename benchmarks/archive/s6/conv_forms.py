"""conv1 (11 x 11, stride 2) and the fine head (3 x 3, 48 -> 8) on the single-pass crop shapes, 2 threads: fp32 / bf16,
channels_last, and the space-to-depth conv1 and GEMM fine-head alternatives (session 6, 21:5x UTC):
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 python benchmarks/archive/s6/conv_forms.py"""
import torch, time
import torch.nn.functional as F
torch.set_num_threads(2)
def tm(f, n=100):
    with torch.inference_mode():
        for _ in range(5): f()
        s=time.perf_counter()
        for _ in range(n): f()
    return (time.perf_counter()-s)/n*1e3
w = torch.randn(48,3,11,11); b = torch.randn(48)
for shape in [(1,3,415,415),(2,3,255,255)]:
    x = torch.randn(*shape)
    xc = x.contiguous(memory_format=torch.channels_last)
    print(shape, "fp32 nchw", tm(lambda: F.conv2d(x, w, b, stride=2)))
    print(shape, "fp32 cl", tm(lambda: F.conv2d(xc, w, b, stride=2)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        print(shape, "bf16 cl", tm(lambda: F.conv2d(xc, w, b, stride=2)))
    xb = xc.bfloat16(); wb = w.bfloat16().contiguous(memory_format=torch.channels_last); bb=b.bfloat16()
    print(shape, "bf16 direct cl", tm(lambda: F.conv2d(xb, wb, bb, stride=2)))
    # space to depth: pad input to even, 12x12 kernel
    H = shape[2]; Hp = H + (H % 2)
    w12 = F.pad(w, (0,1,0,1))  # 48x3x12x12
    w_s2d = w12.reshape(48,3,6,2,6,2).permute(0,1,3,5,2,4).reshape(48,12,6,6)
    def s2d(x):
        xp = F.pad(x, (0, Hp-H+0, 0, Hp-H))
        n = x.shape[0]
        return xp.reshape(n,3,Hp//2,2,Hp//2,2).permute(0,1,3,5,2,4).reshape(n,12,Hp//2,Hp//2)
    ref = F.conv2d(x, w, b, stride=2)
    out = F.conv2d(s2d(x), w_s2d, b)
    print("s2d err", (out[..., :ref.shape[-2], :ref.shape[-1]] - ref).abs().max().item(), out.shape, ref.shape)
    xs = s2d(x).contiguous(memory_format=torch.channels_last)
    print(shape, "s2d conv fp32 cl", tm(lambda: F.conv2d(xs, w_s2d, b)))
    print(shape, "s2d transform", tm(lambda: s2d(x).contiguous(memory_format=torch.channels_last)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        print(shape, "s2d conv bf16 cl", tm(lambda: F.conv2d(xs, w_s2d, b)))
w = torch.randn(8,48,3,3); b = torch.randn(8)
for shape in [(1,48,231,177),(2,48,123,123)]:
    low = torch.randn(*shape).bfloat16().contiguous(memory_format=torch.channels_last)
    wb, bb = w.bfloat16(), b.bfloat16()
    ref = F.conv2d(low.float(), w, b, padding=1)
    print(shape, "bf16 conv", tm(lambda: F.conv2d(low, wb, bb, padding=1)))
    wcl = wb.contiguous(memory_format=torch.channels_last)
    print(shape, "bf16 conv wcl", tm(lambda: F.conv2d(low, wcl, bb, padding=1)))
    lowf = low.float()
    print(shape, "fp32 conv cl", tm(lambda: F.conv2d(lowf, w, b, padding=1)))
    lowfn = lowf.contiguous()
    print(shape, "fp32 conv nchw", tm(lambda: F.conv2d(lowfn, w, b, padding=1)))
    # GEMM + shifted sums
    N, C, H, W = shape
    Wall = wb.permute(1, 2, 3, 0).reshape(48, 72)  # (c) x (ky,kx,o)
    def gemm():
        X = low.permute(0, 2, 3, 1)  # N H W C contiguous
        Z = (X.reshape(-1, 48) @ Wall).reshape(N, H, W, 3, 3, 8).float()
        Zp = F.pad(Z, (0,0,0,0,0,0,1,1,1,1))  # pad W and H by 1
        out = Zp[:, 0:H, 0:W, 0, 0]
        for ky in range(3):
            for kx in range(3):
                if ky or kx:
                    out = out + Zp[:, ky:ky+H, kx:kx+W, ky, kx]
        return (out + b).permute(0, 3, 1, 2)
    g = gemm()
    print(shape, "gemm", tm(gemm), (g - ref).abs().max().item(), ref.abs().max().item())
