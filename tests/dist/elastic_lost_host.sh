#!/usr/bin/env bash
# A host that hangs or whose link is cut, not one that closes its sockets:
# two elastic agents on loopback (--nnodes 1:2) train with world size 2;
# then agent B and its worker are frozen with SIGSTOP, so A's worker waits
# in a collective that never completes. A's agent notices that B's heartbeat
# stopped (--heartbeat-timeout 3), stops its worker and continues alone from
# the latest checkpoint (world size 1) to the end of the run.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
store="$out/mlruns.db"
run="$out/run"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
agent_b=""
cleanup() { [ -n "$agent_b" ] && kill -KILL $(pgrep -P "$agent_b" 2>/dev/null) "$agent_b" 2>/dev/null || true; }
trap cleanup EXIT
fail() { for log in "$out"/*.log; do echo "== $log"; cat "$log"; done; echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/elastic_wait.sh"

agent() {
  exec "$mlforge" train "$config" --nnodes 1:2 --rdzv-endpoint "127.0.0.1:$port" --rdzv-last-call 2 \
    --heartbeat-timeout 3 --max-restarts 1 --run-dir "$run" --data-dir "$data" --no-progress \
    --tracking-uri "sqlite:///$store" --experiment elastic-e2e \
    --set data.limit_train=16000 --set data.limit_test=1000 --set train.epochs=1 \
    --set schedule.warmup_steps=10 --set checkpoint.every_steps=20 --set train.log_every_steps=20
}

agent > "$out/agent_a.log" 2>&1 &
agent_a=$!
wait_for_line "$out/agent_a.log" "hosting the rendezvous store" "$agent_a" "A does not host the store"
agent > "$out/agent_b.log" 2>&1 &
agent_b=$!
# B joins round 0 (or, if it comes after the last call, is admitted at
# round 1); wait until both train and the group wrote a checkpoint.
wait_for_line "$out/agent_b.log" "round [0-9]*: node . of 2" "$agent_a" "B never joined a round"
before=$(checkpoint_stamp "$run")
wait_for_checkpoint "$run" "$before" "$out/agent_a.log" "of 2: data-parallel" "$agent_a" \
  "no checkpoint under world size 2"
worker_b=$(pgrep -P "$agent_b" || true)
[ -n "$worker_b" ] || fail "B runs no worker"
kill -STOP "$agent_b" $worker_b
echo "froze agent B (pid $agent_b) and its worker (pid $worker_b)"

status=0
wait "$agent_a" || status=$?
[ "$status" = 0 ] || fail "agent A exited $status"
grep -q "sent no heartbeat for 3 s" "$out/agent_a.log" || fail "the lost heartbeat was not the reason"
grep -q "round [0-9]*: node 0 of 1" "$out/agent_a.log" || fail "A did not continue alone"
grep -q "round(s), 1 restart(s), last world size 1, exit code 0" "$out/agent_a.log" \
  || fail "A's summary line"
grep "sent no heartbeat" "$out/agent_a.log" | head -1

/usr/bin/python3 - "$store" "$run/run.json" "$run/summary.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id = json.load(open(sys.argv[2]))["run_id"]
runs = db.execute("select run_uuid, status from runs").fetchall()
assert runs == [(run_id, "FINISHED")], runs
sizes = [v for (v,) in db.execute(
    "select value from metrics where run_uuid = ? and key = 'world_size' order by step, timestamp",
    (run_id,))]
assert sizes[-2:] == [2, 1], sizes  # [1, 2, 1] when B came after round 0's last call
summary = json.load(open(sys.argv[3]))
assert summary["val_accuracy"] > 0.8, summary
print("one FINISHED run over world sizes", sizes, "val_accuracy", summary["val_accuracy"])
PY
