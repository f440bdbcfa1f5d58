"""MLflow 3's logged models against `mlforge server`, end to end: the real
binary on 127.0.0.1, driven with the exact request sequence an MLflow 3.x
Python client sends for

    with mlflow.start_run():
        mlflow.log_param("lr", "0.01"); mlflow.log_metric("loss", ...)
        mlflow.pytorch.log_model(model, name="model")
    mlflow.register_model(f"runs:/{run_id}/model", "mnist-lm")

(mlflow/models/model.py Model.log, mlflow/store/tracking/rest_store.py,
mlflow/store/artifact/http_artifact_repo.py and
mlflow/tracking/_model_registry/fluent.py _register_model), then reading the
model back as `models:/<model_id>` does. Standard library only.

Usage: logged_models_e2e.py MLFORGE_BINARY WORK_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

mlforge, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
server = subprocess.Popen(
    [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{work}/mlruns.db",
     "--artifacts-destination", f"{work}/artifacts"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
line = server.stdout.readline()
match = re.search(r"http://([\d.]+:\d+)", line)
assert match, f"no address in {line!r}: {server.stderr.read() if server.poll() is not None else ''}"
base = f"http://{match.group(1)}"
requests_sent = []


def call(method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    requests_sent.append(f"{method} {path.split('?')[0]}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api(method, endpoint, body=None, prefix="/api/2.0/mlflow/"):
    status, payload = call(method, prefix + endpoint, body)
    parsed = json.loads(payload or b"{}")
    return status, parsed


def ok(method, endpoint, body=None):
    status, parsed = api(method, endpoint, body)
    assert status == 200, f"{method} {endpoint}: {status} {parsed}"
    return parsed


def query(params):
    return urllib.parse.urlencode(params)


# The model package the pytorch flavour writes (contents are opaque here).
MODEL_FILES = {
    "MLmodel": b"artifact_path: mlflow-artifacts:/x\nflavors:\n  pytorch:\n    model_data: data\n",
    "data/model.pth": bytes(range(256)) * 64,
    "data/pickle_module_info.txt": b"mlflow.pytorch.pickle_module\n",
    "requirements.txt": b"torch==2.1.0\n",
    "conda.yaml": b"dependencies: [python=3.11]\n",
}

try:
    # ---- mlflow.set_experiment + mlflow.start_run ---------------------------------
    status, missing = api("GET", "experiments/get-by-name?" + query({"experiment_name": "lm-e2e"}))
    assert status == 404 and missing["error_code"] == "RESOURCE_DOES_NOT_EXIST", missing
    experiment_id = ok("POST", "experiments/create", {"name": "lm-e2e"})["experiment_id"]
    run = ok("POST", "runs/create", {
        "experiment_id": experiment_id, "user_id": "ci", "start_time": 1700000000000,
        "tags": [{"key": "mlflow.user", "value": "ci"},
                 {"key": "mlflow.source.name", "value": "train.py"}],
        "run_name": "lm-run"})["run"]
    run_id = run["info"]["run_id"]
    assert run["outputs"] == {}, run
    ok("POST", "runs/log-parameter", {"run_id": run_id, "run_uuid": run_id, "key": "lr",
                                      "value": "0.01"})
    for step, loss in enumerate([0.9, 0.5, 0.2]):
        ok("POST", "runs/log-metric", {"run_id": run_id, "run_uuid": run_id, "key": "loss",
                                       "value": loss, "timestamp": 1700000001000 + step,
                                       "step": step})
    ok("POST", "runs/log-metric", {"run_id": run_id, "key": "acc", "value": 0.97,
                                   "timestamp": 1700000002000, "step": 0})

    # ---- mlflow.pytorch.log_model(model, name="model") ---------------------------
    # Model.log: the run's params become the model's, then create the model.
    params = ok("GET", "runs/get?" + query({"run_id": run_id, "run_uuid": run_id}))["run"]["data"]["params"]
    model = ok("POST", "logged-models", {
        "experiment_id": experiment_id, "name": "model", "source_run_id": run_id,
        "params": params,
        "tags": [{"key": "mlflow.user", "value": "ci"},
                 {"key": "mlflow.source.name", "value": "train.py"}]})["model"]
    info = model["info"]
    model_id = info["model_id"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", model_id), model_id
    assert info["status"] == "LOGGED_MODEL_PENDING", info
    assert info["experiment_id"] == experiment_id and info["name"] == "model", info
    assert info["source_run_id"] == run_id, info
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts", info
    assert model["data"]["params"] == [{"key": "lr", "value": "0.01"}], model
    assert isinstance(info["creation_timestamp_ms"], int), info

    # _use_logged_model: link the model to the run at step 0, then copy the
    # run's metrics of that step onto the model (log_model_metrics_for_step).
    ok("POST", "runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]})
    run_data = ok("GET", "runs/get?" + query({"run_id": run_id, "run_uuid": run_id}))["run"]
    linked = []
    for metric in run_data["data"]["metrics"]:
        history = ok("GET", "metrics/get-history?" + query(
            {"run_id": run_id, "run_uuid": run_id, "metric_key": metric["key"]}))["metrics"]
        for entry in history:
            assert "model_id" not in entry, entry
            if entry["step"] == 0:
                linked.append({**entry, "model_id": model_id, "run_id": run_id})
    assert sorted(m["key"] for m in linked) == ["acc", "loss"], linked
    ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": linked})

    # MlflowClient.log_model_artifacts: read the model's location, upload through the proxy.
    artifact_uri = ok("GET", f"logged-models/{model_id}")["model"]["info"]["artifact_uri"]
    proxied = artifact_uri[len("mlflow-artifacts:/"):]
    for relative, content in MODEL_FILES.items():
        status, _ = call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/{relative}",
                         raw=content, content_type="application/octet-stream")
        assert status == 200, (relative, status)
    finalized = ok("PATCH", f"logged-models/{model_id}",
                   {"model_id": model_id, "status": "LOGGED_MODEL_READY"})["model"]
    assert finalized["info"]["status"] == "LOGGED_MODEL_READY", finalized
    assert finalized["info"]["last_updated_timestamp_ms"] >= info["creation_timestamp_ms"]
    ok("POST", "runs/update", {"run_id": run_id, "run_uuid": run_id, "status": "FINISHED",
                               "end_time": 1700000003000})

    # ---- mlflow.register_model(f"runs:/{run_id}/model", "mnist-lm") -------------
    ok("POST", "registered-models/create", {"name": "mnist-lm"})
    # RunsArtifactRepository: is "model" a folder of the run's own artifacts? No:
    # MLflow 3 keeps the files with the logged model.
    run_artifacts = ok("GET", "runs/get?" + query({"run_id": run_id}))["run"]["info"]["artifact_uri"]
    status, listing = call("GET", "/api/2.0/mlflow-artifacts/artifacts?" + query(
        {"path": run_artifacts[len("mlflow-artifacts:/"):] + "/model"}))
    assert status == 200 and json.loads(listing).get("files", []) == [], listing
    # So find the run's logged model named "model", at its largest output step.
    source_run = ok("GET", "runs/get?" + query({"run_id": run_id}))["run"]
    outputs = source_run["outputs"]["model_outputs"]
    assert outputs == [{"model_id": model_id, "step": 0}], outputs
    page = ok("POST", "logged-models/search", {"experiment_ids": [source_run["info"]["experiment_id"]]})
    candidates = [m for m in page["models"]
                  if m["info"].get("source_run_id") == run_id and m["info"]["name"] == "model"]
    assert [m["info"]["model_id"] for m in candidates] == [model_id], page
    assert "next_page_token" not in page, page
    found_id = candidates[0]["info"]["model_id"]
    version = ok("POST", "model-versions/create", {
        "name": "mnist-lm", "source": f"models:/{found_id}", "run_id": run_id,
        "model_id": found_id})["model_version"]
    assert version["version"] == "1" and version["model_id"] == model_id, version
    assert version["source"] == f"models:/{model_id}" and version["status"] == "READY", version
    got = ok("GET", "model-versions/get?" + query({"name": "mnist-lm", "version": "1"}))["model_version"]
    assert got["model_id"] == model_id and got["run_id"] == run_id, got
    current = ok("GET", f"logged-models/{model_id}")["model"]
    tags = {t["key"]: t["value"] for t in current["info"].get("tags", [])}
    versions = json.loads(tags["mlflow.modelVersions"]) if "mlflow.modelVersions" in tags else []
    versions.append({"name": "mnist-lm", "version": version["version"]})
    ok("PATCH", f"logged-models/{model_id}/tags",
       {"tags": [{"key": "mlflow.modelVersions", "value": json.dumps(versions)}]})

    # ---- what the registration left behind ---------------------------------------
    model = ok("GET", f"logged-models/{model_id}")["model"]
    tags = {t["key"]: t["value"] for t in model["info"]["tags"]}
    assert json.loads(tags["mlflow.modelVersions"]) == [{"name": "mnist-lm", "version": "1"}], tags
    assert tags["mlflow.source.name"] == "train.py", tags
    metrics = {(m["key"], m["step"]): m for m in model["data"]["metrics"]}
    assert set(metrics) == {("acc", 0), ("loss", 0)}, model["data"]
    assert metrics[("loss", 0)]["value"] == 0.9 and metrics[("loss", 0)]["run_id"] == run_id, metrics
    assert metrics[("acc", 0)]["model_id"] == model_id, metrics
    # The run still has its own latest metrics.
    latest = {m["key"]: m["value"] for m in ok("GET", "runs/get?" + query({"run_id": run_id}))["run"]["data"]["metrics"]}
    assert latest == {"loss": 0.2, "acc": 0.97}, latest
    # models:/mnist-lm/1 resolves to the logged model's files.
    download = ok("GET", "model-versions/get-download-uri?" + query({"name": "mnist-lm", "version": "1"}))
    assert download["artifact_uri"] == artifact_uri, download
    status, listing = call("GET", "/api/2.0/mlflow-artifacts/artifacts?" + query({"path": proxied}))
    files = {f["path"]: f for f in json.loads(listing)["files"]}
    assert status == 200 and set(files) == {"MLmodel", "data", "requirements.txt", "conda.yaml"}, files
    status, weights = call("GET", f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/data/model.pth")
    assert status == 200 and weights == MODEL_FILES["data/model.pth"], status
    assert os.path.exists(f"{work}/artifacts/{experiment_id}/models/{model_id}/artifacts/MLmodel")

    # Searches the UI and clients make.
    page = ok("POST", "logged-models/search", {
        "experiment_ids": [experiment_id], "filter": "name = 'model' AND metrics.loss > 0.5",
        "order_by": [{"field_name": "creation_time", "ascending": False}], "max_results": 50})
    assert [m["info"]["model_id"] for m in page["models"]] == [model_id], page
    status, ajax = api("POST", "logged-models/search",
                       {"experiment_ids": [experiment_id], "filter": "metrics.loss < 0.5"},
                       prefix="/ajax-api/2.0/mlflow/")
    assert status == 200 and ajax == {}, ajax
    other = ok("POST", "logged-models", {"experiment_id": experiment_id})["model"]["info"]
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", other["name"]), other
    page = ok("POST", "logged-models/search", {"experiment_ids": [experiment_id], "max_results": 1,
                                               "order_by": [{"field_name": "name"}]})
    assert len(page["models"]) == 1 and "next_page_token" in page, page
    rest = ok("POST", "logged-models/search", {"experiment_ids": [experiment_id], "max_results": 1,
                                               "order_by": [{"field_name": "name"}],
                                               "page_token": page["next_page_token"]})
    names = [page["models"][0]["info"]["name"], rest["models"][0]["info"]["name"]]
    assert sorted(names) == names and "model" in names, names
    ok("POST", f"logged-models/{other['model_id']}/params",
       {"model_id": other["model_id"], "params": [{"key": "k", "value": "v"}]})
    status, _ = call("DELETE", f"/api/2.0/mlflow/logged-models/{other['model_id']}/tags/absent")
    assert status == 404, status
    ok("DELETE", f"logged-models/{other['model_id']}", {"model_id": other["model_id"]})
    status, gone = api("GET", f"logged-models/{other['model_id']}")
    assert status == 404 and gone["error_code"] == "RESOURCE_DOES_NOT_EXIST", gone

    # Errors in MLflow's shape.
    status, error = api("GET", "logged-models/m-" + "0" * 32)
    assert status == 404 and error["error_code"] == "RESOURCE_DOES_NOT_EXIST", error
    status, error = api("PATCH", f"logged-models/{model_id}", {"status": "DONE"})
    assert status == 400 and error["error_code"] == "INVALID_PARAMETER_VALUE", error
    status, error = api("POST", "logged-models/search", {"filter": "name = 'model'"})
    assert status == 400 and "experiment_ids" in error["message"], error
    status, error = api("POST", "logged-models/search", {"experiment_ids": [experiment_id],
                                                         "filter": "metrics.loss > 'x'"})
    assert status == 400 and error["error_code"] == "INVALID_PARAMETER_VALUE", error
    status, error = call("POST", "/api/2.0/mlflow/logged-models", raw=b'{"experiment_id": "0"}',
                         content_type="text/plain")
    assert status == 400, status
    status, error = api("POST", "model-versions/create", {
        "name": "mnist-lm", "source": "models:/m-" + "1" * 32, "model_id": "m-" + "1" * 32})
    assert status == 404 and error["error_code"] == "RESOURCE_DOES_NOT_EXIST", error
finally:
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=20)
assert code == 0, f"server exited with {code}: {server.stderr.read()}"

# Everything acknowledged is in the store after the server stopped.
import sqlite3
db = sqlite3.connect(f"{work}/mlruns.db")
assert db.execute("select status from logged_models where model_id = ?",
                  (model_id,)).fetchone()[0] == "LOGGED_MODEL_READY"
assert db.execute("select count(*) from logged_model_metrics where model_id = ?",
                  (model_id,)).fetchone()[0] == 2
print(f"logged models e2e passed against {base} ({len(requests_sent)} requests)")
