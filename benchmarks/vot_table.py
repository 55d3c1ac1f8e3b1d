import json, statistics, sys
from pathlib import Path
ws = Path(sys.argv[1]); name = sys.argv[2]; trackers = sys.argv[3].split(',')
data = json.loads((ws / "analysis" / f"{name}.json").read_text())
res = data["results"]
def numbers(exp, kind):
    entry = res[exp]
    kinds = [a["type"].rsplit(".", 1)[1] for a in entry["parameters"]["analyses"]]
    return entry["results"][kinds.index(kind)]
print("| tracker | baseline EAO | baseline A | baseline R | baseline failures | realtime EAO | realtime A | realtime R | realtime failures | unsupervised AO | unsupervised median ms | p90 ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for i, t in enumerate(trackers):
    row = [t]
    for exp in ("baseline", "realtime"):
        eao = numbers(exp, "EAOScore")[i][0]
        a, r = numbers(exp, "AverageAccuracyRobustness")[i][:2]
        f = numbers(exp, "CumulativeFailureCount")[i][0]
        row += [f"{eao:.3f}", f"{a:.3f}", f"{r:.3f}", f"{f:.0f}"]
    ao = numbers("unsupervised", "AverageAccuracy")[i][0]
    times = []
    for fpath in sorted((ws / "results" / t / "unsupervised").glob("*/*_time.value")):
        vals = [float(v) for v in fpath.read_text().splitlines() if v.strip()]
        times += vals[1:]
    times.sort()
    row += [f"{ao:.3f}", f"{1000*statistics.median(times):.0f}", f"{1000*times[int(0.9*(len(times)-1))]:.0f}"]
    print("| " + " | ".join(row) + " |")
