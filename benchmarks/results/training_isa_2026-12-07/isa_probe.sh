#!/usr/bin/env bash
# 10 steps of the bundled recipe, the same seed, with oneDNN's bf16 kernels on AVX-512 BF16 (default here) and
# restricted to AVX-512 without BF16 (ONEDNN_MAX_CPU_ISA=AVX512_CORE): do the losses differ? Run on 2026-12-07 on
# the AMD EPYC VM (session 20): metrics_*.jsonl here; max |weight difference| after 10 steps: 0.0628
set -e
cd "$(git rev-parse --show-toplevel)"  # anywhere in the checkout, in a venv with the [train] extra
mkdir -p runs/isa_probe
for isa in DEFAULT AVX512_CORE; do
  rm -rf runs/isa_probe/isa_$isa
  if [ $isa = DEFAULT ]; then unset ONEDNN_MAX_CPU_ISA; else export ONEDNN_MAX_CPU_ISA=$isa; fi
  edcf train --config train/configs/edcf_bundled.yaml --steps 10 --samples-per-epoch 80 --out runs/isa_probe/isa_$isa --no-progress > runs/isa_probe/isa_$isa.log 2>&1
  python -c "import json,sys;[print(sys.argv[1], l.strip()[:160]) for l in open('runs/isa_probe/isa_'+sys.argv[1]+'/metrics.jsonl')]" $isa | tail -3
done
python - <<'PY'
import torch
a = torch.load("runs/isa_probe/isa_DEFAULT/last.pth", map_location="cpu", weights_only=True)["state_dict"]
b = torch.load("runs/isa_probe/isa_AVX512_CORE/last.pth", map_location="cpu", weights_only=True)["state_dict"]
d = max((a[k].float() - b[k].float()).abs().max().item() for k in a if a[k].is_floating_point())
print("max |weight difference| after 10 steps:", d)
PY
