"""The rule of the 08:00 UTC amendment (2026-12-07, session 20) of benchmarks/plans/model_cv_2026-12-06.md: the
preset offered where the realtime preset cannot keep CSRT's speed (CPUs without AMX).

    python benchmarks/noamx_preset_cv.py runs/model_ship/noamx_gate/results.json runs/model_cv/noamx \\
        [--reference runs/model_cv/cfw_prior]

GATE: the `edcf bench` results of `model_bench.sh noamx-gate` (train split, 3 starts, CSRT in the same run): a
candidate passes iff the median over starts of its FPS / CSRT's FPS (start by start) is >= 1.00. DIR: the
`model_cv.sh noamx` files cv_<fold>_<variant>-<preset>.json (each fold's I4 model on its 3 held-out videos); a
candidate's score is the mean AUC over the 9 videos. Among the passing candidates the best score; within 0.3 of the
top, the faster. Prints the table, writes DIR/noamx_preset_cv.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

FOLDS = ("A", "B", "C")
CANDIDATES = ("EDCF-realtime", "EDCF-fast", "CACFNet+-realtime", "CACFNet+-balanced", "CACFNet+-fast")
PEER = "CSRT"
GATE, TIE = 1.0, 0.3


def speed_ratios(gate: dict) -> dict[str, float]:
    """Median over starts of FPS(candidate) / FPS(CSRT), start by start."""
    peer = gate["trackers"][PEER]["fps_runs"]
    return {c: statistics.median(a / b for a, b in zip(gate["trackers"][c]["fps_runs"], peer))
            for c in CANDIDATES}


def fold_aucs(folder: Path, name: str) -> dict[str, float]:
    """video -> AUC of one candidate (or the reference file pattern) over the three folds."""
    out = {}
    for f in FOLDS:
        models = json.loads((folder / f"cv_{f}_{name}.json").read_text())["models"]
        (model,) = models.values()
        out.update({video: r["auc"] for video, r in model["sequences"].items()})
    return out


def choose(score: dict[str, float], ratio: dict[str, float]) -> str | None:
    passing = [c for c in CANDIDATES if ratio[c] >= GATE]
    if not passing:
        return None
    top = max(score[c] for c in passing)
    return max((c for c in passing if score[c] >= top - TIE), key=lambda c: ratio[c])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("gate", type=Path, help="results.json of model_bench.sh noamx-gate")
    p.add_argument("folder", type=Path, help="the model_cv.sh noamx files")
    p.add_argument("--reference", type=Path, help="the 05:00 amendment's folder (its cv_<fold>_0.6.json: the "
                                                  "reference preset, reported only)")
    args = p.parse_args(argv)
    gate = json.loads(args.gate.read_text())
    ratio = speed_ratios(gate)
    per_video = {c: fold_aucs(args.folder, c) for c in CANDIDATES}
    if args.reference:
        per_video["EDCF-reference"] = fold_aucs(args.reference, "0.6")
    score = {c: statistics.fmean(v.values()) for c, v in per_video.items()}
    offered = choose(score, ratio)
    videos = sorted(per_video[CANDIDATES[0]])
    names = list(per_video)
    print("| video | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for v in videos:
        print(f"| {v} | " + " | ".join(f"{per_video[c][v]:.1f}" for c in names) + " |")
    print("| **score** | " + " | ".join(f"{score[c]:.2f}" for c in names) + " |")
    print("| speed / CSRT (median of 3 starts) | " + " | ".join(
        f"{ratio[c]:.2f}x" if c in ratio else "" for c in names) + " |")
    print(f"offered: {offered or 'none (no candidate keeps CSRT speed)'}")
    out = {"score": score, "speed_ratio": ratio, "per_video": per_video, "offered": offered,
           "gate": {"file": str(args.gate), "git_revision": gate.get("git_revision"), "machine": gate.get("machine"),
                    "date_utc": gate.get("date_utc"), "fps_runs": {c: gate["trackers"][c]["fps_runs"]
                                                                  for c in (*CANDIDATES, PEER)}}}
    (args.folder / "noamx_preset_cv.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
