"""Micro-benchmark: the tracking CF solve of commit eb87f66 (old) against the working tree's (new), on one
1 x 5 x 8 x 128 x 65 spectrum (the realtime tracker's shape), median of 200 calls, 1 and 2 threads. Run from the
repository root: python benchmarks/archive/solve_microbench.py"""
import torch, time, subprocess, statistics
from edcf_plugin import cf
src = subprocess.run(["git","show","eb87f66:edcf_plugin/cf.py"],capture_output=True,text=True).stdout
ns = {}; exec(compile(src, "old_cf", "exec"), ns)
a = torch.randn(1,5,8,128,65, dtype=torch.complex64); yf = torch.randn(1,128,65, dtype=torch.complex64)
def t(fn, k=200):
    for _ in range(5): fn()
    ts=[]
    for _ in range(k):
        s=time.perf_counter(); fn(); ts.append(time.perf_counter()-s)
    return statistics.median(ts)*1e3
for th in (1, 2):
    torch.set_num_threads(th)
    o = t(lambda: ns["_solve_dual_no_grad"](a, yf, 1e-2)); n = t(lambda: cf._solve_dual_no_grad(a, yf, 1e-2))
    print(f"threads {th}: old {o:.2f} ms, new {n:.2f} ms, ratio {o/n:.2f}")
