#!/usr/bin/env bash
# Parameter-server strategy, with the ranks started by hand in torchrun's
# environment (no supervisor to stop the others): rank 1 is killed with
# SIGKILL after the first checkpoint; rank 0, which holds the server, fails
# at once with an error naming rank 1 instead of hanging. The group started
# again as torchrun's restart 1 continues the run from rank 0's checkpoint of
# the server's weights and optimizer, and ends with the weights of a run
# that was never interrupted (sync mode is deterministic).
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
run="$out/run"
common=(train "$config" --data-dir "$data" --no-progress --threads 1
        --tracking-uri "sqlite:///$out/mlruns.db"
        --set data.limit_train=4000 --set data.limit_test=1000 --set train.epochs=2
        --set schedule.warmup_steps=10 --set checkpoint.every_steps=10
        --set dist.strategy=ps --set dist.sync_every=2 --set dist.timeout_s=60)

pids=()
start_group() {  # RESTART-COUNT
  local port
  port=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  pids=()
  for rank in 0 1; do
    env MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 GROUP_RANK=0 \
      RANK=$rank LOCAL_RANK=$rank TORCHELASTIC_RESTART_COUNT=$1 OMP_NUM_THREADS=1 \
      "$mlforge" "${common[@]}" --run-dir "$run" > "$out/attempt$1-rank$rank.log" 2>&1 &
    pids+=($!)
  done
}

# The uninterrupted reference, through mlforge's own launcher.
"$mlforge" "${common[@]}" --run-dir "$out/reference" --nproc 2 > "$out/reference.log" 2>&1 \
  || { cat "$out/reference.log"; echo "FAIL: reference run"; exit 1; }

start_group 0
for _ in $(seq 1 600); do
  [ -f "$run/checkpoint.pt" ] && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$out"/attempt0-*.log; echo "FAIL: rank 1 ended early"; exit 1; }
  sleep 0.1
done
[ -f "$run/checkpoint.pt" ] || { cat "$out"/attempt0-*.log; echo "FAIL: no checkpoint"; exit 1; }
kill -KILL "${pids[1]}"
killed_at=$SECONDS
status=0
wait "${pids[0]}" || status=$?
echo "rank 0 exited $status $((SECONDS - killed_at)) s after rank 1 was killed"
cat "$out/attempt0-rank0.log"
[ "$status" != 0 ] || { echo "FAIL: rank 0 finished although rank 1 died"; exit 1; }
grep -q "rank 1 disconnected at step" "$out/attempt0-rank0.log" \
  || { echo "FAIL: rank 0's error does not name rank 1"; exit 1; }

start_group 1
for rank in 0 1; do
  wait "${pids[$rank]}" || { cat "$out"/attempt1-*.log; echo "FAIL: restarted rank $rank"; exit 1; }
done
cat "$out/attempt1-rank0.log"
grep -q "resuming run" "$out/attempt1-rank0.log"
/usr/bin/python3 - "$run" "$out/reference" <<'PY'
import json, sys, torch
resumed, reference = (json.load(open(f"{folder}/summary.json")) for folder in sys.argv[1:3])
# 2 epochs of ceil(2000 / 64) = 32 steps per rank, whatever the restart.
assert resumed["global_step"] == 64, resumed
assert resumed["val_accuracy"] > 0.8, resumed
one, two = (dict(torch.jit.load(f"{folder}/model/model.pt").named_parameters()) for folder in sys.argv[1:3])
worst = max((one[k] - two[k]).abs().max().item() for k in one)
print(f"resumed ps run: val_accuracy {resumed['val_accuracy']} (uninterrupted "
      f"{reference['val_accuracy']}), largest weight difference {worst:.2e}")
assert worst < 1e-5, worst
PY
