"""The semantic-only motion-prior rule of benchmarks/plans/model_cv_2026-12-06.md (amendments of 02:15 and 02:45
UTC, 2026-12-07, session 18).

    python benchmarks/semantic_window_cv.py runs/model_cv/cfw [--prefix semwin]

Reads DIR/cv_<fold>_<prefix><W>_<model>.json (`python -m train.evaluate` of each fold's model as SiamFC on the
fold's held-out videos, `model_cv.sh semwindow`). Prefix semprior (default): the runs of the 02:45 amendment,
the motion prior centred on zero displacement. Prefix semwin: the void runs of 02:15 (the prior half a cell off
centre; 0.25 read from the runs made before, cv_<fold>_semantic[_<model>].json). Prints one row per (model,
video), each setting's score (the mean AUC over the 27 runs) with its paired difference to 0.25 (mean ± SE over
the 9 models), the rule's outcome, and writes DIR/semantic_window_cv_<prefix>.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from setting_rule import choose

FOLDS = ("A", "B", "C")
MODELS = ("I4", "I4s2", "I4s3")
SETTINGS = ("0.15", "0.25", "0.35", "0.45", "0.55")
INCUMBENT = "0.25"
MARGIN, TIE = 1.0, 0.3


def result_file(folder: Path, fold: str, model: str, setting: str, prefix: str) -> Path:
    if prefix == "semwin" and setting == INCUMBENT:    # 02:15: the runs made before it, at the default
        return folder / (f"cv_{fold}_semantic.json" if model == "I4" else f"cv_{fold}_semantic_{model}.json")
    return folder / f"cv_{fold}_{prefix}{setting}_{model}.json"


def decide(score: dict[str, float]) -> dict:
    """W* = the best setting (within TIE of the top: the one closest to the incumbent); adopted when it beats the
    incumbent by MARGIN points."""
    best, adopt = choose(score, SETTINGS, INCUMBENT, MARGIN, TIE)
    return {"best": best, "adopt": adopt, "semantic_window_influence": float(best if adopt else INCUMBENT)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="the folder model_cv.sh semwindow wrote")
    ap.add_argument("--prefix", default="semprior", choices=("semprior", "semwin"),
                    help="semprior: the centred prior (02:45); semwin: the void 02:15 runs")
    args = ap.parse_args()
    runs: dict[tuple[str, str], dict[str, float]] = {}      # (model_fold, video) -> setting -> AUC
    revisions = set()
    key = "semantic_window_influence" if args.prefix == "semprior" else "window_influence"   # the key each set varied
    for setting in SETTINGS:
        for fold in FOLDS:
            for model in MODELS:
                res = json.loads(result_file(args.dir, fold, model, setting, args.prefix).read_text())
                revisions.add(res["git_revision"])
                (entry,) = res["models"].values()
                if entry["variant"] != "SiamFC":
                    raise SystemExit(f"{fold}/{model}/{setting}: variant {entry['variant']}, expected SiamFC")
                got = entry["tracker_config"][key]
                if abs(float(got) - float(setting)) > 1e-9:
                    raise SystemExit(f"{fold}/{model}/{setting}: ran with {key} {got}")
                for video, r in entry["sequences"].items():
                    runs.setdefault((f"{model}_{fold}", video), {})[setting] = r["auc"]
    score = {s: statistics.fmean(row[s] for row in runs.values()) for s in SETTINGS}
    per_model = {s: {} for s in SETTINGS}
    for (model, _video), row in runs.items():
        for s in SETTINGS:
            per_model[s].setdefault(model, []).append(row[s])
    paired = {}
    for s in SETTINGS:
        d = [statistics.fmean(per_model[s][m]) - statistics.fmean(per_model[INCUMBENT][m]) for m in per_model[s]]
        paired[s] = {"mean": statistics.fmean(d), "se": statistics.stdev(d) / len(d) ** 0.5, "n": len(d)}
    print("| model (fold) | video | " + " | ".join(f"w {s}" for s in SETTINGS) + " |")
    print("|---" * (len(SETTINGS) + 2) + "|")
    for (model, video), row in sorted(runs.items()):
        print(f"| {model} | {video} | " + " | ".join(f"{row[s]:.1f}" for s in SETTINGS) + " |")
    print(f"| **score ({len(runs)} runs)** | | " + " | ".join(f"**{score[s]:.2f}**" for s in SETTINGS) + " |")
    print("| paired − 0.25 (9 models, mean ± SE) | | " + " | ".join(
        f"{paired[s]['mean']:+.2f} ± {paired[s]['se']:.2f}" for s in SETTINGS) + " |")
    out = decide(score)
    verdict = (f"adopt semantic_window_influence {out['best']}" if out["adopt"]
               else f"keep {INCUMBENT} (best {out['best']})")
    print(f"\nrule: {verdict}: {score[out['best']]:.2f} against {score[INCUMBENT]:.2f} for {INCUMBENT}")
    (args.dir / f"semantic_window_cv_{args.prefix}.json").write_text(json.dumps(
        {"runs": {f"{m}/{v}": row for (m, v), row in runs.items()}, "score": score, "paired": paired, **out,
         "git_revisions": sorted(revisions)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
