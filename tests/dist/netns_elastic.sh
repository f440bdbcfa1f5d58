#!/usr/bin/env bash
# Elastic agents on two real hosts: two network namespaces joined by a veth
# pair (10.78.N.1 and .2), one `mlforge train --nnodes 1:2` agent in each,
# the rendezvous endpoint on host 0 (whose agent therefore hosts the store).
# Once both train (world size 2) and a checkpoint exists, host 1's link is
# cut: no connection closes, so host 0's worker would wait in its collective;
# host 0's agent notices host 1's heartbeat stopped, stops its worker and
# finishes the run alone (world size 1). Host 1's agent, cut off from the
# store, fails with an error that says so.
# Needs root and iproute2; without them it says so and is skipped (77).
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"

. "$(dirname "$0")/two_hosts.sh"
make_two_hosts e 10.78 "$out"

fail() { for log in "$out"/*.log; do echo "== $log"; cat "$log"; done; echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/elastic_wait.sh"
run="$out/run"
# agent HOST: one host's agent.
agent() {
  exec ip netns exec "$1" "$mlforge" train "$config" --nnodes 1:2 --rdzv-endpoint "$addr0:29530" \
    --rdzv-last-call 3 --heartbeat-timeout 5 --max-restarts 1 --run-dir "$run" --data-dir "$data" \
    --no-progress --tracking-uri "sqlite:///$out/mlruns.db" --experiment elastic-netns \
    --set data.limit_train=30000 --set data.limit_test=1000 --set train.epochs=2 \
    --set schedule.warmup_steps=10 --set checkpoint.every_steps=20 --set train.log_every_steps=20
}
agent "$h0" > "$out/host0.log" 2>&1 &
agent0=$!
wait_for_line "$out/host0.log" "hosting the rendezvous store at $addr0:29530" "$agent0" \
  "host 0 does not host the store"
agent "$h1" > "$out/host1.log" 2>&1 &
agent1=$!
wait_for_line "$out/host1.log" "round [0-9]*: node . of 2" "$agent0" "host 1 never joined a round"
grep -q "connected to the rendezvous store at $addr0:29530" "$out/host1.log" || fail "host 1 is no client"
before=$(checkpoint_stamp "$run")
wait_for_checkpoint "$run" "$before" "$out/host0.log" "of 2: data-parallel" "$agent0" \
  "no checkpoint under world size 2"
ip -n "$h1" link set "$dev1" down
echo "cut host 1's link"

status0=0 status1=0
wait "$agent0" || status0=$?
wait "$agent1" || status1=$?
[ "$status0" = 0 ] || fail "host 0's agent exited $status0"
[ "$status1" != 0 ] || fail "host 1's agent, cut off, exited 0"
grep -q "sent no heartbeat for 5 s" "$out/host0.log" || fail "host 0 did not name the lost heartbeat"
grep -q "lost the rendezvous store at $addr0:29530" "$out/host1.log" || fail "host 1's error"
grep "sent no heartbeat" "$out/host0.log" | head -1
grep "^error:" "$out/host1.log" | tail -1
/usr/bin/python3 - "$out/mlruns.db" "$run/run.json" "$run/summary.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id = json.load(open(sys.argv[2]))["run_id"]
runs = db.execute("select run_uuid, status from runs").fetchall()
assert runs == [(run_id, "FINISHED")], runs
sizes = [v for (v,) in db.execute(
    "select value from metrics where run_uuid = ? and key = 'world_size' order by step, timestamp",
    (run_id,))]
assert sizes[-2:] == [2, 1], sizes
summary = json.load(open(sys.argv[3]))
assert summary["val_accuracy"] > 0.85, summary
print("two hosts, then one: world sizes", sizes, "val_accuracy", summary["val_accuracy"])
PY
