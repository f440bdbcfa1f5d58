"""`mlforge server --auth` end to end: the real binary on loopback, driven
with the requests MLflow's clients send, with HTTP basic credentials
(MLFLOW_TRACKING_USERNAME/PASSWORD) and bearer tokens (MLFLOW_TRACKING_TOKEN),
and the basic-auth app's user and permission routes. Standard library only.

Usage: server_auth_e2e.py MLFORGE_BINARY WORK_DIR
"""
import base64
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


def start(extra, env=None):
    server = subprocess.Popen(
        [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{work}/mlruns.db",
         "--artifacts-destination", f"{work}/artifacts", "--auth-db", f"{work}/auth.db"] + extra,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, **(env or {})))
    line = server.stdout.readline()
    match = re.search(r"http://([\d.]+:\d+)", line)
    assert match, f"no address in {line!r}: {server.stderr.read() if server.poll() is not None else ''}"
    return server, f"http://{match.group(1)}"


def call(base, method, path, body=None, user=None, token=None, raw=None, query=None):
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None and raw is None:
        request.add_header("Content-Type", "application/json")
    if user:
        credentials = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def api(base, method, endpoint, body=None, user=None, token=None):
    query = None
    if method == "GET" and body is not None:
        query, body = body, None
    status, payload, _ = call(base, method, "/api/2.0/mlflow/" + endpoint, body, user, token,
                              query=query)
    try:
        return status, json.loads(payload or b"{}")
    except ValueError:
        return status, {"raw": payload.decode(errors="replace")}


# Without --auth, a non-loopback address is refused unless asked for.
refused = subprocess.run([mlforge, "server", "--host", "0.0.0.0", "--port", "0",
                          "--backend-store-uri", f"sqlite:///{work}/noauth.db"],
                         capture_output=True, text=True, timeout=30)
assert refused.returncode != 0 and "--auth" in refused.stderr, refused.stderr

