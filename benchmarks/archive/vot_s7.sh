# Session 7: the new EDCF-fast registry entry through the same VOT stack as sections 3's rows (vot2017-style,
# one repetition, 11 bench sequences), in a copy of the session-5 workspace with its EDCF and EDCF-realtime
# results kept and its trackers.ini regenerated (now with EDCF-fast).
set -x
source .venv/bin/activate
export EDCF_THREADS=2
rm -rf /tmp/vot/ws_bench7
cp -a /tmp/vot/ws_bench5 /tmp/vot/ws_bench7
rm -rf /tmp/vot/ws_bench7/analysis /tmp/vot/ws_bench7/cache
python -c "from edcf_plugin.vot_workspace import trackers_ini; open('/tmp/vot/ws_bench7/trackers.ini', 'w').write(trackers_ini())"
/usr/bin/time -f "%e s wall EDCF-fast" vot evaluate --workspace /tmp/vot/ws_bench7 EDCF-fast
vot analysis --workspace /tmp/vot/ws_bench7 --name bench7 EDCF-fast EDCF-realtime EDCF
python benchmarks/vot_table.py /tmp/vot/ws_bench7 bench7 EDCF-fast,EDCF-realtime,EDCF
touch runs/vot_s7.done
