#!/usr/bin/env bash
# Parameter-server strategy against ddp on the real MNIST data: the MLP of
# bench/ddp, 2 workers, one epoch over every training row, scored on the
# whole test set. ps sync with sync_every 1 ends with ddp's weights; ps
# sync with sync_every 2 and ps async (sync_every 2, max_staleness 1), which
# compute on stale weights, end within 0.5 percentage points of ddp's test
# accuracy. Bad dist.* keys are rejected
# before any worker starts, naming the key.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
common=(--nproc 2 --data-dir "$data" --no-progress --threads 1
        --tracking-uri "sqlite:///$out/mlruns.db" --experiment ps-e2e
        --set "model={kind: mlp, layers: [256, 128], dropout: 0.0}" --set train.epochs=1
        --set schedule.warmup_steps=20 --set checkpoint.every_steps=0)

run() {  # NAME EXTRA-ARGS...
  local name=$1; shift
  local start=$SECONDS
  "$mlforge" train "$config" "${common[@]}" --run-dir "$out/$name" "$@" > "$out/$name.log" 2>&1 \
    || { cat "$out/$name.log"; echo "FAIL: $name run"; exit 1; }
  echo "$name: $((SECONDS - start)) s"
}
run ddp
run ps-sync --set dist.strategy=ps --set dist.ps_mode=sync --set dist.sync_every=1
run ps-sync2 --set dist.strategy=ps --set dist.sync_every=2
run ps-async --set dist.strategy=ps --set dist.ps_mode=async --set dist.sync_every=2 \
  --set dist.max_staleness=1
grep -q "ps async, sync_every 2, max_staleness 1 (server on rank 0)" "$out/ps-async.log"
grep -q "parameter server: .* update(s)" "$out/ps-async.log"

/usr/bin/python3 - "$out" <<'PY'
import json, sqlite3, sys, torch
out = sys.argv[1]
summary = {name: json.load(open(f"{out}/{name}/summary.json")) for name in ("ddp", "ps-sync", "ps-sync2", "ps-async")}
for name, record in summary.items():
    print(f"{name:9s} val_accuracy {record['val_accuracy']:.4f}  steps {record['global_step']}  "
          f"{record['samples_per_second']:.0f} samples/s")
# 60,000 rows / 2 ranks / batch 64, whatever the strategy.
assert {record["global_step"] for record in summary.values()} == {469}, summary
weights = {name: dict(torch.jit.load(f"{out}/{name}/model/model.pt").named_parameters())
           for name in ("ddp", "ps-sync")}
worst = max((weights["ddp"][k] - weights["ps-sync"][k]).abs().max().item() for k in weights["ddp"])
print(f"ps sync (sync_every 1) vs ddp: largest weight difference {worst:.2e}")
assert worst < 1e-4, worst
ddp = summary["ddp"]["val_accuracy"]
assert ddp > 0.9, ddp
for name in ("ps-sync", "ps-sync2", "ps-async"):
    gap = abs(summary[name]["val_accuracy"] - ddp)
    assert gap <= 0.005, (name, summary[name]["val_accuracy"], ddp)
db = sqlite3.connect(f"{out}/mlruns.db")
run_id = json.load(open(f"{out}/ps-async/run.json"))["run_id"]
tags = dict(db.execute("select key, value from tags where run_uuid = ?", (run_id,)))
assert tags.get("mlforge.dist.strategy") == "ps async, sync_every 2, max_staleness 1", tags
metrics = dict(db.execute("select key, value from latest_metrics where run_uuid = ?", (run_id,)))
assert metrics.get("ps_updates") == 2 * 469, metrics
print("ps async: staleness at most", metrics["ps_max_staleness"], "update(s)")
PY

# Bad keys fail at once with an InvalidArgument message that names them.
for bad in "dist.strategy=gossip:dist.strategy" "dist.sync_every=0:dist.sync_every" \
           "dist.max_staleness=-1:dist.max_staleness" "dist.ps_mode=eventually:dist.ps_mode"; do
  setting=${bad%%:*} key=${bad##*:}
  if "$mlforge" train "$config" "${common[@]}" --run-dir "$out/bad" --set dist.strategy=ps \
       --set "$setting" > "$out/bad.log" 2>&1; then
    cat "$out/bad.log"; echo "FAIL: $setting was accepted"; exit 1
  fi
  grep -q "$key is" "$out/bad.log" || { cat "$out/bad.log"; echo "FAIL: $setting: no message naming $key"; exit 1; }
done
echo "bad dist.* keys rejected"
