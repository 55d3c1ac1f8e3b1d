"""The semantic-only motion-prior rule of benchmarks/plans/model_cv_2026-12-06.md (amendment of 02:15 UTC,
2026-12-07, session 18).

    python benchmarks/semantic_window_cv.py runs/model_cv/cfw

Reads DIR/cv_<fold>_semwin<W>_<model>.json for the new settings and, for the incumbent 0.25, the stored
DIR/cv_<fold>_semantic.json (I4) and DIR/cv_<fold>_semantic_<model>.json (I4s2, I4s3): `python -m train.evaluate`
of each fold's model as SiamFC on the fold's held-out videos. Prints one row per (model, video), each setting's
score (the mean AUC over the 27 runs) with its paired difference to 0.25 (mean ± SE over the 9 models), the rule's
outcome, and writes DIR/semantic_window_cv.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

FOLDS = ("A", "B", "C")
MODELS = ("I4", "I4s2", "I4s3")
SETTINGS = ("0.15", "0.25", "0.35", "0.45", "0.55")
INCUMBENT = "0.25"
MARGIN, TIE = 1.0, 0.3


def result_file(folder: Path, fold: str, model: str, setting: str) -> Path:
    if setting == INCUMBENT:        # the runs made before the amendment, at the default window_influence
        return folder / (f"cv_{fold}_semantic.json" if model == "I4" else f"cv_{fold}_semantic_{model}.json")
    return folder / f"cv_{fold}_semwin{setting}_{model}.json"


def decide(score: dict[str, float]) -> dict:
    """W* = the best setting (within TIE of the top: the one closest to the incumbent); adopted when it beats the
    incumbent by MARGIN points."""
    top = max(score.values())
    best = min((s for s in SETTINGS if score[s] >= top - TIE), key=lambda s: abs(float(s) - float(INCUMBENT)))
    adopt = best != INCUMBENT and score[best] >= score[INCUMBENT] + MARGIN
    return {"best": best, "adopt": adopt, "semantic_window_influence": float(best if adopt else INCUMBENT)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="the folder model_cv.sh semwindow wrote")
    args = ap.parse_args()
    runs: dict[tuple[str, str], dict[str, float]] = {}      # (model_fold, video) -> setting -> AUC
    revisions = set()
    for setting in SETTINGS:
        for fold in FOLDS:
            for model in MODELS:
                res = json.loads(result_file(args.dir, fold, model, setting).read_text())
                revisions.add(res["git_revision"])
                (entry,) = res["models"].values()
                if entry["variant"] != "SiamFC":
                    raise SystemExit(f"{fold}/{model}/{setting}: variant {entry['variant']}, expected SiamFC")
                wanted = float(setting)
                got = res["overrides"].get("window_influence", entry["tracker_config"]["window_influence"])
                if abs(float(got) - wanted) > 1e-9:
                    raise SystemExit(f"{fold}/{model}/{setting}: ran with window_influence {got}")
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
    (args.dir / "semantic_window_cv.json").write_text(json.dumps(
        {"runs": {f"{m}/{v}": row for (m, v), row in runs.items()}, "score": score, "paired": paired, **out,
         "git_revisions": sorted(revisions)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
