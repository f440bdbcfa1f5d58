"""SIGKILL of `mlforge server` during sustained concurrent logging loses no
acknowledged write, never leaves half a log-batch behind, and a restart on the
same store carries on.

Eight client threads each own a run and log, as fast as the server answers,
single metrics (runs/log-metric) and batches of metrics plus a param
(runs/log-batch). Every write the server answered 200 is remembered. The
server is killed with SIGKILL while the clients are busy, restarted on the
same SQLite file, and each remembered write is looked up again; this repeats
for several rounds. Standard library only.

Usage: server_kill_e2e.py MLFORGE_BINARY WORK_DIR
"""
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

mlforge, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
database = f"{work}/mlruns.db"
CLIENTS = 8
ROUNDS = 3
BATCH = 10


def start_server():
    server = subprocess.Popen(
        [mlforge, "server", "--port", "0", "--backend-store-uri", f"sqlite:///{database}",
         "--artifacts-destination", f"{work}/artifacts"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline()
    match = re.search(r"http://([\d.]+):(\d+)", line)
    assert match, f"no address in {line!r}"
    return server, match.group(1), int(match.group(2))


class Api:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, host, port):
        self.host, self.port, self.connection = host, port, None

    def call(self, method, endpoint, body=None, query=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        path = "/api/2.0/mlflow/" + endpoint
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
            return response.status, json.loads(payload or b"{}")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise


def history(api, run_id, key):
    """Every (step, value) of one metric, following page tokens."""
    points, token = set(), None
    while True:
        query = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        if token:
            query["page_token"] = token
        status, body = api.call("GET", "metrics/get-history", query=query)
        assert status == 200, body
        points.update((m["step"], m["value"]) for m in body.get("metrics", []))
        token = body.get("next_page_token")
        if not token:
            return points


server, host, port = start_server()
api = Api(host, port)
status, created = api.call("POST", "experiments/create", {"name": "kill-e2e"})
assert status == 200, created
experiment_id = created["experiment_id"]
run_ids = []
for client in range(CLIENTS):
    status, run = api.call("POST", "runs/create", {"experiment_id": experiment_id,
                                                  "start_time": 1, "run_name": f"c{client}"})
    assert status == 200, run
    run_ids.append(run["run"]["info"]["run_id"])

# Per client: acknowledged single metrics (step -> value), acknowledged
# batches (first step of each), acknowledged params, and batches sent but
# not acknowledged (the kill came first): those may or may not be stored,
# but never in part.
acked_single = [dict() for _ in range(CLIENTS)]
acked_batches = [[] for _ in range(CLIENTS)]
acked_params = [dict() for _ in range(CLIENTS)]
unacked_batches = [[] for _ in range(CLIENTS)]
next_step = [0] * CLIENTS


def batch_metrics(start):
    return [{"key": "batched", "value": start + i * 0.5, "timestamp": 1000 + start + i,
             "step": start + i} for i in range(BATCH)]


def client_loop(index, address, stop):
    client_api = Api(*address)
    failures = 0
    while not stop.is_set() and failures < 50:
        step = next_step[index]
        next_step[index] += BATCH
        try:
            if step // BATCH % 2 == 0:
                body = {"run_id": run_ids[index], "key": "single", "value": step * 0.25,
                        "timestamp": 1000 + step, "step": step}
                status, _ = client_api.call("POST", "runs/log-metric", body)
                if status == 200:
                    acked_single[index][step] = step * 0.25
            else:
                param = (f"p{step}", str(step))
                body = {"run_id": run_ids[index], "metrics": batch_metrics(step),
                        "params": [{"key": param[0], "value": param[1]}]}
                unacked_batches[index].append(step)
                status, _ = client_api.call("POST", "runs/log-batch", body)
                if status == 200:
                    unacked_batches[index].pop()
                    acked_batches[index].append(step)
                    acked_params[index][param[0]] = param[1]
            failures = 0
        except (OSError, http.client.HTTPException):
            failures += 1
            time.sleep(0.01)


total_acked = 0
for round_number in range(ROUNDS):
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(i, (host, port), stop))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    acked_before_kill = sum(len(a) for a in acked_single) + sum(len(b) for b in acked_batches)
    assert acked_before_kill > 0, "no write was acknowledged before the kill"
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join()

    # The file is a sound SQLite database straight after the kill.
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    server, host, port = start_server()
    api = Api(host, port)
    for index, run_id in enumerate(run_ids):
        singles = history(api, run_id, "single")
        for step, value in acked_single[index].items():
            assert (step, value) in singles, f"round {round_number}: acknowledged metric " \
                f"single@{step} of run {run_id} is lost"
        batched = history(api, run_id, "batched")
        for start in acked_batches[index]:
            for metric in batch_metrics(start):
                assert (metric["step"], metric["value"]) in batched, \
                    f"round {round_number}: acknowledged batch at step {start} is lost"
        for start in unacked_batches[index]:
            present = [(m["step"], m["value"]) in batched for m in batch_metrics(start)]
            assert all(present) or not any(present), \
                f"round {round_number}: half a log-batch at step {start} survived the kill"
        status, run = api.call("GET", "runs/get", query={"run_id": run_id})
        assert status == 200, run
        params = {p["key"]: p["value"] for p in run["run"]["data"].get("params", [])}
        for key, value in acked_params[index].items():
            assert params.get(key) == value, f"acknowledged param {key} of run {run_id} is lost"
    unacked = sum(len(u) for u in unacked_batches)
    acked_now = sum(len(a) for a in acked_single) + sum(len(b) for b in acked_batches)
    print(f"round {round_number + 1}: {acked_now - total_acked} writes acknowledged, "
          f"all found after SIGKILL and restart ({unacked} batches in flight at kills so far)")
    total_acked = acked_now
    for pending in unacked_batches:
        pending.clear()

# After the last restart the server still takes writes.
status, body = api.call("POST", "runs/update", {"run_id": run_ids[0], "status": "FINISHED",
                                                "end_time": 2})
assert status == 200, body
server.send_signal(signal.SIGTERM)
assert server.wait(timeout=30) == 0
print(f"ok: {total_acked} acknowledged writes over {ROUNDS} SIGKILLs, none lost")
