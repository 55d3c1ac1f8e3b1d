#!/usr/bin/env bash
# The training runs of benchmarks/plans/model_2026-12-06.md, one after another (each resumable: rerunning this
# script resumes an interrupted run from its last.pth and skips finished ones). Run from the repository root.
set -euo pipefail
OUT=${OUT:-runs/model_plan}
run() {  # name, edcf train args...
    local name=$1; shift
    if [ -f "$OUT/$name/done" ]; then echo "[plan] $name finished before: skipped"; return; fi
    if [ -f "$OUT/$name/last.pth" ]; then
        edcf train --out "$OUT/$name" --resume "$OUT/$name/last.pth" --no-progress
    else
        edcf train "$@" --out "$OUT/$name" --no-progress
    fi
    touch "$OUT/$name/done"
}
run r1 --config benchmarks/archive/recipes/edcf_imagenet.yaml
for v in SiamFC EDSiam CACFNet CACFNet+ EDCF; do
    run "ablation/$v" --config train/configs/ablation_imagenet.yaml --variant "$v"
done
run ablation/EDCF-scratch --config train/configs/ablation_scratch.yaml
