"""bench/serving: `mlforge serve` against MLflow-style Python scoring servers.

Model: the MLP 784-256-128-10, trained here by `mlforge train` (one short
epoch; its accuracy is checked) and served from its package (TorchScript).
Servers, one at a time, each on loopback:
  ours     mlforge serve PACKAGE (dynamic batching, default flags)
  flask    peer_flask.py under gunicorn, 2 sync workers (MLflow's classic
           scoring server: JSON -> pandas -> torch.jit model)
  fastapi  peer_fastapi.py under uvicorn, 2 workers (newer MLflow's server)
  limit    the same model's forward pass in process (mlforge_serving_bench),
           for 1 and 32 rows: no HTTP, no JSON
Workloads: POST /invocations with a 1-row and a 32-row 784-column
dataframe_split body (real MNIST test images), driven by wrk (post.lua) at
1, 16 and 64 connections, SECONDS each. Every server's answer to both bodies
is checked against `mlforge predict` before its time counts.
Prints requests/s, rows/s, p50 and p99 for every case, then the ratios: ours
vs the best peer per case, and ours (32-row) vs the in-process batched limit.

Usage: bench_serving.py [--seconds 3] [--connections 1,16,64]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
MLFORGE = os.path.join(BUILD, "mlforge")
LIMIT_BENCH = os.path.join(BUILD, "bench", "serving", "mlforge_serving_bench")
HERE = os.path.join(ROOT, "bench", "serving")
CONFIG = os.path.join(ROOT, "examples", "mnist", "train.yaml")
HOME = os.environ.get("MLFORGE_HOME", os.path.join(ROOT, ".mlforge"))
DATA = os.environ.get("MLFORGE_BENCH_DATA", os.path.join(HOME, "data"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(base, body):
    request = urllib.request.Request(base + "/invocations", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_ready(base, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early ({process.returncode}): {base}")
        try:
            with urllib.request.urlopen(base + "/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"server at {base} did not become ready")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(base, body_file, connections, seconds):
    threads = min(connections, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", os.path.join(HERE, "post.lua"),
                          base + "/invocations"],
                         capture_output=True, text=True, env=dict(os.environ, BODY_FILE=body_file))
    found = re.search(r"RESULT (\{.*\})", out.stdout)
    if out.returncode != 0 or not found:
        sys.exit(f"wrk failed: {out.stdout} {out.stderr}")
    result = json.loads(found.group(1))
    if result["status_errors"] or result["socket_errors"]:
        sys.exit(f"{base}: {result['status_errors']} error statuses and {result['socket_errors']} "
                 f"socket errors at {connections} connections; the figures would not count")
    # A case where nothing completed (an overloaded peer) counts as 0 req/s.
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", default="1,16,64")
    args = parser.parse_args()
    connections = [int(count) for count in args.connections.split(",")]
    for tool in ("wrk", "gunicorn"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/install-deps")
    work = tempfile.mkdtemp(prefix="mlforge-bench-serving-")
    env = dict(os.environ, MLFORGE_HOME=os.path.join(work, "home"))
    try:
        # ---- the model ---------------------------------------------------------
        if not os.path.exists(os.path.join(DATA, "mnist", "t10k-images-idx3-ubyte")):
            subprocess.run([MLFORGE, "data", "get", "mnist", "--dir", DATA], check=True)
        run_dir = os.path.join(work, "mlp")
        subprocess.run([MLFORGE, "train", CONFIG, "--run-dir", run_dir, "--data-dir", DATA,
                        "--no-progress", "--quiet", "--set",
                        "model={kind: mlp, layers: [256, 128], dropout: 0.0}",
                        "--set", "train.epochs=1", "--set", "data.limit_train=30000",
                        "--set", "checkpoint.every_steps=0"],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        accuracy = json.load(open(os.path.join(run_dir, "summary.json")))["val_accuracy"]
        if accuracy < 0.9:
            sys.exit(f"the MLP reached only {accuracy:.3f} test accuracy")
        package = os.path.join(run_dir, "model")
        images = os.path.join(DATA, "mnist", "t10k-images-idx3-ubyte")
        expected = json.loads(subprocess.run(
            [MLFORGE, "predict", package, "--input", images, "--limit", "32"],
            check=True, capture_output=True, text=True).stdout)["predictions"]
        raw = open(images, "rb").read()
        rows = [list(raw[16 + row * 784:16 + (row + 1) * 784]) for row in range(32)]
        columns = [f"pixel{index}" for index in range(784)]
        bodies = {}
        for count in (1, 32):
            path = os.path.join(work, f"body{count}.json")
            text = json.dumps({"dataframe_split": {"columns": columns, "data": rows[:count]}})
            open(path, "w").write(text)
            bodies[count] = (path, text)

        # ---- the in-process limit --------------------------------------------------
        limit = {}
        out = subprocess.run([LIMIT_BENCH, package, "--rows", "1,32", "--seconds", "1.5"],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            record = json.loads(line)
            limit[record["rows"]] = record

        # ---- the servers -------------------------------------------------------------
        def start_ours():
            process = subprocess.Popen([MLFORGE, "serve", package, "--name", "mlp", "--port", "0",
                                        "--quiet"], stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, text=True, env=env)
            for line in process.stdout:
                found = re.search(r"listening on (http://[\d.]+:\d+)", line)
                if found:
                    return process, found.group(1)
            sys.exit("mlforge serve did not start")

        shape = None

        def start_peer(kind):
            port = free_port()
            peer_env = dict(env, PEER_MODEL=os.path.join(package, "model.pt"), PEER_SHAPE=shape,
                            OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
            if kind == "flask":
                command = ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", HERE,
                           "--log-level", "warning", "peer_flask:app"]
            else:
                command = ["/usr/bin/python3", "-m", "uvicorn", "--app-dir", HERE, "--workers", "2",
                           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                           "--no-access-log", "peer_fastapi:app"]
            process = subprocess.Popen(command, env=peer_env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process)
            return process, base

        results = {}  # (server, rows, connections) -> wrk result
        for server in ("ours", "flask", "fastapi"):
            if server == "ours":
                process, base = start_ours()
                metadata = json.loads(urllib.request.urlopen(base + "/v2/models/mlp").read())
                shape = ",".join(str(size) for size in metadata["inputs"][0]["shape"][1:])
            else:
                process, base = start_peer(server)
            try:
                for count in (1, 32):
                    answer = post(base, bodies[count][1])["predictions"]
                    if answer != expected[:count]:
                        sys.exit(f"{server} answered {answer[:8]}... for {count} rows, "
                                 f"expected {expected[:8]}...")
                for count in (1, 32):
                    wrk(base, bodies[count][0], connections[-1], 1)  # warm up
                    for connection_count in connections:
                        result = wrk(base, bodies[count][0], connection_count, args.seconds)
                        results[(server, count, connection_count)] = result
                        print(f"  {server:8s} {count:2d} rows x {connection_count:2d} conns: "
                              f"{result['rps']:10.0f} req/s  p50 {result['p50_us'] / 1000:8.2f} ms  "
                              f"p99 {result['p99_us'] / 1000:8.2f} ms", flush=True)
            finally:
                stop(process)

        # ---- the table -----------------------------------------------------------------
        print()
        print(f"model MLP 784-256-128-10 (test accuracy {accuracy:.4f}); {os.cpu_count()} cores; "
              f"wrk {args.seconds} s per case; shared machine, figures indicative")
        print(f"in-process limit: 1 row {limit[1]['us_per_call']:.1f} us "
              f"({limit[1]['rows_per_second']:.0f} rows/s), 32 rows {limit[32]['us_per_call']:.1f} us "
              f"({limit[32]['rows_per_second']:.0f} rows/s)")
        print()
        header = f"{'server':8s} {'rows':>4s} {'conns':>5s} {'req/s':>10s} {'rows/s':>10s} " \
                 f"{'p50 ms':>8s} {'p99 ms':>8s}"
        print(header)
        for (server, count, connection_count), result in results.items():
            print(f"{server:8s} {count:4d} {connection_count:5d} {result['rps']:10.0f} "
                  f"{result['rps'] * count:10.0f} {result['p50_us'] / 1000:8.2f} "
                  f"{result['p99_us'] / 1000:8.2f}")
        print()
        print("ratios (ours / best peer; goals: >= 50x req/s on 1 row at 16 and 64 connections with "
              "our p99 below the peer's p50; 32-row rows/s >= 70% of the in-process limit):")
        for count in (1, 32):
            for connection_count in connections:
                ours = results[("ours", count, connection_count)]
                best_name = max(("flask", "fastapi"),
                                key=lambda name: results[(name, count, connection_count)]["rps"])
                best = results[(best_name, count, connection_count)]
                ratio = ours["rps"] / best["rps"] if best["rps"] > 0 else float("inf")
                line = (f"  {count:2d} rows x {connection_count:2d} conns: {ratio:7.1f}x "
                        f"{best_name}; our p99 {ours['p99_us'] / 1000:.2f} ms vs its p50 "
                        f"{best['p50_us'] / 1000:.2f} ms")
                if count == 32:
                    share = ours["rps"] * 32 / limit[32]["rows_per_second"]
                    line += f"; {100 * share:.0f}% of the in-process 32-row limit"
                print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
