#!/usr/bin/env bash
# The stages of benchmarks/plans/model_cv_2026-12-06.md: train | select | final. Run from the repository root with
# ../shared beside it, nothing else heavy running (two torch processes slow each other several times). Every stage
# is resumable: rerunning it skips finished training runs and reuses finished bench runs.
#   train   recipes I (ImageNet) and S (the bundled recipe at I's budget), once per fold without the fold's videos
#   select  the rule's bench: per fold, I, S and the current bundled model on the fold's videos, 3 starts
#   final   recipe I on all train videos: EDCF and the ablation variants' own weights
#   train2 | select2   the trial recipe I2 (amendment 13:42): trained per fold, benched beside I and S (reused)
#   train3 | select3 | final3   the trial recipe I3 (amendment 15:12, real distractors), and its all-videos run
#   trainS2 | selectS2 | finalS2   the trial recipe S2 (amendment 15:50: the bundled recipe plus the corpus)
#   train4 | select4 | final4   the trial recipe I4 (amendment 16:45: I2 with every layer at the full learning
#                      rate), and its all-videos run with the ablation variants (the rule preferred it)
#   scratch4           I4's recipe and budget from a random init, all videos (the bench's ImageNet-vs-scratch row)
#   train5 | select5   the trial recipe I5 (amendment 22:02: I4 with L_recon at 0.1), per fold, benched beside I4;
#                      select5 also tracks each fold's semantic branch alone (reported only)
#   train6 | select6   the trial recipe I6 (amendment 23:38: I4 at twice the budget, 600 steps), per fold,
#                      benched beside I4 (also each fold's semantic branch alone, reported only; not preferred, so
#                      the plan's all-videos stage final6 was never run and is gone)
#   train7 | select7   the trial recipe I7 (amendment 00:14: I4 with only conv1-conv2 from ImageNet; not preferred,
#                      final7 never run and gone)
#   seeds4             I4 again per fold with seeds 2 and 3, benched beside seed 1 (amendment 00:38: the spread
#                      between trainings of one recipe; reported only, chooses nothing)
#   semwindow          the motion prior of the semantic-only trackers (amendments 02:15 and 02:45, 2026-12-07):
#                      the I4 fold models of seeds 1-3 as SiamFC at each setting, then benchmarks/semantic_window_cv.py
#   cfweight-prior     the fused trackers' cf_weight, then window_influence, again on the centred motion prior
#                      (amendment 05:00 UTC 2026-12-07), the same rule and fold models
#   noamx              the candidate presets for CPUs without AMX on the folds (amendment 08:00 UTC 2026-12-07;
#                      with model_bench.sh noamx-gate, scored by benchmarks/noamx_preset_cv.py)
#   cfweight           cf_weight by cross-validation for I4 (amendment 20:55): each fold's I4 model on the fold's
#                      videos at every weight, then benchmarks/cf_weight_cv.py applies the rule
set -euo pipefail
OUT=${OUT:-runs/model_cv}
SEQ=${SEQ:-../shared/data/sequences}
declare -A FOLD=(
  [A]="Basketball,dtb70_Surfing06,uav10_truck4_2"
  [B]="Bolt,dtb70_Animal3,uav10_group2_2"
  [C]="uav10_boat1,uav10_wakeboard10,uav10_wakeboard3"
)
run() {  # name, edcf train args... (resumes from last.pth, skips a finished run, exports last.pth to model.pth)
    local name=$1; shift
    if [ ! -f "$OUT/$name/done" ]; then
        if [ -f "$OUT/$name/last.pth" ]; then
            edcf train --out "$OUT/$name" --resume "$OUT/$name/last.pth" --no-progress
        else
            edcf train "$@" --out "$OUT/$name" --no-progress
        fi
        touch "$OUT/$name/done"
    fi
    [ -f "$OUT/$name/model.pth" ] || python -m edcf_plugin.training.export "$OUT/$name/last.pth" "$OUT/$name/model.pth" \
        "issue 19 CV plan 2026-12-06: $name"
}
fold_benches() {  # "RECIPE ..." "A:B,...": per fold, each recipe's model (current: the bundled one) on the fold's
                  # videos, reference preset, 3 starts; the pairs name recipes
    local f r videos trackers pairs
    for f in A B C; do
        videos=$(echo "${FOLD[$f]}" | tr ',' '\n' | sed "s|^|$SEQ/|" | tr '\n' ' ')
        trackers=""
        for r in $1; do
            if [ "$r" = current ]; then w=edcf_plugin/models/edcf_default.pth; else w="$OUT/${r}_$f/model.pth"; fi
            trackers="$trackers${trackers:+,}EDCF-reference@$r=$w"
        done
        pairs=$(echo "$2" | sed 's/\([A-Za-z0-9]*\):\([A-Za-z0-9]*\)/EDCF-reference@\1:EDCF-reference@\2/g')
        # shellcheck disable=SC2086
        edcf bench $videos --trackers "$trackers" --runs 3 --init-jitter 1 --startup-runs 0 --threads 2 --resume \
            --pairs "$pairs" --out "$OUT/select_$f"
    done
}
per_fold() {  # NAME RECIPE [edcf train args...]: the recipe trained once per fold without the fold's videos
    local name=$1 recipe=$2 f; shift 2
    for f in A B C; do
        run "${name}_$f" --config "$recipe" "$@" --val-root "" --val-sequences "${FOLD[$f]}"
    done
}
all_videos() {  # DIR RECIPE: the recipe on all train videos, EDCF and the ablation variants' own weights
    local dir=$1 recipe=$2 v
    run "$dir/EDCF" --config "$recipe" --val-root "" --val-sequences ""
    for v in SiamFC EDSiam CACFNet; do
        run "$dir/$v" --config "$recipe" --variant "$v" --val-root "" --val-sequences ""
    done
}
fold_evaluate() {  # OUT_JSON FOLD LABEL=WEIGHTS:VARIANT [--preset P] [--set K=V]: one start on the fold's videos
                   # (resumable)
    local o=$1 f=$2; shift 2
    [ -f "$o" ] && return 0
    python -m train.evaluate --root "$SEQ" --split train --sequences "${FOLD[$f]}" --device cpu --threads 2 \
        --model "$@" --out "$o.tmp" && mv "$o.tmp" "$o"
}
trial_select() {  # "NEW ..." PAIRS "WITH ...": the new recipes' fold models beside every stored one (reused: only
                  # the new ones are tracked), each new model's semantic branch alone on its fold's videos (one
                  # start, reported only), and the CV scores against I4. WITH: the recipes after I and S, in the
                  # order they were tried, the new ones included
    local new=$1 pairs=$2 with=$3 f r args=()
    fold_benches "$with I S current" "$pairs"
    for f in A B C; do
        for r in $new; do
            fold_evaluate "$OUT/cfw/cv_${f}_semantic_$r.json" $f "fold$f=$OUT/${r}_$f/model.pth:SiamFC"
        done
    done
    for r in $with; do args+=(--with "$r"); done
    python benchmarks/model_cv_score.py "$OUT" "${args[@]}" --against I4
}
case "${1:-}" in
  train)
    for f in A B C; do
        run "I_$f" --config train/configs/ablation_imagenet.yaml --val-root "" --val-sequences "${FOLD[$f]}"
        run "S_$f" --config train/configs/edcf_gpu.yaml --device cpu --steps 300 --samples-per-epoch 2400 \
            --val-root "" --val-sequences "${FOLD[$f]}"
    done ;;
  select)
    fold_benches "I S current" "I:S,I:current"
    python benchmarks/model_cv_score.py "$OUT" ;;
  train2)
    per_fold I2 benchmarks/plans/recipes/imagenet_synthetic.yaml ;;
  select2)
    fold_benches "I2 I S current" "I2:S,I:S"     # I's, S's and current's runs are reused (--resume)
    python benchmarks/model_cv_score.py "$OUT" --with I2 ;;
  train3)
    per_fold I3 benchmarks/plans/recipes/imagenet_distractors.yaml ;;
  select3)
    fold_benches "I3 I2 I S current" "I3:S,I2:S,I:S"    # only I3 is tracked; the others' runs are reused
    python benchmarks/model_cv_score.py "$OUT" --with I2 --with I3 ;;
  final3)
    all_videos final3 benchmarks/plans/recipes/imagenet_distractors.yaml ;;
  trainS2)
    per_fold S2 benchmarks/plans/recipes/scratch_corpus.yaml --device cpu --steps 300 --samples-per-epoch 2400 ;;
  selectS2)
    fold_benches "S2 I3 I2 I S current" "S2:S,I3:S,I2:S,I:S"    # only S2 is tracked; the others' runs are reused
    python benchmarks/model_cv_score.py "$OUT" --with I2 --with I3 --with S2 ;;
  finalS2)   # the bundled recipe's own budget and validation, plus the corpus
    run finalS2/EDCF --config benchmarks/plans/recipes/scratch_corpus.yaml --device cpu ;;
  train4)
    per_fold I4 train/configs/edcf_bundled.yaml ;;
  select4)
    fold_benches "I4 S2 I3 I2 I S current" "I4:S,S2:S,I3:S,I2:S,I:S"    # only I4 is tracked
    python benchmarks/model_cv_score.py "$OUT" --with I2 --with I3 --with S2 --with I4 ;;
  final4)
    all_videos final4 train/configs/edcf_bundled.yaml ;;
  scratch4)
    run final4/EDCF-scratch --config train/configs/edcf_bundled.yaml --init scratch \
        --val-root "" --val-sequences "" ;;
  train5)
    per_fold I5 benchmarks/plans/recipes/imagenet_recon_light.yaml ;;
  select5)
    trial_select I5 "I5:S,I5:I4,I4:S" "I2 I3 S2 I4 I5" ;;
  train6)
    per_fold I6 benchmarks/plans/recipes/imagenet_long.yaml ;;
  select6)
    trial_select I6 "I6:I4,I6:S,I4:S" "I2 I3 S2 I4 I5 I6" ;;
  train7)
    per_fold I7 benchmarks/plans/recipes/imagenet_low_layers.yaml ;;
  select7)
    trial_select I7 "I7:I4,I7:S,I4:S" "I2 I3 S2 I4 I5 I6 I7" ;;
  seeds4)
    per_fold I4s2 train/configs/edcf_bundled.yaml --seed 2
    per_fold I4s3 train/configs/edcf_bundled.yaml --seed 3
    trial_select "I4s2 I4s3" "I4s2:I4,I4s3:I4,I4s3:I4s2" "I2 I3 S2 I4 I5 I6 I7 I4s2 I4s3" ;;
  semwindow)   # the motion prior of the semantic-only trackers (amendments 02:15 and 02:45, 2026-12-07): each fold's
               # I4 model of seeds 1-3 as SiamFC on the fold's videos at every semantic_window_influence, with the
               # prior centred on zero displacement (the 02:15 runs, cv_*_semwin<W>_*.json, had it half a cell off)
    for f in A B C; do
        for r in I4 I4s2 I4s3; do
            for w in 0.15 0.25 0.35 0.45 0.55; do
                fold_evaluate "$OUT/cfw/cv_${f}_semprior${w}_$r.json" $f "fold$f=$OUT/${r}_$f/model.pth:SiamFC" \
                    --set "semantic_window_influence=$w"
            done
        done
    done
    python benchmarks/semantic_window_cv.py "$OUT/cfw" ;;
  cfweight)    # one start from the ground-truth box, reference preset, 2 threads; resumable (finished files kept)
    mkdir -p "$OUT/cfw"
    for f in A B C; do
        for w in 0.5 0.6 0.7 0.8 0.9 1.0; do
            fold_evaluate "$OUT/cfw/cv_${f}_$w.json" $f "fold$f=$OUT/I4_$f/model.pth:EDCF" --set "cf_weight=$w"
        done
        fold_evaluate "$OUT/cfw/cv_${f}_semantic.json" $f "fold$f=$OUT/I4_$f/model.pth:SiamFC"
    done
    python benchmarks/cf_weight_cv.py "$OUT/cfw" ;;
  cfweight-prior)  # amendment 05:00 UTC 2026-12-07: cf_weight, then the fused window_influence at its choice, on
                   # the centred motion prior; each fold's I4 model of seed 1 (trained again when missing)
    per_fold I4 train/configs/edcf_bundled.yaml
    D="$OUT/cfw_prior"
    mkdir -p "$D"
    for f in A B C; do
        for w in 0.5 0.6 0.7 0.8 0.9 1.0; do
            fold_evaluate "$D/cv_${f}_$w.json" $f "fold$f=$OUT/I4_$f/model.pth:EDCF" --set "cf_weight=$w"
        done
    done
    python benchmarks/cf_weight_cv.py "$D"
    w=$(python -c "import json, sys; print(f\"{json.load(open(sys.argv[1]))['cf_weight']:.1f}\")" "$D/cf_weight_cv.json")
    for f in A B C; do
        for v in 0.15 0.35; do
            fold_evaluate "$D/cv_${f}_${w}_win$v.json" $f "fold$f=$OUT/I4_$f/model.pth:EDCF" --set "cf_weight=$w" \
                --set "window_influence=$v"
        done
    done
    python benchmarks/cf_weight_cv.py "$D" --window ;;
  noamx)  # amendment 08:00 UTC 2026-12-07: the candidate presets for CPUs without AMX on the folds (each fold's I4
          # model of seed 1, one start, full length); benchmarks/noamx_preset_cv.py applies the rule with the gate
    per_fold I4 train/configs/edcf_bundled.yaml
    D="$OUT/noamx"
    mkdir -p "$D"
    for f in A B C; do
        for c in EDCF:realtime EDCF:fast CACFNet+:realtime CACFNet+:balanced CACFNet+:fast; do
            fold_evaluate "$D/cv_${f}_${c%%:*}-${c##*:}.json" $f "fold$f=$OUT/I4_$f/model.pth:${c%%:*}" \
                --preset "${c##*:}"
        done
    done ;;
  final)
    all_videos final train/configs/ablation_imagenet.yaml ;;
  *) echo "usage: $0 train|select|final|train2|select2|train3|select3|final3|trainS2|selectS2|finalS2|train4|select4|final4|scratch4|cfweight|cfweight-prior|noamx|train5|select5|train6|select6|train7|select7|seeds4|semwindow" >&2; exit 2 ;;
esac
