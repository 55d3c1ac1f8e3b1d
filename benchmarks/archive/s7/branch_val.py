"""The per-branch validation (validation.branches) on finished models: does the held-out pair rank the semantic
branches as the bench does? python benchmarks/archive/s7/branch_val.py carry/train3 NAME=WEIGHTS ..."""
import json
import sys

import torch

from edcf_plugin.checkpoint import build_network, load_checkpoint
from edcf_plugin.training.validation import Validator

torch.set_num_threads(2)
root = sys.argv[1]
val = Validator(root, ["dtb70_Surfing06", "uav10_wakeboard10"], "EDCF", 0,
                {"half_precision": True, "single_pass": True}, branches=True)
rows = {}
for spec in sys.argv[2:]:
    name, path = spec.split("=", 1)
    ck = load_checkpoint(path)
    net = build_network(ck)
    m = val.run(net.eval(), torch.device("cpu"))
    rows[name] = {k: round(v, 1) for k, v in m.items() if k.endswith("auc") and k.count("/") <= 2 and "Surf" not in k and "wake" not in k}
    print(name, rows[name], flush=True)
print(json.dumps(rows))
