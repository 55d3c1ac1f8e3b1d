# Session 8: EDCF-fast and EDCF-realtime through the same VOT stack as BENCHMARKS 3 (vot2017-style, one repetition,
# 11 bench sequences) at the new default cf_weight 0.8, in a copy of the session-7 workspace whose EDCF row
# (reference preset) stays the cf_weight 0.5 one.
set -x
source .venv/bin/activate
export EDCF_THREADS=2
rm -rf /tmp/vot/ws_bench8
cp -a /tmp/vot/ws_bench7 /tmp/vot/ws_bench8
rm -rf /tmp/vot/ws_bench8/analysis /tmp/vot/ws_bench8/cache /tmp/vot/ws_bench8/results/EDCF-fast /tmp/vot/ws_bench8/results/EDCF-realtime
/usr/bin/time -f "%e s wall EDCF-fast" vot evaluate --workspace /tmp/vot/ws_bench8 EDCF-fast
/usr/bin/time -f "%e s wall EDCF-realtime" vot evaluate --workspace /tmp/vot/ws_bench8 EDCF-realtime
vot analysis --workspace /tmp/vot/ws_bench8 --name bench8 EDCF-fast EDCF-realtime EDCF
python benchmarks/vot_table.py /tmp/vot/ws_bench8 bench8 EDCF-fast,EDCF-realtime,EDCF
touch runs/vot_s8.done
