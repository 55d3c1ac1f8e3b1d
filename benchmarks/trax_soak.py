"""The TraX server on long runs and side by side (issue 21 item 2): vot-trax's own client drives
``python -m edcf_plugin.trax`` over a real sequence played forwards and backwards.

    python benchmarks/trax_soak.py long --frames 3000 --out runs/trax/long.json        # server RSS every 500 frames
    python benchmarks/trax_soak.py parallel --servers 5 --frames 300 --out runs/trax/parallel.json

``long``: one server, N frames, the server's RSS (``/proc/PID/statm``) read after every reply and reported as the
largest reading of each interval. ``parallel``: one server alone, then N servers with N clients at once (each
client in its own process), all with the same thread count (``EDCF_THREADS``, default 1); every box of every
parallel session is compared with the solo session's. Settings other than ``EDCF_THREADS`` come from the
environment as the VOT toolkit passes them (``EDCF_PRESET`` etc.; default: the ``[EDCF]`` entry's).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from memory_soak import DEFAULT_SEQUENCE, ping_pong      # the script beside this one (same folder on sys.path)


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def session(sequence: Path, frames: int, every: int, threads: int) -> dict:
    """One server and one vot-trax client over ``frames`` frames: boxes, timings and the server's RSS."""
    from trax.client import Client
    from trax.image import FileImage
    from trax.region import Rectangle

    from edcf_plugin.formats.sequences import load_sequence

    seq = load_sequence(sequence)
    env = dict(os.environ, EDCF_THREADS=str(threads))
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "edcf_plugin.trax"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    client = Client(stream=(server.stdin.fileno(), server.stdout.fileno()), log=lambda message: None)
    ready = time.perf_counter() - t0
    boxes, samples, peak = [], [], 0.0
    t1 = time.perf_counter()
    for i, k in enumerate(ping_pong(len(seq.frames), frames)):
        image = {"color": FileImage.create(str(seq.frames[k]))}
        if i == 0:
            objects, _ = client.initialize(image, [(Rectangle.create(*seq.groundtruth[0]), {})], {})
        else:
            objects, _ = client.frame(image, {}, [])
        boxes.append([round(float(v), 4) for v in objects[0][0].bounds()])
        peak = max(peak, rss_mb(server.pid))
        if (i + 1) % every == 0 or i + 1 == frames:
            samples.append({"frame": i + 1, "server_rss_mb": peak, "elapsed_s": time.perf_counter() - t1})
            peak = 0.0
    client.quit()
    client = None
    status = server.wait(60)
    return {"boxes": boxes, "samples": samples, "handshake_s": ready, "exit_status": status,
            "fps": frames / (time.perf_counter() - t1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["long", "parallel", "client"])
    p.add_argument("--frames", type=int, default=3000)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--servers", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sequence", type=Path, default=DEFAULT_SEQUENCE)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if args.mode == "client":                     # one session, its result as JSON on stdout
        print(json.dumps(session(args.sequence, args.frames, args.every, args.threads)))
        return
    from edcf_plugin.checkpoint import git_revision

    report = {"command": " ".join(["python", *sys.argv]), "mode": args.mode, "git_revision": git_revision(),
              "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "sequence": str(args.sequence), "frames": args.frames, "threads": args.threads,
              "preset": os.environ.get("EDCF_PRESET") or "reference", "cpu_count": os.cpu_count()}
    if args.mode == "long":
        r = session(args.sequence, args.frames, args.every, args.threads)
        base = next(s for s in r["samples"] if s["frame"] >= min(1000, args.frames))["server_rss_mb"]
        report.update(samples=r["samples"], exit_status=r["exit_status"], fps=r["fps"],
                      growth_pct=100 * (max(s["server_rss_mb"] for s in r["samples"]
                                            if s["frame"] >= min(1000, args.frames)) / base - 1))
        for s in r["samples"]:
            print(f"frame {s['frame']:>5}: server RSS {s['server_rss_mb']:.1f} MB", file=sys.stderr)
        print(f"exit status {r['exit_status']}, {r['fps']:.1f} FPS, RSS growth from frame 1000: "
              f"{report['growth_pct']:+.2f} %")
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "client", "--frames", str(args.frames),
               "--every", str(args.frames), "--threads", str(args.threads), "--sequence", str(args.sequence)]
        solo = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(args.servers)]
        results = [json.loads(pr.communicate()[0]) for pr in procs]
        same = [r["boxes"] == solo["boxes"] for r in results]
        report.update(servers=args.servers, solo_fps=solo["fps"], parallel_fps=[r["fps"] for r in results],
                      exit_status=[solo["exit_status"]] + [r["exit_status"] for r in results],
                      same_boxes_as_solo=same, frames_each=[len(r["boxes"]) for r in results])
        print(f"solo {solo['fps']:.1f} FPS; {args.servers} at once: "
              f"{', '.join(format(r['fps'], '.1f') for r in results)} FPS; exit statuses {report['exit_status']}; "
              f"same boxes as solo: {same}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
