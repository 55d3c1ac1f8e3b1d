"""Pool the session-8 cross-validation files (cv_<fold>_<setting>.json) into one table and apply the rule of
cv_plan.md: python benchmarks/archive/s8/cv_summary.py [DIR]"""
import json
import sys
from pathlib import Path

d = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/archive/s8")
settings = ["w0.5", "w0.6", "w0.7", "w0.8", "w0.9", "w1.0", "semantic"]
table = {}
for s in settings:
    rows = {}
    for fold in "AB":
        f = d / f"cv_{fold}_{s}.json"
        if not f.exists():
            continue
        model = next(iter(json.loads(f.read_text())["models"].values()))
        rows.update({name: r["auc"] for name, r in model["sequences"].items()})
    if len(rows) == 9:
        table[s] = rows
names = sorted(next(iter(table.values()))) if table else []
print("| sequence | " + " | ".join(table) + " |")
print("|---" * (len(table) + 1) + "|")
for n in names:
    print(f"| {n} | " + " | ".join(f"{table[s][n]:.1f}" for s in table) + " |")
mean = {s: sum(r.values()) / len(r) for s, r in table.items()}
print("| **mean AUC (9)** | " + " | ".join(f"**{mean[s]:.1f}**" for s in table) + " |")
cands = [s for s in ["w0.5", "w0.6", "w0.7", "w0.8", "w0.9"] if s in mean]
if len(cands) == 5:
    top = max(mean[s] for s in cands)
    best = min((s for s in cands if mean[s] >= top - 0.3), key=lambda s: abs(float(s[1:]) - 0.5))
    adopt = mean[best] >= mean["w0.5"] + 1.0
    print(f"\nbest selectable: {best} ({mean[best]:.1f}) vs 0.5 ({mean['w0.5']:.1f}): "
          + (f"adopt cf_weight={best[1:]}" if adopt else "keep cf_weight=0.5 (gain < 1.0)"))
