"""The fused trackers' settings rule of benchmarks/plans/model_cv_2026-12-06.md (amendments of 20:55 UTC, session
16, and 05:00 UTC 2026-12-07, session 19).

    python benchmarks/cf_weight_cv.py runs/model_cv/cfw_prior            # step 1: cf_weight
    python benchmarks/cf_weight_cv.py runs/model_cv/cfw_prior --window   # step 2: window_influence at step 1's

Reads DIR/cv_<fold>_<setting>.json (written by `model_cv.sh cfweight` or `cfweight-prior`: `python -m
train.evaluate` of each fold's I4 model on the fold's held-out videos; step 2 reads cv_<fold>_<W>_win<V>.json for
the cf_weight W of DIR/cf_weight_cv.json, and cv_<fold>_<W>.json for the incumbent 0.25), prints one table (video x
setting), each setting's score (the mean AUC over the 9 videos) and the rule's outcome, and writes
DIR/cf_weight_cv.json (step 2: DIR/window_influence_cv.json). Reported-only columns are shown where their files
exist.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from setting_rule import choose

FOLDS = ("A", "B", "C")
SELECTABLE = ("0.5", "0.6", "0.7", "0.8", "0.9")     # fused EDCF weights the rule may choose
INCUMBENT = "0.8"
INFO_ONLY = ("1.0", "semantic")                      # single-branch trackers: reported, never chosen
WINDOWS = ("0.15", "0.25", "0.35")                   # step 2: the fused trackers' window_influence
WINDOW_INCUMBENT = "0.25"
MARGIN, TIE = 1.0, 0.3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="the folder model_cv.sh cfweight (or cfweight-prior) wrote")
    ap.add_argument("--window", action="store_true",
                    help="step 2: window_influence at the cf_weight of DIR/cf_weight_cv.json")
    args = ap.parse_args()
    if args.window:
        w = f"{json.loads((args.dir / 'cf_weight_cv.json').read_text())['cf_weight']:.1f}"
        files = {v: (w if v == WINDOW_INCUMBENT else f"{w}_win{v}") for v in WINDOWS}
        selectable, incumbent, key, out_name = WINDOWS, WINDOW_INCUMBENT, "window_influence", "window_influence_cv"
    else:
        info = [s for s in INFO_ONLY if all((args.dir / f"cv_{f}_{s}.json").is_file() for f in FOLDS)]
        files = {s: s for s in SELECTABLE + tuple(info)}
        selectable, incumbent, key, out_name = SELECTABLE, INCUMBENT, "cf_weight", "cf_weight_cv"
    table: dict[str, dict[str, float]] = {}
    revisions = set()
    for setting, stem in files.items():
        for fold in FOLDS:
            res = json.loads((args.dir / f"cv_{fold}_{stem}.json").read_text())
            revisions.add(res["git_revision"])
            (model,) = res["models"].values()
            for video, r in model["sequences"].items():
                table.setdefault(video, {})[setting] = r["auc"]
    settings = tuple(files)
    score = {s: sum(row[s] for row in table.values()) / len(table) for s in settings}
    print("| video | " + " | ".join(f"{key} {s}" if s[0].isdigit() else s for s in settings) + " |")
    print("|---" * (len(settings) + 1) + "|")
    for video in sorted(table):
        print(f"| {video} | " + " | ".join(f"{table[video][s]:.1f}" for s in settings) + " |")
    print(f"| **score ({len(table)} videos)** | " + " | ".join(f"**{score[s]:.2f}**" for s in settings) + " |")
    best, adopt = choose(score, selectable, incumbent, MARGIN, TIE)
    out = {"best": best, "adopt": adopt, key: float(best if adopt else incumbent)}
    verdict = f"adopt {key} {best}" if adopt else f"keep {key} {incumbent} (best selectable {best})"
    print(f"\nrule: {verdict}: {score[best]:.2f} against {score[incumbent]:.2f} for {incumbent}")
    (args.dir / f"{out_name}.json").write_text(json.dumps(
        {"table": table, "score": score, **out, "git_revisions": sorted(revisions)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
