"""Two-process DistributedDataParallel training on CPU (gloo), launched with torchrun."""
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from edcf_plugin.checkpoint import load_checkpoint
from train_helpers import TINY_ARGS

REPO = Path(__file__).resolve().parents[1]


def test_two_process_gloo_run(tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "edcf_plugin.commands.train", "--synthetic", "--data", "synthetic:4", "--steps", "3",
           "--device", "cpu", "--out", str(out)] + TINY_ARGS
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ck = load_checkpoint(out / "last.pth")
    assert ck["step"] == 3 and ck["metadata"]["world_size"] == 2
    # only rank 0 writes: one metrics line for step 1 (log_every 10), one epoch summary; both ranks finish
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1]
    assert proc.stdout.count("[edcf train] epoch 1/1 step 3/3") == 1     # 10 pairs / 2 ranks / batch 1
    assert proc.stdout.count("[edcf train] done: step 3") == 2
    assert all(torch.isfinite(v.float()).all() for v in ck["state_dict"].values())
