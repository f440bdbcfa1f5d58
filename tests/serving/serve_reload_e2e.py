"""Hot reload under load, end to end. A real `mlforge server` (tracking and
registry) holds three versions of model `digits`: v1 the trained CNN, v2 a
small MLP trained here, v3 a copy of v1 with corrupt weights. `mlforge serve
models:/digits@champion --poll-interval 200ms` serves it while client
threads post dataframe_split requests to /invocations without pause. The
alias moves to v3 (rejected: logged, counted as a load failure, v1 keeps
serving), then to v2 (swapped in). Every request must succeed with the
predictions `mlforge predict` gives for the version named in its
X-Model-Version header, and the answers must switch from v1 to v2. Then
SIGTERM with --drain-delay: readiness is 503 while requests are still
answered, then the process exits 0.

usage: serve_reload_e2e.py MLFORGE PACKAGE_DIR MNIST_DIR WORK_DIR CONFIG
Standard library only."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

mlforge, package, mnist, work, config = sys.argv[1:6]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
env = dict(os.environ, MLFORGE_HOME=f"{work}/home", MLFLOW_TRACKING_URI="")
ROWS = 8
images_file = f"{mnist}/t10k-images-idx3-ubyte"
raw = open(images_file, "rb").read()
images = [list(raw[16 + row * 784:16 + (row + 1) * 784]) for row in range(ROWS)]
columns = [f"pixel{i}" for i in range(784)]


def run(*args):
    result = subprocess.run([mlforge, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def predictions(folder):
    return json.loads(run("predict", folder, "--input", images_file, "--limit", str(ROWS)))["predictions"]


def started(process, pattern):
    deadline = time.time() + 120
    for line in process.stdout:
        found = re.search(pattern, line)
        if found:
            return f"http://{found.group(1)}"
        assert time.time() < deadline, "did not start"
    raise AssertionError(f"exited with {process.wait()}")


def call(base, path, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


# ---- three versions ----------------------------------------------------------
mlp = f"{work}/mlp"
run("train", config, "--data-dir", os.path.dirname(mnist), "--run-dir", mlp, "--no-progress",
    "--threads", "1", "--set", "model={kind: mlp, layers: [32]}", "--set", "train.epochs=1",
    "--set", "data.limit_train=2000", "--set", "schedule.warmup_steps=0")
broken = f"{work}/broken"
shutil.copytree(package, broken)
with open(f"{broken}/model.pt", "wb") as handle:
    handle.write(b"these are not TorchScript weights")
expected = {"1": predictions(package), "2": predictions(f"{mlp}/model")}
print(f"v1 predicts {expected['1']}, v2 predicts {expected['2']}")

tracking_log = open(f"{work}/server.log", "w")
tracking = subprocess.Popen(
    [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{work}/mlruns.db",
     "--artifacts-destination", f"{work}/artifacts"],
    stdout=subprocess.PIPE, stderr=tracking_log, text=True, env=env)
serve = None
serve_log_path = f"{work}/serve.log"
try:
    server = started(tracking, r"listening on http://([\d.]+:\d+)")
    for number, folder in enumerate([package, f"{mlp}/model", broken], start=1):
        out = run("models", "register", folder, "digits", "--tracking-uri", server)
        assert f"version {number}" in out, out
    run("models", "alias", "digits", "champion", "1", "--tracking-uri", server)

    serve_log = open(serve_log_path, "w")
    serve = subprocess.Popen(
        [mlforge, "serve", "models:/digits@champion", "--tracking-uri", server, "--port", "0",
         "--poll-interval", "200ms", "--max-delay-us", "500", "--drain-delay", "1500ms"],
        stdout=subprocess.PIPE, stderr=serve_log, text=True, env=env)
    base = started(serve, r"listening on http://([\d.]+:\d+)")

    # ---- clients that never stop ---------------------------------------------
    stop = threading.Event()
    lock = threading.Lock()
    failures = []
    counts = {}
    order = []  # versions in the order thread 0 saw them

    def client(index):
        request_number = 0
        while not stop.is_set():
            row = (index + request_number) % ROWS
            request_number += 1
            status, text, headers = call(base, "/invocations",
                                         {"dataframe_split": {"columns": columns, "data": [images[row]]}})
            version = headers.get("X-Model-Version")
            ok = status == 200 and version in expected and \
                json.loads(text)["predictions"] == [expected[version][row]]
            with lock:
                if not ok:
                    failures.append((status, version, text[:200]))
                    continue
                counts[version] = counts.get(version, 0) + 1
                if index == 0 and (not order or order[-1] != version):
                    order.append(version)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()

    def wait_for(predicate, what, seconds=60):
        deadline = time.time() + seconds
        while not predicate():
            assert time.time() < deadline, f"timed out waiting for {what}"
            assert not failures, failures[:3]
            time.sleep(0.05)

    def metric(name_and_labels):
        found = re.search(re.escape(name_and_labels) + r" (\S+)", call(base, "/metrics")[1])
        return float(found.group(1)) if found else 0.0

    wait_for(lambda: counts.get("1", 0) >= 30, "answers from version 1")
    run("models", "alias", "digits", "champion", "3", "--tracking-uri", server)
    failure_metric = 'mlforge_serving_model_events_total{model="digits",version="3",event="load_failure"}'
    wait_for(lambda: metric(failure_metric) == 1, "version 3 to be rejected")
    before = counts.get("1", 0)
    wait_for(lambda: counts.get("1", 0) >= before + 30, "version 1 to keep serving")
    run("models", "alias", "digits", "champion", "2", "--tracking-uri", server)
    wait_for(lambda: counts.get("2", 0) >= 30, "answers from version 2")
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:3]}"
    assert order == ["1", "2"], order
    assert "3" not in counts
    print(f"answers by version: {counts}; none failed")

    # The other protocols see the swap too; the label follows the alias.
    status, body, _ = call(base, "/v2/models/digits")
    assert status == 200 and json.loads(body)["versions"] == ["2"], body
    status, body, _ = call(base, "/v1/models/digits/labels/champion")
    assert status == 200 and json.loads(body)["model_version_status"][0]["version"] == "2", body
    status, body, _ = call(base, "/v1/models/digits/labels/champion:predict", {"instances": images[:2]})
    assert status == 200 and [row["predictions"] for row in json.loads(body)["predictions"]] == expected["2"][:2], body
    assert metric('mlforge_serving_model_events_total{model="digits",version="1",event="unload"}') == 1
    assert metric('mlforge_serving_model_events_total{model="digits",version="2",event="load"}') == 1
    assert metric(failure_metric) == 1, "a rejected version is not retried while the alias stays"

    # SIGTERM: readiness false at once, requests still answered during the
    # drain delay, then exit 0.
    serve.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert call(base, "/ping")[0] == 503
    assert call(base, "/v2/health/ready")[0] == 503
    status, text, headers = call(base, "/invocations", {"instances": [images[0]]})
    assert status == 200 and json.loads(text)["predictions"] == [expected["2"][0]], (status, text)
    assert serve.wait(timeout=30) == 0
    serve = None
    log = open(serve_log_path).read()
    assert "rejected version 3" in log and "now serves version 2" in log, log
    assert "drained" in log, log

    # Several models from one repository file, each under its name on all
    # three protocols; /invocations scores the first.
    with open(f"{work}/models.yaml", "w") as handle:
        handle.write("poll_interval: 1s\n"
                     "models:\n"
                     "  - uri: models:/digits@champion\n"
                     "    max_batch: 16\n"
                     "  - name: small\n"
                     "    uri: mlp/model\n"          # relative to the file
                     "    max_delay_us: 0\n")
    serve = subprocess.Popen(
        [mlforge, "serve", "--repository", f"{work}/models.yaml", "--tracking-uri", server,
         "--port", "0"], stdout=subprocess.PIPE, stderr=serve_log, text=True, env=env)
    base = started(serve, r"listening on http://([\d.]+:\d+)")
    for name, version, want in (("digits", "2", expected["2"]), ("small", "1", expected["2"])):
        status, body, headers = call(base, f"/serving-endpoints/{name}/invocations",
                                     {"instances": images})
        assert status == 200 and json.loads(body)["predictions"] == want, (name, body)
        assert headers["X-Model-Version"] == version, headers
        status, body, _ = call(base, f"/v2/models/{name}/infer", {"inputs": [
            {"name": "input", "shape": [ROWS, 1, 28, 28], "datatype": "FP32",
             "data": [v for image in images for v in image]}]})
        assert status == 200 and json.loads(body)["outputs"][0]["data"] == want, (name, body)
        status, body, _ = call(base, f"/v1/models/{name}:predict", {"instances": images})
        assert status == 200 and [r["predictions"] for r in json.loads(body)["predictions"]] == want
    status, body, headers = call(base, "/invocations", {"instances": images})
    assert status == 200 and headers["X-Model-Name"] == "digits", headers
    status, body, _ = call(base, "/serving-endpoints/nope/invocations", {"instances": images})
    assert status == 404, body
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0
    serve = None
finally:
    for process in (serve, tracking):
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
print("ok: alias moves followed under load with no failed request; broken version rejected")
