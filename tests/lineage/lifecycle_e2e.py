"""Issue 6's user-facing steps end to end with the real binary: train a tiny
MLP (as a child of a "pipeline" run), `mlforge evaluate` it inside the run,
register it, print `mlforge lineage`, `mlforge runs reproduce` it, and run
the example MLflow Project. First against a real `mlforge server` on
127.0.0.1 (everything over MLflow's REST API and artifact proxy), then the
lineage and project steps against a local SQLite store. Standard library only.

Usage: lifecycle_e2e.py MLFORGE_BINARY SOURCE_DIR TEST_DATA WORK_DIR
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

mlforge, source, test_data, work = sys.argv[1:5]
work = os.path.abspath(work)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
env = dict(os.environ, MLFORGE_HOME=os.path.join(work, "home"))
for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID",
             "MLFLOW_EXPERIMENT_NAME"):
    env.pop(name, None)
config = os.path.join(source, "examples", "mnist", "train.yaml")
project = os.path.join(source, "examples", "mlproject")
TINY = ["--set", "model={kind: mlp, layers: [32]}", "--set", "data.limit_train=1500",
        "--set", "train.epochs=1", "--set", "schedule.warmup_steps=5",
        "--set", "checkpoint.every_steps=0", "--data-dir", test_data, "--no-progress",
        "--threads", "1"]


def run(args, expect=0, extra_env=None):
    result = subprocess.run([mlforge] + args, capture_output=True, text=True,
                            env=dict(env, **(extra_env or {})), timeout=600)
    if expect is not None and result.returncode != expect:
        raise AssertionError(f"mlforge {' '.join(args)} exited {result.returncode}, "
                             f"wanted {expect}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def train(uri, extra=()):
    result = run(["train", config, "--tracking-uri", uri, "--experiment", "lineage-e2e"]
                 + TINY + list(extra))
    match = re.search(r"run ([0-9a-f]{32}) finished", result.stdout)
    assert match, result.stdout
    return match.group(1)


server = subprocess.Popen(
    [mlforge, "server", "--port", "0", "--backend-store-uri",
     f"sqlite:///{os.path.join(work, 'server.db')}",
     "--artifacts-destination", os.path.join(work, "server-artifacts")],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
line = server.stdout.readline()
address = re.search(r"http://([\d.]+:\d+)", line)
assert address, f"no address in {line!r}"
base = f"http://{address.group(1)}"


def api(method, endpoint, body=None, query=None):
    url = base + "/api/2.0/mlflow/" + endpoint
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def get_run(run_id):
    return api("GET", "runs/get", query={"run_id": run_id})["run"]


def tags_of(run):
    return {tag["key"]: tag["value"] for tag in run["data"].get("tags", [])}


def metrics_of(run):
    return {metric["key"]: metric["value"] for metric in run["data"].get("metrics", [])}


try:
    # A "pipeline" run that the training run names as its parent, as the
    # pipeline runner nests its steps.
    experiment = api("POST", "experiments/create", {"name": "pipelines"})["experiment_id"]
    parent = api("POST", "runs/create", {"experiment_id": experiment, "run_name": "pipeline",
                                         "start_time": int(time.time() * 1000)})["run"]
    parent_id = parent["info"]["run_id"]
    run_id = train(base, ["--tag", f"mlflow.parentRunId={parent_id}"])

    # ---- evaluate inside the run --------------------------------------------
    metrics_file = os.path.join(work, "eval", "metrics.json")
    os.makedirs(os.path.dirname(metrics_file))
    result = run(["evaluate", f"runs:/{run_id}/model", "--data", "mnist", "--data-dir", test_data,
                  "--output", metrics_file, "--tracking-uri", base],
                 extra_env={"MLFLOW_RUN_ID": run_id})
    assert "accuracy" in result.stdout and "CLASS" in result.stdout, result.stdout
    report = json.load(open(metrics_file))
    assert report["samples"] == 10000, report
    assert 0.5 < report["accuracy"] <= 1.0, report
    assert report["loss"] > 0, report
    assert len(report["per_class"]) == 10
    assert sum(entry["samples"] for entry in report["per_class"]) == 10000
    manifest = json.load(open(os.path.join(test_data, "mnist", "manifest.json")))
    assert report["dataset_digest"] == manifest["digest"], report
    # The same accuracy as `mlforge predict` computes over the same package.
    run(["predict", report["model_folder"], "--input",
         os.path.join(test_data, "mnist", "t10k-images-idx3-ubyte"), "--labels",
         os.path.join(test_data, "mnist", "t10k-labels-idx1-ubyte"),
         "--output", os.path.join(work, "predictions.json")])
    predict_accuracy = json.load(open(os.path.join(work, "predictions.json")))["accuracy"]
    assert abs(predict_accuracy - report["accuracy"]) < 1e-9, (predict_accuracy, report)
    logged = get_run(run_id)
    assert abs(metrics_of(logged)["test_accuracy"] - report["accuracy"]) < 1e-12, logged
    assert "test_loss" in metrics_of(logged)
    contexts = {}
    for dataset_input in logged["inputs"]["dataset_inputs"]:
        context = {tag["key"]: tag["value"] for tag in dataset_input.get("tags", [])}
        contexts[context.get("mlflow.data.context")] = dataset_input["dataset"]
    assert set(contexts) == {"training", "evaluation"}, contexts
    assert contexts["evaluation"]["digest"] == manifest["digest"][:16], contexts
    assert contexts["evaluation"]["name"] == "mnist-test", contexts
    bad = run(["evaluate", f"runs:/{run_id}/model", "--data", "no-such-set", "--data-dir",
               test_data, "--tracking-uri", base], expect=1)
    assert "mlforge data get no-such-set" in bad.stderr, bad.stderr

    # ---- register and trace -------------------------------------------------
    run(["models", "register", f"runs:/{run_id}/model", "tiny", "--alias", "champion",
         "--tracking-uri", base])
    lineage = json.loads(run(["lineage", "models:/tiny@champion", "--json", "--tracking-uri",
                              base]).stdout)
    assert lineage["model"]["version"] == 1 and lineage["model"]["aliases"] == ["champion"]
    traced = lineage["run"]
    assert traced["run_id"] == run_id and traced["status"] == "FINISHED", traced
    assert traced["experiment_name"] == "lineage-e2e"
    assert traced["params"]["model.kind"] == "mlp" and traced["params"]["seed"] == "42"
    assert abs(traced["metrics"]["test_accuracy"] - report["accuracy"]) < 1e-12
    assert traced["code"]["source_name"] == config, traced["code"]
    assert "config.yaml" in traced["config_artifacts"], traced
    assert {d["context"] for d in traced["datasets"]} == {"training", "evaluation"}
    assert all(d["digest"] == manifest["digest"][:16] for d in traced["datasets"])
    assert [p["run_id"] for p in lineage["parents"]] == [parent_id], lineage["parents"]
    assert lineage["parents"][0]["run_name"] == "pipeline"
    text = run(["lineage", "models:/tiny/1", "--tracking-uri", base]).stdout
    for needle in ["model tiny version 1", f"<- run {run_id}", "dataset   mnist",
                   f"<- parent run {parent_id}", "config    config.yaml", "val_accuracy="]:
        assert needle in text, f"{needle!r} not in\n{text}"
    missing = run(["lineage", "models:/tiny/5", "--tracking-uri", base], expect=1)
    assert "mlforge models list" in missing.stderr, missing.stderr

    # ---- reproduce ----------------------------------------------------------
    result = run(["runs", "reproduce", run_id, "--tracking-uri", base, "--data-dir", test_data])
    assert f"reproduces run {run_id}" in result.stdout, result.stdout
    assert "val_accuracy" in result.stdout and "MISMATCH" not in result.stdout
    new_id = re.search(r"run ([0-9a-f]{32}) reproduces", result.stdout).group(1)
    reproduced = get_run(new_id)
    assert tags_of(reproduced)["mlforge.reproduction.source_run"] == run_id
    assert tags_of(reproduced)["mlforge.reproduction.matches"] == "true"
    # train records its thread count, and the reproduction used it.
    assert tags_of(logged)["mlforge.intra_op_threads"] == "1", tags_of(logged)
    assert tags_of(reproduced)["mlforge.intra_op_threads"] == "1"
    assert metrics_of(reproduced)["val_loss"] == metrics_of(logged)["val_loss"]
    # Data with another digest is refused before anything trains.
    other = os.path.join(work, "other-data")
    shutil.copytree(os.path.join(test_data, "mnist"), os.path.join(other, "mnist"))
    manifest_path = os.path.join(other, "mnist", "manifest.json")
    changed = dict(manifest, digest="0" * 64)
    json.dump(changed, open(manifest_path, "w"))
    refused = run(["runs", "reproduce", run_id, "--tracking-uri", base, "--data-dir", other],
                  expect=1)
    assert "trained on digest" in refused.stderr and "0" * 64 in refused.stderr, refused.stderr

    # ---- the example MLflow Project -----------------------------------------
    result = run(["run", project, "-P", "epochs=20", "-P", "learning_rate=0.2",
                  "--experiment", "projects", "--tracking-uri", base,
                  "--tag", f"mlflow.parentRunId={parent_id}"])
    assert "logging via REST" in result.stdout, result.stdout
    assert "python_env" in result.stderr, result.stderr  # the not-managed warning
    project_run_id = re.search(r"run ([0-9a-f]{32}) FINISHED", result.stderr).group(1)
    project_run = get_run(project_run_id)
    assert project_run["info"]["status"] == "FINISHED"
    tags = tags_of(project_run)
    assert tags["mlflow.source.type"] == "PROJECT" and tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.parentRunId"] == parent_id, tags
    assert tags["mlflow.source.name"] == os.path.realpath(project) or \
        tags["mlflow.source.name"] == os.path.abspath(project), tags
    params = {p["key"]: p["value"] for p in project_run["data"]["params"]}
    assert params == {"learning_rate": "0.2", "epochs": "20", "seed": "7", "noise": "0.1"}, params
    fitted = metrics_of(project_run)
    assert abs(fitted["slope"] - 3.0) < 0.3 and "mse" in fitted, fitted
    history = api("GET", "metrics/get-history", query={"run_id": project_run_id,
                                                        "metric_key": "mse"})["metrics"]
    assert len(history) == 20, history
    typo = run(["run", project, "-P", "epochs=lots", "--tracking-uri", base], expect=1)
    assert "parameter 'epochs' is of type int: 'lots' is not an integer" in typo.stderr, typo.stderr
    unknown = run(["run", project, "-e", "nope", "--tracking-uri", base], expect=1)
    assert "entry points: main, report" in unknown.stderr, unknown.stderr

    # A failing and a killed command.
    scratch = os.path.join(work, "scratch-project")
    os.makedirs(scratch)
    with open(os.path.join(scratch, "MLproject"), "w") as out:
        out.write("entry_points:\n  fail: {command: 'exit 4'}\n"
                  "  slow: {command: 'touch started; sleep 60'}\n")
    failed = run(["run", scratch, "-e", "fail", "--tracking-uri", base], expect=4)
    failed_id = re.search(r"run ([0-9a-f]{32}) FAILED", failed.stderr).group(1)
    assert get_run(failed_id)["info"]["status"] == "FAILED"
    slow = subprocess.Popen([mlforge, "run", scratch, "-e", "slow", "--tracking-uri", base],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for _ in range(1000):
        if os.path.exists(os.path.join(scratch, "started")):
            break
        time.sleep(0.02)
    slow.send_signal(signal.SIGTERM)
    _, slow_err = slow.communicate(timeout=30)
    assert slow.returncode != 0, slow_err
    killed_id = re.search(r"run ([0-9a-f]{32}) KILLED", slow_err).group(1)
    assert get_run(killed_id)["info"]["status"] == "KILLED"
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

# ---- the same against a local SQLite store --------------------------------
database = os.path.join(work, "local.db")
local = f"sqlite:///{database}"
local_run = train(local)
run(["models", "register", f"runs:/{local_run}/model", "local-tiny", "--tracking-uri", local])
text = run(["lineage", "models:/local-tiny/1", "--tracking-uri", local]).stdout
assert f"<- run {local_run}" in text and "config    config.yaml" in text, text
result = run(["run", project, "-e", "report", "-P", "message=it's here", "--tracking-uri", local])
assert "says: it's here" in result.stdout, result.stdout
report_id = re.search(r"run ([0-9a-f]{32}) FINISHED", result.stderr).group(1)
with sqlite3.connect(database) as connection:
    status = connection.execute("SELECT status FROM runs WHERE run_uuid = ?",
                                (report_id,)).fetchone()
    params = dict(connection.execute("SELECT key, value FROM params WHERE run_uuid = ?",
                                      (report_id,)).fetchall())
    entry = connection.execute(
        "SELECT value FROM tags WHERE run_uuid = ? AND key = 'mlflow.project.entryPoint'",
        (report_id,)).fetchone()
assert status == ("FINISHED",), status
assert params == {"message": "it's here"}, params
assert entry == ("report",), entry
print("lifecycle e2e: ok")
