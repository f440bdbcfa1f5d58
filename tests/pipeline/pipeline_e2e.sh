#!/usr/bin/env bash
# `mlforge pipeline` end to end with the real binary: validate, run the
# example, rerun from the cache, change one param, a failing step, a SIGKILL
# mid-step that must leave no cache entry, and an `mlforge train` step that
# logs into its pipeline child run (MLFLOW_RUN_ID) before `models register`
# uses that run.
set -euo pipefail
mlforge=$1 data=$2 out=$3
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
export MLFLOW_TRACKING_URI="sqlite:///$out/mlruns.db"
store="$out/mlruns.db"
cd "$repo"
fail() { echo "FAIL: $*"; exit 1; }

# State of each step in a run's pipeline.json: "name=state ..." in order.
states() {
  /usr/bin/python3 -c 'import json,sys; print(" ".join(s["name"]+"="+s["state"] for s in json.load(open(sys.argv[1]))["steps"]))' "$1/pipeline.json"
}

# --- validate ---------------------------------------------------------------
"$mlforge" pipeline validate examples/pipeline/hello.yaml | grep -q "order: write -> count -> greet -> report" \
  || fail "validate of the example"
cat > "$out/cycle.yaml" <<'YAML'
name: bad
steps:
  - name: a
    run: echo {{steps.b.outputs.o}} > {{outputs.o}}
    outputs: {o: {type: file}}
  - name: b
    run: echo {{steps.a.outputs.o}} > {{outputs.o}}
    outputs: {o: {type: file}}
YAML
if "$mlforge" pipeline run "$out/cycle.yaml" > "$out/cycle.log" 2>&1; then fail "a cycle ran"; fi
grep -q "cycle.yaml:3: the steps form a cycle: a -> b -> a" "$out/cycle.log" || { cat "$out/cycle.log"; fail "cycle message"; }
if "$mlforge" pipeline run examples/pipeline/hello.yaml --set repeat=many > "$out/set.log" 2>&1; then
  fail "a bad --set ran"
fi
grep -q "param 'repeat' (examples/pipeline/hello.yaml:6) is int" "$out/set.log" || { cat "$out/set.log"; fail "--set message"; }
[ ! -d "$MLFORGE_HOME/pipelines" ] || fail "a rejected spec created a run"

# --- the example, then again from the cache --------------------------------
"$mlforge" pipeline run examples/pipeline/hello.yaml --run-dir "$out/hello1" > "$out/hello1.log" 2>&1 \
  || { cat "$out/hello1.log"; fail "hello run"; }
[ "$(states "$out/hello1")" = "write=done count=done greet[0]=done greet[1]=done greet[2]=done report=done on_exit=done" ] \
  || fail "first run states: $(states "$out/hello1")"
grep -q "pipeline hello Succeeded" "$out/hello1/steps/on_exit/stdout.log" || fail "on_exit output"
[ "$(cat "$out/hello1/steps/greet/1/outputs/dir/card.txt")" = "hello, grace" ] || fail "greet card"

"$mlforge" pipeline run examples/pipeline/hello.yaml --run-dir "$out/hello2" > "$out/hello2.log" 2>&1 \
  || { cat "$out/hello2.log"; fail "hello rerun"; }
[ "$(states "$out/hello2")" = "write=cached count=cached greet[0]=cached greet[1]=cached greet[2]=cached report=cached on_exit=done" ] \
  || fail "rerun states: $(states "$out/hello2")"
grep -q "1 done, 6 cached, 0 failed" "$out/hello2.log" || { cat "$out/hello2.log"; fail "rerun summary"; }
cmp "$out/hello1/steps/report/outputs/summary" "$out/hello2/steps/report/outputs/summary" || fail "restored output differs"

"$mlforge" pipeline run examples/pipeline/hello.yaml --set repeat=5 --run-dir "$out/hello3" > "$out/hello3.log" 2>&1 \
  || { cat "$out/hello3.log"; fail "hello with repeat=5"; }
[ "$(states "$out/hello3")" = "write=done count=done greet[0]=cached greet[1]=cached greet[2]=cached report=done on_exit=done" ] \
  || fail "changed-param states: $(states "$out/hello3")"
[ "$(wc -l < "$out/hello3/steps/write/outputs/text")" -eq 5 ] || fail "repeat=5 output"

# --- a failing step: non-zero exit, the reason and stderr in the report ------
cat > "$out/fails.yaml" <<'YAML'
name: fails
steps:
  - name: broken
    run: echo "disk on fire" >&2; exit 4
  - name: after
    depends: [broken]
    run: echo never
YAML
if "$mlforge" pipeline run "$out/fails.yaml" > "$out/fails.log" 2>&1; then fail "a failing pipeline exited 0"; fi
grep -q "step broken failed: exit code 4" "$out/fails.log" || { cat "$out/fails.log"; fail "failure reason"; }
grep -q "disk on fire" "$out/fails.log" || fail "stderr tail"
grep -q "not run because of it: after" "$out/fails.log" || fail "dependents named"

