"""`mlforge serve models:/NAME@ALIAS` against a real tracking server: the
package is uploaded through the server's artifact proxy as a run's
artifacts, registered with an alias, and served from the registry; the
served predictions match `mlforge predict` on the original folder, and the
server names the model and version the registry gave. Standard library only.

usage: serve_registry_e2e.py MLFORGE PACKAGE_DIR MNIST_DIR WORK_DIR"""
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

mlforge, package, mnist, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
env = dict(os.environ, MLFORGE_HOME=f"{work}/home", MLFLOW_TRACKING_URI="")


def started(process, pattern):
    deadline = time.time() + 60
    for line in process.stdout:
        found = re.search(pattern, line)
        if found:
            return f"http://{found.group(1)}"
        assert time.time() < deadline, "did not start"
    raise AssertionError(f"exited: {process.stderr.read()}")


def call(base, method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


tracking = subprocess.Popen(
    [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{work}/mlruns.db",
     "--artifacts-destination", f"{work}/artifacts"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
serve = None
try:
    server = started(tracking, r"listening on http://([\d.]+:\d+)")
    status, body = call(server, "POST", "/api/2.0/mlflow/runs/create",
                        {"experiment_id": "0", "start_time": 1})
    assert status == 200, body
    run = json.loads(body)["run"]["info"]
    proxy_prefix = run["artifact_uri"][len("mlflow-artifacts:/"):]
    for root, _, files in os.walk(package):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), package)
            with open(os.path.join(root, name), "rb") as handle:
                status, body = call(server, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/"
                                    f"{proxy_prefix}/model/{relative}", raw=handle.read())
            assert status == 200, body
    registered = subprocess.run(
        [mlforge, "models", "register", f"runs:/{run['run_id']}/model", "digits", "--alias",
         "champion", "--tracking-uri", server], capture_output=True, text=True, env=env, timeout=60)
    assert registered.returncode == 0, registered.stderr
    assert "version 1" in registered.stdout, registered.stdout

    serve = subprocess.Popen([mlforge, "serve", "models:/digits@champion", "--port", "0",
                              "--tracking-uri", server],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = started(serve, r"listening on http://([\d.]+:\d+)")
    status, body = call(base, "GET", "/v2/models/digits")
    assert status == 200, body
    assert json.loads(body)["versions"] == ["1"], body

    raw = open(f"{mnist}/t10k-images-idx3-ubyte", "rb").read()
    rows = [list(raw[16 + row * 784:16 + (row + 1) * 784]) for row in range(4)]
    status, body = call(base, "POST", "/invocations", {"instances": rows})
    assert status == 200, body
    predicted = json.loads(body)["predictions"]
    expected = subprocess.run([mlforge, "predict", package, "--input",
                               f"{mnist}/t10k-images-idx3-ubyte", "--limit", "4"],
                              capture_output=True, text=True, timeout=120)
    assert expected.returncode == 0, expected.stderr
    assert predicted == json.loads(expected.stdout)["predictions"], (predicted, expected.stdout)

    # An unknown alias is a clear start-up error.
    failed = subprocess.run([mlforge, "serve", "models:/digits@nope", "--port", "0",
                             "--tracking-uri", server], capture_output=True, text=True, env=env,
                            timeout=60)
    assert failed.returncode != 0 and "nope" in failed.stderr, failed.stderr
finally:
    for process in (serve, tracking):
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
print("ok: served models:/digits@champion through the registry and the artifact proxy")
