#!/usr/bin/env bash
# The bench stages of benchmarks/plans/model_2026-12-06.md. Run from the repository root, in a venv whose cv2 has
# the contrib trackers (docs/bench.md), nothing else running. Stages: select | b1a | b1b | b1b-targets |
# targets-prior | ablation-prior | ablation-cf-prior (b1a and b1b report the shipped model; targets-prior and
# ablation-prior the target rows and section 2's semantic-only rows again after the motion prior was centred,
# 2026-12-07; ablation-cf-prior section 2's other rows with it, with the reference and CSRT; OUT_DIR names b1a's
# folder; noamx-gate and noamx-bench the preset for CPUs without AMX, amendment 08:00 UTC 2026-12-07 of
# plans/model_cv_2026-12-06.md, TRACKER names the offered one; the first plan's b2 ablation of recipe I is in git
# history, its output in results/model_2026-12-06/b2/).
set -euo pipefail
PLAN=${PLAN:-runs/model_plan}
SEQ=${SEQ:-../shared/data/sequences}
VAL="$SEQ/Bolt $SEQ/dtb70_Animal3 $SEQ/dtb70_Surfing06 $SEQ/uav10_wakeboard10"
reuse_runs() {  # FROM TO TRACKER...: the trackers' five stored runs (job records and boxes) copied from one bench
               # folder into another, where `edcf bench --resume` reuses them when their job identity (since
               # 2026-12-07 the package's code included) is the same
    local from=$1 to=$2 r t; shift 2
    for r in 1 2 3 4 5; do
        mkdir -p "$to/jobs/run$r" "$to/boxes/run$r"
        for t in "$@"; do
            [ -f "$to/jobs/run$r/$t.json" ] || cp "$from/jobs/run$r/$t.json" "$to/jobs/run$r/"
            [ -d "$to/boxes/run$r/$t" ] || cp -r "$from/boxes/run$r/$t" "$to/boxes/run$r/"
        done
    done
}
case "${1:-}" in
  noamx-gate)  # amendment 08:00 UTC 2026-12-07 of plans/model_cv_2026-12-06.md: the speed gate of the candidates for
               # CPUs without AMX (train split, first 150 frames, 3 starts, CSRT in the same run, nothing else running)
    B=${B:-edcf_plugin/models/edcf_default.pth}
    edcf bench --root "$SEQ" --split train --weights "$B" \
      --trackers "EDCF-realtime,EDCF-fast,CACFNet+-realtime,CACFNet+-balanced,CACFNet+-fast,CSRT" \
      --runs 3 --init-jitter 1 --max-frames 150 --threads 2 --startup-runs 0 --out "$PLAN/noamx_gate" ;;
  noamx-bench)  # the same amendment, reported only: the offered preset (TRACKER) on the bench with realtime and
                # CSRT, 5 starts, nothing else running
    B=${B:-edcf_plugin/models/edcf_default.pth}
    : "${TRACKER:?set TRACKER to the offered tracker, e.g. CACFNet+-fast}"
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-realtime,$TRACKER,CSRT" --weights "$B" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 3 \
      --pairs "$TRACKER:CSRT,EDCF-realtime:CSRT,$TRACKER:EDCF-realtime" --out "$PLAN/noamx_bench" ;;
  select)   # the rule: R1's exported best.pth against the current bundled model, validation videos, 3 starts
    python -m edcf_plugin.training.export "$PLAN/r1/best.pth" "$PLAN/r1/model.pth" "issue 19 R1 (plan 2026-12-06)"
    edcf bench $VAL --trackers "EDCF-reference@current=${CURRENT:-edcf_plugin/models/edcf_default.pth},EDCF-reference@r1=$PLAN/r1/model.pth" \
      --runs 3 --init-jitter 1 --startup-runs 0 --threads 2 --pairs EDCF-reference@r1:EDCF-reference@current \
      --out "$PLAN/bench_select" ;;
  b1a)      # issue 19 item 6, speed: the presets whose FPS is a target, with CSRT, 5 starts, nothing else running
    B=${B:-edcf_plugin/models/edcf_default.pth}
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-realtime,EDCF-fast,CSRT" --weights "$B" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 3 \
      --pairs "EDCF-realtime:CSRT,EDCF-fast:CSRT" --out "$PLAN/${OUT_DIR:-bench_b1a}" ;;
  b1b)      # issue 19 items 5-6, accuracy, one run, 5 starts: the bundled model (reference preset; its semantic
            # branch alone; its CF branch alone = CACFNet+), the variants' own shipped weights, EDCF from scratch at
            # the same recipe and budget (model_cv.sh scratch4), CSRT (amendment 17:59 of plans/model_cv_2026-12-06.md)
    B=${B:-edcf_plugin/models/edcf_default.pth}
    V=${V:-edcf_plugin/models/variants}
    SCRATCH=${SCRATCH:-runs/model_cv/final4/EDCF-scratch/model.pth}
    edcf bench --root "$SEQ" --split bench \
      --trackers "EDCF-reference@bundled=$B,SiamFC@bundled=$B,CACFNet+@bundled=$B,SiamFC@own=$V/siamfc.pth,EDSiam@own=$V/edsiam.pth,CACFNet@own=$V/cacfnet.pth,EDCF-reference@scratch=$SCRATCH,CSRT" \
      --runs "${RUNS:-5}" --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@bundled:CSRT,SiamFC@bundled:CSRT,EDCF-reference@bundled:CACFNet+@bundled,CACFNet+@bundled:CACFNet@own,EDCF-reference@bundled:EDSiam@own,EDSiam@own:SiamFC@own,EDCF-reference@bundled:EDCF-reference@scratch" \
      --out "$PLAN/${OUT_DIR:-bench_b1b}" ;;
  b1b-targets)   # amendment 19:06: the target rows' five starts (b1b's first three reused)
    B=${B:-edcf_plugin/models/edcf_default.pth}
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-reference@bundled=$B,SiamFC@bundled=$B,CSRT" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@bundled:CSRT,SiamFC@bundled:CSRT" --out "$PLAN/bench_b1b" ;;
  targets-prior)   # amendment 02:45 of plans/model_cv_2026-12-06.md: b1b-targets' rows tracked again with the
                   # motion prior centred on zero displacement, into their own folder; CSRT's runs (which no prior
                   # touches) copied from bench_b1b and reused
    B=${B:-edcf_plugin/models/edcf_default.pth}
    D="$PLAN/bench_targets_prior"
    reuse_runs "$PLAN/bench_b1b" "$D" CSRT
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-reference@bundled=$B,SiamFC@bundled=$B,CSRT" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@bundled:CSRT,SiamFC@bundled:CSRT" --out "$D" ;;
  ablation-prior)  # section 2's semantic-only rows again with the centred motion prior (2026-12-07), CSRT's and
                   # the reference's runs copied from bench_targets_prior and reused (the g and f + g rows not re-run)
    B=${B:-edcf_plugin/models/edcf_default.pth}
    V=${V:-edcf_plugin/models/variants}
    D="$PLAN/bench_ablation_prior"
    reuse_runs "$PLAN/bench_targets_prior" "$D" CSRT EDCF-reference@bundled
    edcf bench --root "$SEQ" --split bench \
      --trackers "EDCF-reference@bundled=$B,SiamFC@own=$V/siamfc.pth,EDSiam@own=$V/edsiam.pth,CSRT" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@bundled:EDSiam@own,EDSiam@own:SiamFC@own" \
      --out "$D" ;;
  ablation-cf-prior)  # section 2's rows with the CF branch (g, f + g) tracked again with the centred motion prior
                      # (2026-12-07, session 19), with the reference and CSRT in the same run; chooses nothing
    B=${B:-edcf_plugin/models/edcf_default.pth}
    V=${V:-edcf_plugin/models/variants}
    SCRATCH=${SCRATCH:-runs/model_cv/final4/EDCF-scratch/model.pth}
    edcf bench --root "$SEQ" --split bench \
      --trackers "EDCF-reference@bundled=$B,CACFNet+@bundled=$B,CACFNet@own=$V/cacfnet.pth,EDCF-reference@scratch=$SCRATCH,CSRT" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@bundled:CSRT,EDCF-reference@bundled:CACFNet+@bundled,CACFNet+@bundled:CACFNet@own,EDCF-reference@bundled:EDCF-reference@scratch,CACFNet@own:CSRT" \
      --out "$PLAN/bench_ablation_cf_prior" ;;
  *) echo "usage: $0 noamx-gate|noamx-bench|select|b1a|b1b|b1b-targets|targets-prior|ablation-prior|"\
"ablation-cf-prior" >&2; exit 2 ;;
esac