admin = ("admin", "admin-secret-1")
alice = ("alice", "alice-pw-2")
bob = ("bob", "bob-pw-3")
server, base = start(["--auth"], {"MLFORGE_ADMIN_PASSWORD": admin[1]})
try:
    # The health probe stays open; everything else needs a user.
    assert call(base, "GET", "/health")[0] == 200
    status, payload, headers = call(base, "GET", "/api/2.0/mlflow/experiments/get",
                                    query={"experiment_id": "0"})
    assert status == 401, status
    assert json.loads(payload)["error_code"] == "UNAUTHENTICATED", payload
    assert headers.get("WWW-Authenticate") == 'Basic realm="mlflow"', headers
    assert api(base, "GET", "experiments/get", {"experiment_id": "0"}, user=("admin", "x"))[0] == 401

    # The admin creates users (MLflow's AuthServiceClient.create_user).
    for who in (alice, bob):
        status, body = api(base, "POST", "users/create", {"username": who[0], "password": who[1]},
                           user=admin)
        assert status == 200 and body["user"]["username"] == who[0], body
    assert api(base, "POST", "users/create", {"username": "x", "password": "y"}, user=alice)[0] == 403
    assert api(base, "POST", "users/create", {"username": "bob", "password": "z"},
               user=admin)[1]["error_code"] == "RESOURCE_ALREADY_EXISTS"

    # alice creates an experiment and a run in it: she manages it.
    status, body = api(base, "POST", "experiments/create", {"name": "alice-exp"}, user=alice)
    assert status == 200, body
    experiment_id = body["experiment_id"]
    status, body = api(base, "POST", "runs/create", {"experiment_id": experiment_id, "start_time": 1},
                       user=alice)
    assert status == 200, body
    run_id = body["run"]["info"]["run_id"]
    artifact = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/note.txt"
    assert call(base, "PUT", artifact, raw=b"hello", user=alice)[0] == 200
    status, body = api(base, "GET", "experiments/permissions/get",
                       {"experiment_id": experiment_id, "username": "alice"}, user=alice)
    assert status == 200 and body["experiment_permission"]["permission"] == "MANAGE", body

    # bob has the default READ: reads, downloads, but cannot log or upload.
    metric = {"run_id": run_id, "key": "loss", "value": 0.25, "timestamp": 5, "step": 1}
    assert api(base, "GET", "runs/get", {"run_id": run_id}, user=bob)[0] == 200
    assert call(base, "GET", artifact, user=bob)[:2] == (200, b"hello")
    status, body = api(base, "POST", "runs/log-metric", metric, user=bob)
    assert status == 403 and body["error_code"] == "PERMISSION_DENIED", body
    assert call(base, "PUT", artifact, raw=b"overwritten", user=bob)[0] == 403
    assert api(base, "POST", "experiments/permissions/create",
               {"experiment_id": experiment_id, "username": "bob", "permission": "EDIT"},
               user=bob)[0] == 403

    # alice grants EDIT: bob logs, still cannot delete.
    status, body = api(base, "POST", "experiments/permissions/create",
                       {"experiment_id": experiment_id, "username": "bob", "permission": "EDIT"},
                       user=alice)
    assert status == 200 and body["experiment_permission"]["permission"] == "EDIT", body
    assert api(base, "POST", "runs/log-metric", metric, user=bob)[0] == 200
    assert api(base, "POST", "runs/delete", {"run_id": run_id}, user=bob)[0] == 403

    # NO_PERMISSIONS hides the experiment from bob's searches too.
    assert api(base, "PATCH", "experiments/permissions/update",
               {"experiment_id": experiment_id, "username": "bob", "permission": "NO_PERMISSIONS"},
               user=alice)[0] == 200
    assert api(base, "GET", "runs/get", {"run_id": run_id}, user=bob)[0] == 403
    status, body = api(base, "POST", "experiments/search", {"max_results": 100}, user=bob)
    assert status == 200, body
    assert experiment_id not in [e["experiment_id"] for e in body.get("experiments", [])], body
    status, body = api(base, "POST", "experiments/search", {"max_results": 100}, user=alice)
    assert experiment_id in [e["experiment_id"] for e in body["experiments"]], body

    # Registry: the creator manages the model; others read; rename keeps grants.
    status, body = api(base, "POST", "registered-models/create", {"name": "mnist"}, user=alice)
    assert status == 200, body
    status, body = api(base, "POST", "model-versions/create",
                       {"name": "mnist", "source": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model",
                        "run_id": run_id}, user=alice)
    assert status == 200, body
    assert api(base, "GET", "registered-models/get", {"name": "mnist"}, user=bob)[0] == 200
    assert api(base, "POST", "registered-models/set-tag",
               {"name": "mnist", "key": "k", "value": "v"}, user=bob)[0] == 403
    assert api(base, "DELETE", "registered-models/delete", {"name": "mnist"}, user=bob)[0] == 403
    assert api(base, "POST", "registered-models/rename", {"name": "mnist", "new_name": "digits"},
               user=alice)[0] == 200
    status, body = api(base, "GET", "registered-models/permissions/get",
                       {"name": "digits", "username": "alice"}, user=alice)
    assert status == 200 and body["registered_model_permission"]["permission"] == "MANAGE", body

    # Users see themselves, not each other; only admins change admin rights.
    assert api(base, "GET", "users/get", {"username": "alice"}, user=alice)[0] == 200
    assert api(base, "GET", "users/get", {"username": "alice"}, user=bob)[0] == 403
    assert api(base, "PATCH", "users/update-admin", {"username": "bob", "is_admin": "true"},
               user=bob)[0] == 403

    # Bearer tokens (MLFLOW_TRACKING_TOKEN): issued to the caller, shown once.
    status, payload, _ = call(base, "POST", "/api/2.0/mlforge/tokens/create", {"name": "ci"}, user=bob)
    assert status == 200, payload
    token = json.loads(payload)["token"]
    assert token.startswith("mlf_")
    assert api(base, "GET", "users/get", {"username": "bob"}, token=token)[0] == 200
    assert api(base, "GET", "users/get", {"username": "bob"}, token=token + "x")[0] == 401

    # mlforge's own client sends MLflow's environment credentials.
    def cli(env):
        return subprocess.run([mlforge, "experiments", "list", "--tracking-uri", base],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "MLFLOW_TRACKING_USERNAME": "",
                                   "MLFLOW_TRACKING_PASSWORD": "", "MLFLOW_TRACKING_TOKEN": "", **env})
    listed = cli({"MLFLOW_TRACKING_USERNAME": alice[0], "MLFLOW_TRACKING_PASSWORD": alice[1]})
    assert listed.returncode == 0 and "alice-exp" in listed.stdout, listed.stdout + listed.stderr
    listed = cli({"MLFLOW_TRACKING_TOKEN": token})
    assert listed.returncode == 0 and "alice-exp" not in listed.stdout, listed.stdout + listed.stderr
    anonymous = cli({})
    assert anonymous.returncode != 0 and "authenticated" in anonymous.stderr, anonymous.stderr

    # A password change retires the old one; a deleted user is locked out.
    assert api(base, "PATCH", "users/update-password", {"username": "bob", "password": "new-pw-4"},
               user=bob)[0] == 200
    assert api(base, "GET", "users/get", {"username": "bob"}, user=bob)[0] == 401
    bob = ("bob", "new-pw-4")
    assert api(base, "GET", "users/get", {"username": "bob"}, user=bob)[0] == 200
    assert api(base, "DELETE", "users/delete", {"username": "bob"}, user=admin)[0] == 200
    assert api(base, "GET", "experiments/get", {"experiment_id": "0"}, user=bob)[0] == 401
    assert api(base, "GET", "experiments/get", {"experiment_id": "0"}, token=token)[0] == 401
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

# Users and grants persist across restarts; the admin is not recreated.
server, base = start(["--app-name", "basic-auth"])
try:
    status, body = api(base, "GET", "experiments/permissions/get",
                       {"experiment_id": experiment_id, "username": "alice"}, user=alice)
    assert status == 200 and body["experiment_permission"]["permission"] == "MANAGE", body
    assert api(base, "GET", "experiments/get", {"experiment_id": "0"}, user=admin)[0] == 200
finally:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
print("ok: basic auth, bearer tokens, permissions and the users routes behave as MLflow's")
