"""Memory on long runs (issue 21 item 1): one real sequence played forwards and backwards to N frames per preset,
the resident set size (RSS) and the tracker's cache recorded every K frames, alone or beside busy processes.

    python benchmarks/memory_soak.py --frames 10000 --presets reference,realtime,balanced,fast --load 0
    python benchmarks/memory_soak.py --frames 10000 --load 2 --out runs/soak/load2.json

Each preset runs in its own process, set up as the command-line entry points set themselves up
(:func:`edcf_plugin.process_setup.process_setup`: OpenMP's passive waiting, glibc's allocator settings and the
periodic heap trim), with torch's default thread count unless ``--threads``; ``--bare`` turns all of that off
(``EDCF_NO_OMP_POLICY=1``, ``EDCF_NO_MALLOC_TUNING=1``: what every process did before the settings existed). Frames are decoded from disk at every frame, as ``edcf track`` and the TraX server do, and every
returned box is kept, as a toolkit does. ``--load N`` starts N pure-Python busy loops for the whole run.
RSS is read after every frame; a sample reports the largest reading since the previous sample (the tracker hands
free heap pages back every 50 frames, so a reading taken just after that alone would flatter it). The figure is
the growth between the sample at ``--from`` frames (default 1,000) and the largest later sample.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SEQUENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sequences" / "uav10_boat1"


def ping_pong(n_source: int, n: int):
    """Frame indices 0, 1, ..., n_source-1, n_source-2, ..., 1, 0, 1, ... (n of them)."""
    period = 2 * (n_source - 1)
    for i in range(n):
        k = i % period
        yield k if k < n_source else period - k


def allocator_stats() -> dict:
    """glibc's view of the heap (``mallinfo2``, glibc >= 2.33) and the process's thread count, where available."""
    out = {}
    try:
        import ctypes

        class MallInfo2(ctypes.Structure):
            _fields_ = [(k, ctypes.c_size_t) for k in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                       "fsmblks", "uordblks", "fordblks", "keepcost")]

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        m = libc.mallinfo2()
        out = {"heap_mb": m.arena / 2 ** 20, "mmapped_mb": m.hblkhd / 2 ** 20, "in_use_mb": m.uordblks / 2 ** 20,
               "free_in_heap_mb": m.fordblks / 2 ** 20}
    except (OSError, AttributeError):
        pass
    try:
        heap = anon = 0
        for line in Path("/proc/self/maps").read_text().splitlines():
            parts = line.split()
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            if len(parts) >= 6 and parts[5] == "[heap]":
                heap += hi - lo
            elif len(parts) < 6:
                anon += hi - lo
        out["brk_heap_mb"], out["anon_maps_mb"] = heap / 2 ** 20, anon / 2 ** 20
    except (OSError, ValueError):
        pass
    try:
        status = Path("/proc/self/status").read_text()
        out["os_threads"] = int(status.split("Threads:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return out


def child(args) -> None:
    if args.bare:
        os.environ["EDCF_NO_OMP_POLICY"] = os.environ["EDCF_NO_MALLOC_TUNING"] = "1"
    else:
        from edcf_plugin.process_setup import process_setup

        process_setup()
    import numpy as np
    import torch

    from edcf_plugin.commands.bench import current_rss
    from edcf_plugin.config import preset
    from edcf_plugin.formats.sequences import load_sequence, read_image
    from edcf_plugin.tracking.tracker import build_tracker

    if args.threads:
        torch.set_num_threads(args.threads)
    seq = load_sequence(args.sequence)
    tracker = build_tracker("EDCF", args.weights, args.device, overrides=preset(args.preset))
    kept = []
    peak = 0                                     # the largest RSS of the frames since the last sample
    t0 = time.perf_counter()
    for i, k in enumerate(ping_pong(len(seq.frames), args.frames)):
        image = read_image(seq.frames[k])
        if i == 0:
            tracker.init(image, seq.groundtruth[0])
            box = seq.groundtruth[0]
        else:
            box, _ = tracker.update(image)
        kept.append(np.asarray(box, dtype=np.float64))
        peak = max(peak, current_rss())
        if (i + 1) % args.every == 0 or i + 1 == args.frames:
            gc.collect()
            print(json.dumps({"frame": i + 1, "rss_mb": peak / 2 ** 20, "rss_now_mb": current_rss() / 2 ** 20,
                              "cache": len(tracker._cache), "load_average_1min": os.getloadavg()[0],
                              "elapsed_s": time.perf_counter() - t0, "threads": torch.get_num_threads(),
                              "box": [float(v) for v in kept[-1]], **allocator_stats()}), flush=True)
            peak = 0


def run_preset(args, name: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--preset", name, "--frames", str(args.frames),
           "--every", str(args.every), "--sequence", str(args.sequence), "--device", args.device,
           "--threads", str(args.threads)] + (["--weights", args.weights] if args.weights else []) + \
          (["--bare"] if args.bare else [])
    samples = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            samples.append(json.loads(line))
            s = samples[-1]
            print(f"  {name}: frame {s['frame']:>6}  RSS {s['rss_mb']:8.1f} MB  cache {s['cache']:3d}  "
                  f"{s['frame'] / s['elapsed_s']:6.1f} FPS  heap {s.get('heap_mb', 0):.0f} mmap {s.get('mmapped_mb', 0):.0f} used {s.get('in_use_mb', 0):.0f} brk {s.get('brk_heap_mb', 0):.0f} anon {s.get('anon_maps_mb', 0):.0f} threads {s.get('os_threads')} box {[round(v) for v in s['box']]}", file=sys.stderr, flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"memory_soak: preset {name} failed (exit {proc.returncode})")
    at = {s["frame"]: s["rss_mb"] for s in samples}
    base = at.get(args.start) or next(s["rss_mb"] for s in samples if s["frame"] >= args.start)
    later = [s["rss_mb"] for s in samples if s["frame"] >= args.start]
    return {"preset": name, "samples": samples, "rss_from_mb": base, "rss_max_after_mb": max(later),
            "rss_last_mb": samples[-1]["rss_mb"], "growth_pct": 100.0 * (max(later) / base - 1.0),
            "cache_from": next(s["cache"] for s in samples if s["frame"] >= args.start),
            "cache_last": samples[-1]["cache"], "fps": samples[-1]["frame"] / samples[-1]["elapsed_s"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", default="reference,realtime,balanced,fast")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--every", type=int, default=500, help="RSS sample interval in frames (default 500)")
    p.add_argument("--from", dest="start", type=int, default=1_000, help="growth measured from this frame")
    p.add_argument("--load", type=int, default=0, help="busy processes beside the tracker (default 0)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default 0: torch's default)")
    p.add_argument("--sequence", type=Path, default=DEFAULT_SEQUENCE)
    p.add_argument("--weights", default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bare", action="store_true", help="skip the entry points' process set-up")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--preset", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    from edcf_plugin.checkpoint import git_revision

    revision = git_revision()                    # of the code that runs, read before it runs
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    try:
        rows = [run_preset(args, name) for name in args.presets.split(",")]
    finally:
        for b in busy:
            b.kill()
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date_utc": stamp,
              "git_revision": revision, "load_processes": args.load, "bare": args.bare,
              "sequence": str(args.sequence), "frames": args.frames, "from_frame": args.start,
              "machine": {"cpu_count": os.cpu_count(), "load_average": os.getloadavg()}, "presets": rows}
    for r in rows:
        print(f"{r['preset']}: RSS {r['rss_from_mb']:.1f} MB at frame {args.start}, max after {r['rss_max_after_mb']:.1f}"
              f" MB ({r['growth_pct']:+.2f} %), cache {r['cache_from']} -> {r['cache_last']}, {r['fps']:.1f} FPS")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
