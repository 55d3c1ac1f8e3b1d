#!/usr/bin/env bash
# Session 8 cross-validation of cf_weight (plan: cv_plan.md). Run from the repository root after both fold runs:
#   bash benchmarks/archive/s8/cv_eval.sh && python benchmarks/archive/s8/cv_summary.py
set -euo pipefail
ROOT=${ROOT:-../shared/data/sequences}
A=Basketball,dtb70_Animal3,uav10_boat1,uav10_wakeboard10
B=Bolt,dtb70_Surfing06,uav10_group2_2,uav10_truck4_2,uav10_wakeboard3
for F in A B; do
  SEQS=${!F}
  for W in 0.5 0.6 0.7 0.8 0.9 1.0; do
    OUT=benchmarks/archive/s8/cv_${F}_w${W}.json
    [ -f "$OUT" ] && continue            # resumable: finished evaluations are kept
    python -m train.evaluate --root "$ROOT" --split train --sequences "$SEQS" --device cpu --threads 2 \
      --model fold$F=runs/s8_fold_$F/last.pth:EDCF --set cf_weight=$W --out "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
  done
  OUT=benchmarks/archive/s8/cv_${F}_semantic.json
  [ -f "$OUT" ] || { python -m train.evaluate --root "$ROOT" --split train --sequences "$SEQS" --device cpu \
      --threads 2 --model fold$F=runs/s8_fold_$F/last.pth:SiamFC --out "$OUT.tmp" && mv "$OUT.tmp" "$OUT"; }
done
