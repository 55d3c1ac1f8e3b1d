#!/usr/bin/env bash
# Run 3 (issue 5): EDCF and its four ablation variants trained with the same recipe and budget
# (train/configs/edcf_gpu.yaml), five processes side by side on one GPU; then the compact models and histories
# are packed into $OUT/run3.tar.gz. Run from the repository root with carry/train3 present.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
OUT=${OUT:-runs/run3_out}; mkdir -p "$OUT" runs/run3
LIMIT=${LIMIT:-470}
for v in EDCF SiamFC EDSiam CACFNet CACFNet+; do
  d=runs/run3/${v/+/_plus}
  timeout "$LIMIT" python3 -m train --config train/configs/edcf_gpu.yaml --variant "$v" --device cuda \
      --out "$d" --no-progress > "$d.log" 2>&1 &
done
# the bundled model through the same validator, for the selection rule (benchmarks/archive/training.md, run 3)
python3 - <<'PY' > runs/run3/bundled_val.json &
import json, torch
from edcf_plugin.checkpoint import build_network, load_checkpoint
from edcf_plugin.training.validation import Validator
net = build_network(load_checkpoint(None), "cuda")
v = Validator("carry/train3", ["dtb70_Surfing06", "uav10_wakeboard10"], "EDCF", 0,
              {"half_precision": True, "single_pass": True})
print(json.dumps(v.run(net, torch.device("cuda"))))
PY
wait
cat runs/run3/bundled_val.json
for v in EDCF SiamFC EDSiam CACFNet CACFNet_plus; do
  d=runs/run3/$v; tail -n 3 "$d.log"
  for c in best last; do
    [ -f "$d/$c.pth" ] && python3 -m edcf_plugin.training.export "$d/$c.pth" "runs/run3/model_${v}_$c.pth" >/dev/null
  done
  cp "$d/history.json" "runs/run3/history_$v.json" 2>/dev/null
  cp "$d/metrics.jsonl" "runs/run3/metrics_$v.jsonl" 2>/dev/null
done
python3 - <<'PY'
import json, glob
for f in sorted(glob.glob("runs/run3/history_*.json")):
    h = json.load(open(f))
    print(f, "best", round(h["best_val_auc"], 1), [(e["step"], round(e["val/auc"], 1), round(e["elapsed_s"]))
                                               for e in h["history"]])
PY
tar czf "$OUT/run3.tar.gz" runs/run3/model_* runs/run3/history_* runs/run3/metrics_* runs/run3/*.log runs/run3/bundled_val.json
