# Session 7 real-image diagnostic (benchmarks/archive/s7/real_images_plan.md): both arms' best.pth on the 11 bench
# sequences, full length, reference preset, 2 threads: the fused EDCF, the semantic branch alone (SiamFC tracking
# on the EDCF weights) and the CF branch alone (CACFNet+); then edcf eval.
set -ex
source .venv/bin/activate
T="--dataset bench --dataset_root ../shared/data/sequences --split bench --results_dir runs/pysot_s7 --threads 2"
for arm in control real; do
  W=runs/s7_$arm/best.pth
  edcf-pysot-test --tracker EDCF --name EDCF-$arm --snapshot $W $T
  edcf-pysot-test --tracker SiamFC --name SiamFC-branch-$arm --snapshot $W $T
  edcf-pysot-test --tracker CACFNet+ --name CACFNet+-branch-$arm --snapshot $W $T
done
edcf eval --results runs/pysot_s7/bench --gt-root ../shared/data/sequences --split bench --out runs/pysot_s7_eval
