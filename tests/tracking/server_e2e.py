"""`mlforge server` end to end: the real binary on 127.0.0.1, driven with the
requests MLflow's Python client sends (rest_store.py, http_artifact_repo.py,
model registry rest_store.py), using only the standard library.

Usage: server_e2e.py MLFORGE_BINARY WORK_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
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


def call(method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            return response.status, payload
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api(method, endpoint, body=None):
    status, payload = call(method, "/api/2.0/mlflow/" + endpoint, body)
    return status, json.loads(payload or b"{}")


try:
    # Tracking, as mlflow.start_run / log_metric / log_param would.
    status, created = api("POST", "experiments/create", {"name": "e2e"})
    assert status == 200, created
    experiment_id = created["experiment_id"]
    status, run = api("POST", "runs/create", {"experiment_id": experiment_id, "start_time": 1,
                                             "tags": [{"key": "mlflow.user", "value": "ci"}],
                                             "run_name": "server-e2e"})
    assert status == 200, run
    run_id = run["run"]["info"]["run_id"]
    assert run["run"]["info"]["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts", run
    metrics = [{"key": "loss", "value": 1.0 / (step + 1), "timestamp": 1000 + step, "step": step}
               for step in range(500)]
    status, _ = api("POST", "runs/log-batch", {"run_id": run_id, "metrics": metrics,
                                               "params": [{"key": "lr", "value": "0.01"}]})
    assert status == 200
    status, error = api("POST", "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})
    assert status == 400 and error["error_code"] == "INVALID_PARAMETER_VALUE", error
    status, history = api("GET", f"metrics/get-history?run_id={run_id}&metric_key=loss")
    assert status == 200 and len(history["metrics"]) == 500, len(history.get("metrics", []))
    status, found = api("POST", "runs/search", {"experiment_ids": [experiment_id],
                                                "filter": "metrics.loss < 0.01 and params.lr = '0.01'"})
    assert status == 200 and [r["info"]["run_id"] for r in found["runs"]] == [run_id], found
    status, missing = api("GET", "runs/get?run_id=" + "0" * 32)
    assert status == 404 and missing["error_code"] == "RESOURCE_DOES_NOT_EXIST", missing

    # Artifacts through the proxy, as mlflow.log_artifact would.
    artifact_path = f"{experiment_id}/{run_id}/artifacts/model/MLmodel"
    status, _ = call("PUT", "/api/2.0/mlflow-artifacts/artifacts/" + artifact_path,
                     raw=b"flavors: {}\n", content_type="application/octet-stream")
    assert status == 200, status
    status, downloaded = call("GET", "/api/2.0/mlflow-artifacts/artifacts/" + artifact_path)
    assert status == 200 and downloaded == b"flavors: {}\n", (status, downloaded)
    status, listing = call("GET", f"/api/2.0/mlflow-artifacts/artifacts?path={experiment_id}/{run_id}/artifacts/model")
    assert status == 200 and json.loads(listing)["files"][0]["path"] == "MLmodel", listing
    status, _ = call("GET", "/api/2.0/mlflow-artifacts/artifacts/..%2F..%2Fetc%2Fpasswd")
    assert status == 400, status
    assert os.path.exists(f"{work}/artifacts/{artifact_path}")

    # The model registry, as mlflow.register_model and aliases would.
    status, model = api("POST", "registered-models/create", {"name": "mnist"})
    assert status == 200, model
    status, version = api("POST", "model-versions/create", {
        "name": "mnist", "source": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model",
        "run_id": run_id})
    assert status == 200 and version["model_version"]["version"] == "1", version
    status, _ = api("POST", "registered-models/alias", {"name": "mnist", "alias": "champion", "version": "1"})
    assert status == 200
    status, by_alias = api("GET", "registered-models/alias?name=mnist&alias=champion")
    assert status == 200 and by_alias["model_version"]["run_id"] == run_id, by_alias

    # Observability and an unknown endpoint.
    status, exposition = call("GET", "/metrics")
    assert status == 200 and b"mlforge_http_requests_total" in exposition
    status, unknown = api("GET", "no-such-endpoint")
    assert status == 404 and unknown["error_code"] == "ENDPOINT_NOT_FOUND", unknown
finally:
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=20)
assert code == 0, f"server exited with {code}: {server.stderr.read()}"

# Everything acknowledged is in the store after the server stopped.
import sqlite3
db = sqlite3.connect(f"{work}/mlruns.db")
assert db.execute("select count(*) from metrics where run_uuid = ?", (run_id,)).fetchone()[0] == 500
print(f"server e2e passed against {base}")
