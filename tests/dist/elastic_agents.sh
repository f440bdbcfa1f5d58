#!/usr/bin/env bash
# Elastic training with `mlforge train CONFIG --nnodes 1:2 --rdzv-endpoint
# 127.0.0.1:PORT`: two agents on loopback standing for two hosts, one worker
# each, sharing a run folder.
#  0. An agent alone under --nnodes 2 gives up after --rdzv-timeout and says
#     how many nodes joined and how many are missing.
#  1. Agent A starts alone (round 0, world size 1). Agent B arrives while A
#     trains; it waits and is admitted at the next round (round 1, world
#     size 2), which resumes the run from the latest checkpoint.
#  2. Once round 1 wrote a checkpoint, B's worker and B are killed with
#     SIGKILL (the host is gone). A stops its worker and meets again alone
#     (round 2, world size 1), re-sharding the epoch from the checkpoint
#     taken under world size 2, and finishes the run.
# The one tracked run records the restarts and the world size per round.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
store="$out/mlruns.db"
run="$out/run"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

fail() { for log in "$out"/*.log; do echo "== $log"; cat "$log"; done; echo "FAIL: $*"; exit 1; }

# 0. Too few nodes.
status=0
"$mlforge" train "$config" --nnodes 2 --rdzv-endpoint "127.0.0.1:$port" --rdzv-id lonely \
  --rdzv-timeout 2 --data-dir "$data" > "$out/lonely.log" 2>&1 || status=$?
[ "$status" != 0 ] || fail "an agent alone under --nnodes 2 succeeded"
grep -q "1 of at least 2 node(s) joined within 2 s" "$out/lonely.log" || fail "no clear error"
grep -q "1 more needed" "$out/lonely.log" || fail "the error does not say what is missing"
echo "alone under --nnodes 2: $(grep -o 'rendezvous round.*needed' "$out/lonely.log")"
rm "$out/lonely.log"

agent() {
  exec "$mlforge" train "$config" --nnodes 1:2 --nproc-per-node 1 --rdzv-endpoint "127.0.0.1:$port" \
    --rdzv-last-call 1 --max-restarts 2 --run-dir "$run" --data-dir "$data" --no-progress \
    --tracking-uri "sqlite:///$store" --experiment elastic-e2e \
    --set data.limit_train=30000 --set data.limit_test=1000 --set train.epochs=2 \
    --set schedule.warmup_steps=10 --set checkpoint.every_steps=20 --set train.log_every_steps=20
}

# 1. A alone, then B joins.
agent > "$out/agent_a.log" 2>&1 &
agent_a=$!
for _ in $(seq 1 900); do
  [ -f "$run/checkpoint.pt" ] && break
  kill -0 "$agent_a" 2>/dev/null || fail "agent A ended early"
  sleep 0.2
done
[ -f "$run/checkpoint.pt" ] || fail "no checkpoint in round 0"
grep -q "round 0: node 0 of 1" "$out/agent_a.log" || fail "round 0 did not run A alone"
agent > "$out/agent_b.log" 2>&1 &
agent_b=$!
for _ in $(seq 1 900); do
  grep -q "round 1: node . of 2" "$out/agent_b.log" && break
  kill -0 "$agent_a" 2>/dev/null || fail "agent A ended before B was admitted"
  sleep 0.2
done
grep -q "round 1: node . of 2" "$out/agent_b.log" || fail "B was not admitted at round 1"
grep -q "waiting to be admitted" "$out/agent_b.log" || fail "B did not wait for the next round"
echo "B admitted at round 1"

# 2. Wait for a checkpoint of round 1, then kill B's host.
before=$(stat -c %y "$run/checkpoint.pt" 2>/dev/null || echo none)
round1_checkpoint=""
for _ in $(seq 1 900); do
  if grep -q "of 2: data-parallel" "$out/agent_a.log" "$out/agent_b.log" \
     && [ "$(stat -c %y "$run/checkpoint.pt")" != "$before" ]; then
    round1_checkpoint=yes
    break
  fi
  kill -0 "$agent_a" 2>/dev/null || fail "agent A ended before a checkpoint of round 1"
  sleep 0.2
done
[ -n "$round1_checkpoint" ] || fail "no checkpoint in round 1"
worker_b=$(pgrep -P "$agent_b" || true)
[ -n "$worker_b" ] || fail "B runs no worker"
kill -KILL $worker_b "$agent_b"
wait "$agent_b" 2>/dev/null || true
echo "killed agent B (pid $agent_b) and its worker (pid $worker_b)"

status=0
wait "$agent_a" || status=$?
[ "$status" = 0 ] || fail "agent A exited $status"
grep -q "round 2: node 0 of 1" "$out/agent_a.log" || fail "A did not continue alone in round 2"
grep -q "agent: 3 round(s), 1 restart(s), last world size 1, exit code 0" "$out/agent_a.log" \
  || fail "A's summary line"
grep -q "resumes after" "$out/agent_a.log" || fail "no mid-epoch resume"
[ -f "$run/model/MLmodel" ] || fail "no model package"
# Each resumed epoch deals out exactly what its checkpoint left of the
# epoch's 30000 samples over the new world size (padded up to a multiple).
grep -ho "resumes after [0-9]* of its 30000 samples: [0-9]* left on each of [0-9]* rank(s)" \
    "$out/agent_a.log" "$out/agent_b.log" | sort -u > "$out/resumes.txt"
[ -s "$out/resumes.txt" ] || fail "no resumed epoch"
while read -r _ _ consumed _ _ _ _ left _ _ _ _ world _; do
  expected=$(( (30000 - consumed + world - 1) / world ))
  [ "$left" = "$expected" ] || fail "resumed after $consumed under $world rank(s): $left left, not $expected"
  echo "resumed after $consumed samples under world size $world: $left per rank"
done < "$out/resumes.txt"
tail -3 "$out/agent_a.log"

/usr/bin/python3 - "$store" "$run/run.json" "$run/summary.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id = json.load(open(sys.argv[2]))["run_id"]
runs = db.execute("select run_uuid, status from runs").fetchall()
assert runs == [(run_id, "FINISHED")], runs  # one tracked run, finished
tags = dict(db.execute("select key, value from tags where run_uuid = ?", (run_id,)))
assert tags.get("mlforge.restarts") == "2", tags  # the group restarted twice (admit, failure)
assert tags.get("mlforge.dist.world_size") == "1", tags  # the last round's
sizes = [v for (v,) in db.execute(
    "select value from metrics where run_uuid = ? and key = 'world_size' order by step, timestamp",
    (run_id,))]
assert sizes == [1, 2, 1], sizes
restarts = [v for (v,) in db.execute(
    "select value from metrics where run_uuid = ? and key = 'restarts' order by timestamp", (run_id,))]
assert restarts[-1] == 2, restarts
summary = json.load(open(sys.argv[3]))
assert summary["val_accuracy"] > 0.85, summary
print("one FINISHED run over world sizes", sizes, "val_accuracy", summary["val_accuracy"],
      "steps", summary["global_step"])
PY
