#!/usr/bin/env bash
# The bundled model through the VOT toolkit (vot-toolkit 0.7.4, TraX), with OpenCV's CSRT as a TraX peer in the
# same workspace: vot2017-style stack with one baseline repetition (vot2017_single_run.yaml; EDCF is
# deterministic), the bench split of ../shared/data/sequences, 2 threads per tracker. Run from the repository root
# in a venv with the [vot] extra and cv2 with the contrib trackers (docs/bench.md), nothing else running (the
# real-time experiment and the reply times are speed figures). Resumable: `vot evaluate` skips finished results.
#   WS=runs/vot_model bash benchmarks/vot_model.sh       # then: the table on stdout, WS/analysis/model.json
set -euo pipefail
WS=${WS:-runs/vot_model}
SEQ=${SEQ:-../shared/data/sequences}
TRACKERS=${TRACKERS:-EDCF-realtime EDCF-fast EDCF CSRT}
export EDCF_THREADS=2
if [ ! -f "$WS/config.yaml" ]; then
    edcf vot-workspace "$WS" --sequences "$SEQ" --split bench --stack benchmarks/vot2017_single_run.yaml --link symlink
    cat >> "$WS/trackers.ini" <<INI

; the peer (benchmarks/vot_model.sh): OpenCV's CSRT through the package's TraX loop
[CSRT]
label = CSRT
protocol = traxpython
command = opencv_trax
paths = $(pwd)/benchmarks
env_EDCF_OPENCV_TRACKER = CSRT
INI
fi
for t in $TRACKERS; do
    /usr/bin/time -f "%e s wall $t" vot evaluate --workspace "$WS" "$t"
done
# shellcheck disable=SC2086
vot analysis --workspace "$WS" --name model $TRACKERS
python benchmarks/vot_table.py "$WS" model "$(echo $TRACKERS | tr ' ' ',')"
