#!/usr/bin/env bash
# Session 8: the issue-5 bench rows at the new default cf_weight 0.8 through the same pipeline as the run-3 table
# (edcf-pysot-test + edcf eval; benchmarks/archive/pysot/bench_run3/commands.sh measured them at 0.5). Run from the
# repository root at a commit whose TrackerConfig default is 0.8 (c1266dd or later).
set -ex
source .venv/bin/activate
T="--dataset bench --dataset_root ../shared/data/sequences --split bench --results_dir runs/pysot_s8 --threads 2"
edcf-pysot-test --tracker EDCF --name EDCF-cw0.8 $T
edcf-pysot-test --tracker EDCF --name EDCF-untrained-cw0.8 --snapshot runs/untrained_w050.pth $T
edcf eval --results runs/pysot_s8/bench --gt-root ../shared/data/sequences --split bench --out benchmarks/archive/s8/bench_pysot
