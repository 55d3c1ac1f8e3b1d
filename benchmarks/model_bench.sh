#!/usr/bin/env bash
# The bench stages of benchmarks/plans/model_2026-12-06.md. Run from the repository root, in a venv whose cv2 has
# the contrib trackers (docs/bench.md), nothing else running. Stages: select | b1a | b1b | b2.
set -euo pipefail
PLAN=${PLAN:-runs/model_plan}
SEQ=${SEQ:-../shared/data/sequences}
VAL="$SEQ/Bolt $SEQ/dtb70_Animal3 $SEQ/dtb70_Surfing06 $SEQ/uav10_wakeboard10"
case "${1:-}" in
  select)   # the rule: R1's exported best.pth against the current bundled model, validation videos, 3 starts
    python -m edcf_plugin.training.export "$PLAN/r1/best.pth" "$PLAN/r1/model.pth" "issue 19 R1 (plan 2026-12-06)"
    edcf bench $VAL --trackers "EDCF-reference@current=${CURRENT:-edcf_plugin/models/edcf_default.pth},EDCF-reference@r1=$PLAN/r1/model.pth" \
      --runs 3 --init-jitter 1 --startup-runs 0 --threads 2 --pairs EDCF-reference@r1:EDCF-reference@current \
      --out "$PLAN/bench_select" ;;
  b1a)      # issue 19 item 6, speed: the presets whose FPS is a target, with CSRT, 5 starts, nothing else running
    B=edcf_plugin/models/edcf_default.pth
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-realtime,EDCF-fast,CSRT" --weights "$B" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 3 \
      --pairs "EDCF-realtime:CSRT,EDCF-fast:CSRT" --out "$PLAN/bench_b1a" ;;
  b1b)      # issue 19 item 6, accuracy: the reference preset and the semantic branch alone, 5 starts (same starts)
    B=edcf_plugin/models/edcf_default.pth
    edcf bench --root "$SEQ" --split bench --trackers "EDCF-reference,SiamFC@bundled=$B,CSRT" --weights "$B" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 \
      --pairs "EDCF-reference:CSRT,SiamFC@bundled:CSRT" --out "$PLAN/bench_b1b" ;;
  b2)       # the ablation, own weights, and EDCF from scratch at the same budget, 5 starts (--resume: runs 1-2
            # of the first, two-start B2 are reused from $PLAN/bench_b2/jobs where present)
    A=$PLAN/ablation
    edcf bench --root "$SEQ" --split bench --trackers "SiamFC@own=$A/SiamFC/best.pth,EDSiam@own=$A/EDSiam/best.pth,CACFNet@own=$A/CACFNet/best.pth,CACFNet+@own=$A/CACFNet+/best.pth,EDCF-reference@own=$A/EDCF/best.pth,EDCF-reference@scratch=$A/EDCF-scratch/best.pth,CSRT" \
      --runs 5 --init-jitter 1 --threads 2 --startup-runs 0 --resume \
      --pairs "EDCF-reference@own:CACFNet+@own,CACFNet+@own:CACFNet@own,EDCF-reference@own:EDSiam@own,EDSiam@own:SiamFC@own,EDCF-reference@own:EDCF-reference@scratch,EDCF-reference@own:CSRT" \
      --out "$PLAN/bench_b2" ;;
  *) echo "usage: $0 select|b1a|b1b|b2" >&2; exit 2 ;;
esac
