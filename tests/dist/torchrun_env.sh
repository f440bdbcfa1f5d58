#!/usr/bin/env bash
# The torchrun / PyTorchJob environment, set by hand for two processes:
# both join one group through MASTER_ADDR:MASTER_PORT, train their shards,
# and only rank 0 writes the model and the tracked run.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
port=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
common=(train "$config" --data-dir "$data" --no-progress --threads 1
        --tracking-uri "sqlite:///$out/mlruns.db" --run-dir "$out/run"
        --set data.limit_train=2000 --set data.limit_test=1000 --set train.epochs=1
        --set schedule.warmup_steps=10)

env MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 GROUP_RANK=0 \
  RANK=1 LOCAL_RANK=1 "$mlforge" train --print-env | tee "$out/env.txt"
grep -qx "launcher: torchrun" "$out/env.txt"
grep -qx "rank: 1" "$out/env.txt"
grep -q "master: 127.0.0.1:$port (from MASTER_ADDR)" "$out/env.txt"

pids=()
for rank in 0 1; do
  env MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 GROUP_RANK=0 \
    RANK=$rank LOCAL_RANK=$rank TORCHELASTIC_RESTART_COUNT=0 OMP_NUM_THREADS=1 \
    "$mlforge" "${common[@]}" > "$out/rank$rank.log" 2>&1 &
  pids+=($!)
done
for rank in 0 1; do
  wait "${pids[$rank]}" || { cat "$out/rank0.log" "$out/rank1.log"; echo "FAIL: rank $rank"; exit 1; }
done
cat "$out/rank0.log" "$out/rank1.log"
grep -q "rank 1 finished" "$out/rank1.log"
grep -q "^run .* finished: val_accuracy" "$out/rank0.log"
[ -f "$out/run/model/MLmodel" ]
# Each rank trained 1000 of the 2000 rows: ceil(1000 / 64) = 16 steps.
/usr/bin/python3 -c "
import json, sys
s = json.load(open('$out/run/summary.json'))
assert s['global_step'] == 16, s
print('torchrun-style group trained', s['global_step'], 'steps, val_accuracy', s['val_accuracy'])"
