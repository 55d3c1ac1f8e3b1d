#!/usr/bin/env bash
# Session 8, after the cross-validation chose cf_weight 0.8 (cv_plan.md): the bench split, full sequences, reported
# (never used to choose). Run from the repository root.
set -euo pipefail
ROOT=${ROOT:-../shared/data/sequences}
OUT=benchmarks/archive/s8
# reference preset (fp32): the bundled run-3 model and the untrained network at the new weight
[ -f $OUT/bench_cw0.8.json ] || python -m train.evaluate --root "$ROOT" --split bench --device cpu --threads 2 \
  --model run3=edcf_plugin/models/edcf_default.pth:EDCF --model untrained=runs/untrained_w050.pth:EDCF \
  --set cf_weight=0.8 --out $OUT/bench_cw0.8.json
# the realtime preset's settings at the new weight (accuracy; its speed is edcf bench's)
[ -f $OUT/bench_cw0.8_realtime.json ] || python -m train.evaluate --root "$ROOT" --split bench --device cpu \
  --threads 2 --model run3=edcf_plugin/models/edcf_default.pth:EDCF --set cf_weight=0.8 --set half_precision=true \
  --set cf_half_precision=true --set single_pass=true --set single_pass_cf_scales=crops --set side_crop_interval=3 \
  --set cf_solve_precision=single --out $OUT/bench_cw0.8_realtime.json
