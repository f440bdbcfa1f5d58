#!/usr/bin/env bash
# Two hosts for real: two network namespaces joined by a veth pair
# (10.77.N.1 and 10.77.N.2), one worker in each with the environment a
# Kubeflow PyTorchJob gives its pods (MASTER_ADDR = the master pod's address,
# RANK, WORLD_SIZE, LOCAL_RANK, GROUP_RANK, no GLOO_SOCKET_IFNAME).
#   1. The pair trains to completion across the link; rank 0 writes the model.
#   2. A second run has its link cut mid-training: no silent hang, both
#      workers fail within the collective timeout and rank 0's error names
#      the rank it lost.
# Needs root and iproute2; without them it says so and is skipped (77).
set -euo pipefail
mlforge=$1 data=$2 out=$3
# Optional: more --set flags for every worker, e.g. "--set dist.strategy=ps".
read -r -a extra <<< "${4:-}"
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"

. "$(dirname "$0")/two_hosts.sh"
make_two_hosts h 10.77 "$out"

port=29511
# worker CASE RANK [extra flags]: one pod's process, in its host.
worker() {
  local case=$1 rank=$2
  shift 2
  local ns=$h0
  [ "$rank" = 1 ] && ns=$h1
  ip netns exec "$ns" env MASTER_ADDR="$addr0" MASTER_PORT=$port WORLD_SIZE=2 RANK="$rank" \
    LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 GROUP_RANK="$rank" PET_NNODES=2 OMP_NUM_THREADS=1 \
    "$mlforge" train "$config" --data-dir "$data" --no-progress --threads 1 \
    --tracking-uri "sqlite:///$out/$case.db" --run-dir "$out/$case-run" \
    --set data.limit_test=1000 --set schedule.warmup_steps=10 "${extra[@]}" "$@" \
    > "$out/$case-rank$rank.log" 2>&1
}

echo "== case 1: train across the two hosts"
worker ok 0 --set data.limit_train=2000 --set train.epochs=1 &
p0=$!
worker ok 1 --set data.limit_train=2000 --set train.epochs=1 &
p1=$!
s0=0 s1=0
wait $p0 || s0=$?
wait $p1 || s1=$?
cat "$out/ok-rank0.log" "$out/ok-rank1.log"
[ "$s0" = 0 ] && [ "$s1" = 0 ] || { echo "FAIL: workers exited $s0 and $s1"; exit 1; }
grep -q "rank 1 finished" "$out/ok-rank1.log"
[ -f "$out/ok-run/model/MLmodel" ] || { echo "FAIL: rank 0 wrote no model"; exit 1; }
/usr/bin/python3 -c "
import json
s = json.load(open('$out/ok-run/summary.json'))
# 1000 rows per rank: ceil(1000 / 64) = 16 steps, as on one machine.
assert s['global_step'] == 16, s
assert s['val_accuracy'] > 0.5, s
print('two hosts trained', s['global_step'], 'steps, val_accuracy', s['val_accuracy'])"

echo "== case 2: cut host 1's link mid-run"
port=29512
worker cut 0 --set data.limit_train=60000 --set train.epochs=5 --set dist.timeout_s=10 \
  &
p0=$!
worker cut 1 --set data.limit_train=60000 --set train.epochs=5 --set dist.timeout_s=10 \
  &
p1=$!
# Wait until training is under way (rank 0 logged a step), then cut.
for _ in $(seq 1 600); do
  grep -q " batch " "$out/cut-rank0.log" 2>/dev/null && break
  kill -0 $p0 2>/dev/null || break
  sleep 0.1
done
grep -q " batch " "$out/cut-rank0.log" || { cat "$out"/cut-rank*.log; echo "FAIL: no training step before the cut"; exit 1; }
ip -n "$h1" link set "$dev1" down
cut_at=$(date +%s)
s0=0 s1=0
wait $p0 || s0=$?
wait $p1 || s1=$?
took=$(( $(date +%s) - cut_at ))
cat "$out/cut-rank0.log" "$out/cut-rank1.log"
echo "workers exited $s0 and $s1, ${took}s after the cut"
[ "$s0" != 0 ] && [ "$s1" != 0 ] || { echo "FAIL: a worker did not notice the cut"; exit 1; }
# Bounded by the 10 s collective timeout (plus set-up slack), never a hang.
[ "$took" -lt 120 ] || { echo "FAIL: took ${took}s to notice"; exit 1; }
grep -Eq "rank 0: .*(timed out|failed).*rank 1" "$out/cut-rank0.log" || {
  echo "FAIL: rank 0's error does not name rank 1"; exit 1; }
/usr/bin/python3 -c "
import sqlite3
status = sqlite3.connect('$out/cut.db').execute('select status from runs').fetchall()
assert status == [('FAILED',)], status
print('the tracked run is', status[0][0])"
echo "OK: two-host training and the cut link both behave"
