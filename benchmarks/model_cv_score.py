"""The CV score of benchmarks/plans/model_cv_2026-12-06.md from the three fold benches of `model_cv.sh select`.

    python benchmarks/model_cv_score.py runs/model_cv

Reads OUT/select_{A,B,C}/results.json, prints each recipe's CV score (the mean over folds of its mean AUC over the
starts), the fold x start paired differences (mean ± SE) and the rule's outcome, and writes OUT/cv_score.json.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

FOLDS = ("A", "B", "C")
TRACKERS = {"I": "EDCF-reference@I", "S": "EDCF-reference@S", "current": "EDCF-reference@current"}


def _paired(a: list[float], b: list[float]) -> dict:
    d = [x - y for x, y in zip(a, b)]
    se = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else float("nan")
    return {"mean": statistics.fmean(d), "se": se, "min": min(d), "max": max(d), "n": len(d)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the folder model_cv.sh wrote (runs/model_cv)")
    ap.add_argument("--with", dest="extra", action="append", default=[],
                    help="another recipe benched beside them (e.g. I2: tracker EDCF-reference@I2)")
    ap.add_argument("--against", default="S", help="the recipe each --with recipe must beat (default S; since "
                                                   "I4 shipped, I4)")
    args = ap.parse_args()
    for key in args.extra:
        TRACKERS[key] = f"EDCF-reference@{key}"
    runs: dict[str, list[float]] = {k: [] for k in TRACKERS}
    per_fold: dict[str, dict] = {}
    for fold in FOLDS:
        res = json.loads((args.out / f"select_{fold}" / "results.json").read_text())
        per_fold[fold] = {"sequences": res["sequences"], "git_revision": res["git_revision"]}
        for key, name in TRACKERS.items():
            auc_runs = res["trackers"][name]["auc_runs"]
            runs[key].extend(auc_runs)
            per_fold[fold][key] = {"auc_runs": auc_runs, "auc_mean": statistics.fmean(auc_runs),
                                   "per_sequence_auc_median": res["trackers"][name]["per_sequence_auc"]}
    score = {k: statistics.fmean(per_fold[f][k]["auc_mean"] for f in FOLDS) for k in TRACKERS}
    paired = {"I-S": _paired(runs["I"], runs["S"]), "I-current": _paired(runs["I"], runs["current"])}
    base = args.against
    for key in args.extra:
        if key != base:
            paired[f"{key}-{base}"] = _paired(runs[key], runs[base])
    report = {"cv_score": score, "per_fold": per_fold, "paired": paired,
              "rule": "I replaces the bundled model iff cv_score[I] > cv_score[S]",
              "adopt_I": score["I"] > score["S"]}
    for key in args.extra:
        if key != base:
            report[f"{key}_beats_{base}"] = score[key] > score[base]
    name = "cv_score.json" if not args.extra else f"cv_score_{'_'.join(args.extra)}.json"
    (args.out / name).write_text(json.dumps(report, indent=1))
    for fold in FOLDS:
        row = ", ".join(f"{k} {per_fold[fold][k]['auc_mean']:.1f}" for k in TRACKERS)
        print(f"fold {fold} ({', '.join(per_fold[fold]['sequences'])}): {row}")
    print("CV score: " + ", ".join(f"{k} {v:.2f}" for k, v in score.items()))
    for name, p in report["paired"].items():
        print(f"paired {name}: {p['mean']:+.2f} ± {p['se']:.2f} (min {p['min']:+.1f}, max {p['max']:+.1f}, n {p['n']})")
    print("first rule (I against S): " + ("I replaces the bundled model" if report["adopt_I"]
                                           else "the bundled model stays"))
    for key in args.extra:
        if key != base:
            print(f"{key} vs {base}: " + ("higher CV score" if report[f"{key}_beats_{base}"] else "not higher"))


if __name__ == "__main__":
    main()
