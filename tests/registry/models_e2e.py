"""`mlforge models ...` end to end: the real binary as a server on 127.0.0.1
and as the CLI, once with an http:// tracking URI (the CLI talks to the
server's tracking and registry REST APIs) and once with a sqlite:/// URI
(the CLI writes the SQLite file the server also serves). Each time a run
with a model artifact is made over the REST API, registered with
`models register runs:/RUN_ID/model NAME --alias champion`, listed, shown,
re-aliased and un-aliased, and the registry is checked over REST
(registered-models/alias, model-versions/get-download-uri). Standard library
only.

Usage: models_e2e.py MLFORGE_BINARY WORK_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

mlforge, work = sys.argv[1], os.path.abspath(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
database = os.path.join(work, "mlruns.db")
env = dict(os.environ, MLFORGE_HOME=os.path.join(work, "home"))
env.pop("MLFLOW_TRACKING_URI", None)
env.pop("MLFLOW_REGISTRY_URI", None)

server = subprocess.Popen(
    [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{database}",
     "--artifacts-destination", os.path.join(work, "artifacts")],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
line = server.stdout.readline()
match = re.search(r"http://([\d.]+:\d+)", line)
assert match, f"no address in {line!r}: {server.stderr.read() if server.poll() is not None else ''}"
base = f"http://{match.group(1)}"


def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api(method, endpoint, body=None):
    status, payload = call(method, "/api/2.0/mlflow/" + endpoint, body)
    return status, json.loads(payload or b"{}")


def ok(method, endpoint, body=None):
    status, parsed = api(method, endpoint, body)
    assert status == 200, f"{method} {endpoint}: {status} {parsed}"
    return parsed


def query(params):
    return urllib.parse.urlencode(params)


def cli(*args, expect=0, extra_env=None):
    result = subprocess.run([mlforge, *args], capture_output=True, text=True, timeout=60,
                            env=dict(env, **(extra_env or {})))
    assert result.returncode == expect, (
        f"mlforge {' '.join(args)}: exit {result.returncode}, wanted {expect}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result.stdout, result.stderr


def make_run(experiment, with_logged_model):
    """A run with a model package under artifacts/model, as `mlforge train` logs it."""
    experiment_id = ok("POST", "experiments/create", {"name": experiment})["experiment_id"]
    run = ok("POST", "runs/create", {"experiment_id": experiment_id, "user_id": "ci",
                                     "start_time": 1700000000000, "run_name": "train"})["run"]
    run_id, artifact_uri = run["info"]["run_id"], run["info"]["artifact_uri"]
    assert artifact_uri.startswith("mlflow-artifacts:/"), artifact_uri
    proxied = artifact_uri[len("mlflow-artifacts:/"):]
    for relative, content in {"model/MLmodel": b"flavors:\n  torchscript: {}\n",
                              "model/data/model.pt": bytes(range(256))}.items():
        status, _ = call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/{relative}",
                         raw=content)
        assert status == 200, (relative, status)
    model_id = ""
    if with_logged_model:
        model_id = ok("POST", "logged-models", {"experiment_id": experiment_id, "name": "model",
                                                "source_run_id": run_id})["model"]["info"]["model_id"]
    return run_id, artifact_uri, model_id


def alias_version(name, alias):
    status, body = api("GET", "registered-models/alias?" + query({"name": name, "alias": alias}))
    return status, body


def check_flow(uri, name, run_id, artifact_uri, model_id, via_env):
    """Register, list, show, alias and un-alias `name` through tracking URI `uri`."""
    flag = [] if via_env else ["--tracking-uri", uri]
    extra = {"MLFLOW_TRACKING_URI": uri} if via_env else None

    out, _ = cli("models", "register", f"runs:/{run_id}/model", name, "--alias", "champion",
                 *flag, extra_env=extra)
    assert f"Registered {name} version 1" in out, out

    status, body = alias_version(name, "champion")
    assert status == 200, body
    version = body["model_version"]
    assert version["version"] == "1", version
    assert version["source"] == artifact_uri + "/model", version
    assert version["run_id"] == run_id, version
    assert version["aliases"] == ["champion"], version
    assert version.get("model_id", "") == model_id, (version, model_id)
    download = ok("GET", "model-versions/get-download-uri?" + query({"name": name, "version": "1"}))
    assert download["artifact_uri"] == artifact_uri + "/model", download

    # A second version; the alias stays until moved.
    out, _ = cli("models", "register", f"runs:/{run_id}/model", name, *flag, extra_env=extra)
    assert f"Registered {name} version 2" in out, out
    assert alias_version(name, "champion")[1]["model_version"]["version"] == "1"
    out, _ = cli("models", "alias", name, "champion", "2", *flag, extra_env=extra)
    assert "version 2" in out, out
    assert alias_version(name, "champion")[1]["model_version"]["version"] == "2"

    out, _ = cli("models", "list", *flag, extra_env=extra)
    row = next(line for line in out.splitlines() if line.startswith(name + " "))
    assert re.match(rf"{re.escape(name)}\s+2\s+champion=v2\s+\d{{4}}-", row), out
    assert out.splitlines()[0].split() == ["NAME", "LATEST", "ALIASES", "UPDATED"], out

    out, _ = cli("models", "show", name, *flag, extra_env=extra)
    assert f"model    {name}" in out and "champion=v2" in out, out
    rows = [line.split() for line in out.splitlines() if re.match(r"^[12]\s+READY", line)]
    assert [row[0] for row in rows] == ["2", "1"], out
    for row in rows:
        assert row[2] == "None" and row[3] == run_id and row[4] == artifact_uri + "/model", row
    assert rows[0][5] == "champion" and rows[1][5] == "-", rows

    out, _ = cli("models", "resolve", f"models:/{name}@champion", *flag, extra_env=extra)
    assert out.splitlines() == [f"{name} version 2", artifact_uri + "/model"], out
    out, _ = cli("models", "resolve", f"models:/{name}/1", *flag, extra_env=extra)
    assert out.splitlines()[0] == f"{name} version 1", out

    out, _ = cli("models", "alias", name, "champion", "--delete", *flag, extra_env=extra)
    assert "Deleted alias champion" in out, out
    status, body = alias_version(name, "champion")
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE", (status, body)

    # Errors say what to do next.
    _, err = cli("models", "register", "runs:/0123456789abcdef/model", name, *flag,
                 expect=1, extra_env=extra)
    assert "0123456789abcdef" in err and uri in err and "--tracking-uri" in err, err
    _, err = cli("models", "show", "no-such-model", *flag, expect=1, extra_env=extra)
    assert "no-such-model" in err and "mlforge models list" in err, err
    _, err = cli("models", "alias", name, "champion", "9", *flag, expect=1, extra_env=extra)
    assert "mlforge models show" in err, err
    _, err = cli("models", "alias", name, "champion", *flag, expect=1, extra_env=extra)
    assert "--delete" in err, err


try:
    # ---- an http:// tracking URI: the CLI speaks REST to the server ----------------
    run_id, artifact_uri, model_id = make_run("over-http", with_logged_model=True)
    assert model_id
    check_flow(base, "mnist-http", run_id, artifact_uri, model_id, via_env=False)
    # The same through MLFLOW_TRACKING_URI.
    check_flow(base, "mnist-env", run_id, artifact_uri, model_id, via_env=True)

    # ---- a sqlite:/// URI: the CLI writes the file the server serves ---------------
    run_id, artifact_uri, _ = make_run("over-sqlite", with_logged_model=False)
    check_flow(f"sqlite:///{database}", "mnist-sqlite", run_id, artifact_uri, "", via_env=False)

    # ---- a plain folder source, and the default local store -----------------------
    package = os.path.join(work, "package")
    os.makedirs(package)
    out, _ = cli("models", "list")
    assert "No registered models" in out, out
    out, _ = cli("models", "register", package, "from-folder", "--alias", "champion")
    assert "Registered from-folder version 1" in out, out
    out, _ = cli("models", "resolve", "models:/from-folder@champion")
    assert out.splitlines()[1] == package, out
    assert os.path.exists(os.path.join(work, "home", "mlruns.db"))
    status, _ = api("GET", "registered-models/get?" + query({"name": "from-folder"}))
    assert status == 404, "the default store is not the server's"
    print("models e2e: ok")
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
