set -x
source .venv/bin/activate
export EDCF_THREADS=2
rm -rf /tmp/vot/ws_bench5
cp -a /tmp/vot/ws_bench4 /tmp/vot/ws_bench5
rm -rf /tmp/vot/ws_bench5/results/EDCF-realtime /tmp/vot/ws_bench5/analysis /tmp/vot/ws_bench5/cache
/usr/bin/time -f "%e s wall EDCF-realtime" vot evaluate --workspace /tmp/vot/ws_bench5 EDCF-realtime
vot analysis --workspace /tmp/vot/ws_bench5 --name bench5 EDCF-realtime EDCF
python benchmarks/vot_table.py /tmp/vot/ws_bench5 bench5 EDCF-realtime,EDCF
touch runs/vot_s5.done