# --- SIGKILL of the runner mid-step: nothing half-done in the cache ---------
cat > "$out/slow.yaml" <<YAML
name: slow
params:
  wait: {type: int, default: 30}
steps:
  - name: slow
    run: echo partial > {{outputs.o}}; echo \$\$ > $out/slow.pid; sleep {{params.wait}}; echo done >> {{outputs.o}}
    outputs: {o: {type: file}}
YAML
"$mlforge" pipeline run "$out/slow.yaml" > "$out/slow.log" 2>&1 &
runner=$!
for _ in $(seq 1 200); do [ -s "$out/slow.pid" ] && break; sleep 0.05; done
[ -s "$out/slow.pid" ] || fail "the slow step did not start"
kill -KILL $runner
wait $runner 2>/dev/null || true
kill -KILL "-$(cat "$out/slow.pid")" 2>/dev/null || kill -KILL "$(cat "$out/slow.pid")" 2>/dev/null || true
entries=$(find "$MLFORGE_HOME/cache/pipeline" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' | wc -l)
before=$(find "$MLFORGE_HOME/cache/pipeline" -name manifest.json | wc -l)
"$mlforge" pipeline run "$out/slow.yaml" --set wait=0 --run-dir "$out/slow2" > "$out/slow2.log" 2>&1 \
  || { cat "$out/slow2.log"; fail "slow rerun"; }
[ "$(states "$out/slow2")" = "slow=done" ] || fail "after a kill the step must run again: $(states "$out/slow2")"
after=$(find "$MLFORGE_HOME/cache/pipeline" -name manifest.json | wc -l)
[ $((after - before)) -eq 1 ] || fail "the finished step was not committed ($before -> $after, $entries dirs)"

# --- mlforge steps: train logs into its child run; register uses it ---------
cat > "$out/train.yaml" <<YAML
name: e2e-train
params:
  data: {type: string, default: $data}
steps:
  - name: train
    mlforge: >-
      train examples/mnist/train.yaml --data-dir {{params.data}} --run-dir {{outputs.run}}
      --no-progress --threads 1 --set data.limit_train=600 --set data.limit_test=200
      --set train.epochs=1 --set schedule.warmup_steps=5
    inputs: [examples/mnist/train.yaml]
    outputs:
      run: {type: folder}
  - name: register
    mlforge: models register runs:/{{steps.train.run_id}}/model e2e-pipeline-model
    cache: false
YAML
"$mlforge" pipeline run "$out/train.yaml" --run-dir "$out/train1" > "$out/train1.log" 2>&1 \
  || { cat "$out/train1.log"; cat "$out/train1/steps/train/stderr.log" || true; fail "train pipeline"; }
/usr/bin/python3 - "$store" "$out/train1/pipeline.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
report = json.load(open(sys.argv[2]))
steps = {s["name"]: s for s in report["steps"]}
train = steps["train"]["run_id"]
tags = dict(db.execute("select key, value from tags where run_uuid = ?", (train,)))
assert tags["mlflow.parentRunId"] == report["run_id"], tags
assert tags["mlforge.pipeline.cache"] == "miss", tags
params = dict(db.execute("select key, value from params where run_uuid = ?", (train,)))
assert params.get("optimizer.name") == "sgd", params          # logged by mlforge train itself
status = db.execute("select status from runs where run_uuid = ?", (train,)).fetchone()[0]
assert status == "FINISHED", status
# mlforge train made no run of its own: every run is the pipeline's or a child.
experiment = db.execute("select experiment_id from runs where run_uuid = ?", (train,)).fetchone()[0]
runs = [r for (r,) in db.execute("select run_uuid from runs where experiment_id = ?", (experiment,))]
children = {r for (r,) in db.execute(
    "select run_uuid from tags where key = 'mlflow.parentRunId' and value = ?", (report["run_id"],))}
assert set(runs) == children | {report["run_id"]}, (runs, children)
version = db.execute("select mv.run_id from model_versions mv join registered_models rm "
                     "on rm.model_id = mv.model_id where rm.name = 'e2e-pipeline-model'").fetchone()
assert version is not None and version[0] == train, version
print("train child run", train, "holds the training; version 1 points at it")
PY

# Rerun: train is cached, and its run_id still names the run that trained.
"$mlforge" pipeline run "$out/train.yaml" --run-dir "$out/train2" > "$out/train2.log" 2>&1 \
  || { cat "$out/train2.log"; fail "train pipeline rerun"; }
[ "$(states "$out/train2")" = "train=cached register=done" ] || fail "train rerun: $(states "$out/train2")"
/usr/bin/python3 - "$out/train1/pipeline.json" "$out/train2/pipeline.json" <<'PY'
import json, sys
first = {s["name"]: s for s in json.load(open(sys.argv[1]))["steps"]}
second = {s["name"]: s for s in json.load(open(sys.argv[2]))["steps"]}
assert second["train"]["producer_run_id"] == first["train"]["run_id"], (first, second)
assert first["train"]["run_id"] in second["register"]["command"], second["register"]["command"]
PY
echo "pipeline e2e: ok"
