"""The cf_weight rule of benchmarks/plans/model_cv_2026-12-06.md (amendment of 20:55 UTC, session 16).

    python benchmarks/cf_weight_cv.py runs/model_cv/cfw

Reads DIR/cv_<fold>_<setting>.json (written by `model_cv.sh cfweight`: `python -m train.evaluate` of each fold's
I4 model on the fold's held-out videos), prints one table (video x setting), each setting's score (the mean AUC
over the 9 videos) and the rule's outcome, and writes DIR/cf_weight_cv.json.
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
MARGIN, TIE = 1.0, 0.3


def decide(score: dict[str, float]) -> dict:
    """W* = the best selectable weight (within TIE of the top: the one closest to the incumbent); adopted when it
    beats the incumbent by MARGIN points."""
    best, adopt = choose(score, SELECTABLE, INCUMBENT, MARGIN, TIE)
    return {"best": best, "adopt": adopt, "cf_weight": float(best if adopt else INCUMBENT)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="the folder model_cv.sh cfweight wrote")
    args = ap.parse_args()
    table: dict[str, dict[str, float]] = {}
    revisions = set()
    for setting in SELECTABLE + INFO_ONLY:
        for fold in FOLDS:
            res = json.loads((args.dir / f"cv_{fold}_{setting}.json").read_text())
            revisions.add(res["git_revision"])
            (model,) = res["models"].values()
            for video, r in model["sequences"].items():
                table.setdefault(video, {})[setting] = r["auc"]
    settings = SELECTABLE + INFO_ONLY
    score = {s: sum(row[s] for row in table.values()) / len(table) for s in settings}
    print("| video | " + " | ".join(f"w {s}" if s[0].isdigit() else s for s in settings) + " |")
    print("|---" * (len(settings) + 1) + "|")
    for video in sorted(table):
        print(f"| {video} | " + " | ".join(f"{table[video][s]:.1f}" for s in settings) + " |")
    print(f"| **score ({len(table)} videos)** | " + " | ".join(f"**{score[s]:.2f}**" for s in settings) + " |")
    out = decide(score)
    verdict = (f"adopt cf_weight {out['best']}" if out["adopt"]
               else f"keep cf_weight {INCUMBENT} (best selectable {out['best']})")
    print(f"\nrule: {verdict}: {score[out['best']]:.2f} against {score[INCUMBENT]:.2f} for {INCUMBENT}")
    (args.dir / "cf_weight_cv.json").write_text(json.dumps(
        {"table": table, "score": score, **out, "git_revisions": sorted(revisions)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
