# Run-3 bench table (BENCHMARKS.md section 2), 2026-11-24 17:24-17:46 UTC, code of commit 948f2b5 plus the
# tracker changes of 7d7a0e8 (opencv-crop boxes identical). model_*_best.pth: the run-3 models exported on the GPU
# machine (benchmarks/archive/training.md, run 3), extracted from its run3.tar.gz under runs/run3_device/ (not in git).
set -x
source .venv/bin/activate
T="--dataset bench --dataset_root ../shared/data/sequences --split bench --results_dir runs/pysot_s4 --threads 2"
edcf-pysot-test --tracker EDCF $T
edcf-pysot-test --tracker EDCF --name EDCF-realtime --config toolkit_configs/pysot/edcf_realtime.yaml $T
edcf-pysot-test --tracker CACFNet+ $T
edcf-pysot-test --tracker CACFNet --name CACFNet-own-weights --snapshot runs/run3_device/runs/run3/model_CACFNet_best.pth $T
edcf-pysot-test --tracker CACFNet+ --name CACFNet+-own-weights --snapshot runs/run3_device/runs/run3/model_CACFNet_plus_best.pth $T
edcf-pysot-test --tracker SiamFC --name SiamFC-own-weights --snapshot runs/run3_device/runs/run3/model_SiamFC_best.pth $T
edcf-pysot-test --tracker EDSiam --name EDSiam-own-weights --snapshot runs/run3_device/runs/run3/model_EDSiam_best.pth $T
edcf-pysot-test --tracker SiamFC --name SiamFC-branch-of-EDCF $T
edcf-pysot-test --tracker EDCF --name EDCF-untrained --snapshot runs/untrained_w050.pth $T
mkdir -p runs/pysot_s4/bench/CSRT && cp runs/bench/csrt_full_s3/boxes/run1/CSRT/*.txt runs/pysot_s4/bench/CSRT/
edcf eval --results runs/pysot_s4/bench --gt-root ../shared/data/sequences --split bench --out runs/pysot_s4_eval
touch runs/pysot_s4.done
# Session 5 (21:17 UTC, commit d72ba81): the realtime row again with the session-5 preset (side crops), BENCHMARKS.md 2
# edcf-pysot-test --tracker EDCF --name EDCF-realtime --config toolkit_configs/pysot/edcf_realtime.yaml --dataset bench --dataset_root ../shared/data/sequences --split bench --results_dir runs/pysot_s5 --threads 2
# edcf eval --results runs/pysot_s5/bench --gt-root ../shared/data/sequences --split bench --out runs/pysot_s5_eval
