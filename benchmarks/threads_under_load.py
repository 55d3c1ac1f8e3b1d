"""The tracker's speed with and without one busy CPU process beside it, for OpenMP's default (active) and passive
wait policies: issue 21 item 6. Each cell: `edcf track` on the bundled demo sequence (60 frames), median of N
runs, tracker FPS from its summary line.

    python benchmarks/threads_under_load.py --runs 3 --threads 2
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "edcf_plugin" / "data" / "demo"


def fps(threads: int, policy: str | None, preset: str) -> float:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    env["EDCF_NO_OMP_POLICY"] = "1" if policy is None else ""
    out = subprocess.run([sys.executable, "-m", "edcf_plugin.cli", "track", str(DEMO), "--threads", str(threads),
                          "--preset", preset], capture_output=True, text=True, env=env, timeout=900).stdout
    return float(re.search(r"^frames=\d+ fps=([\d.]+)", out, re.M).group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--preset", default="reference")
    args = p.parse_args()
    rows = []
    for load in (False, True):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load else None
        try:
            for policy in (None, "PASSIVE"):
                vals = [fps(args.threads, policy, args.preset) for _ in range(args.runs)]
                rows.append({"busy_process": load, "OMP_WAIT_POLICY": policy or "(unset: libgomp default)",
                             "fps_median": statistics.median(vals), "fps": vals})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if busy:
                busy.kill()
    print(json.dumps({"threads": args.threads, "preset": args.preset, "rows": rows}))


if __name__ == "__main__":
    main()
