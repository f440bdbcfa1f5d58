"""bench/train: mlforge's trainer against the same training in Python PyTorch.

Workloads (MNIST, batch 64, SGD with Nesterov momentum, cosine schedule with
warm-up, the same thread count on both sides, one after the other):
  1. MLP 784-256-128-10, one epoch: training samples/s; the Python side runs
     twice, with PyTorch's default SGD and with its multi-tensor (foreach) SGD.
  2. CNN of examples/mnist/train.yaml, up to 3 epochs: training samples/s of
     the first epoch, and the wall time from process start until test
     accuracy first reaches 99% (evaluated after each epoch).
Before timing counts, each run's test accuracy is checked against a floor, so
a broken trainer cannot look fast. Prints the BLAS library and thread count.

Usage: bench_train.py [--threads N] [--epochs-to-99 N]
"""
import argparse
import ctypes.util
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLFORGE = os.path.join(ROOT, "build", "mlforge")
PEER = os.path.join(ROOT, "bench", "train", "peer_train.py")
CONFIG = os.path.join(ROOT, "examples", "mnist", "train.yaml")
HOME = os.environ.get("MLFORGE_HOME", os.path.join(ROOT, ".mlforge"))
DATA = os.path.join(HOME, "data")
os.environ["MLFORGE_HOME"] = HOME


def blas_library():
    path = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    return os.path.realpath(path) if os.path.exists(path) else (ctypes.util.find_library("blas") or "unknown")


def run_ours(kind, epochs, threads, workdir):
    model = "{kind: mlp, layers: [256, 128], dropout: 0.0}" if kind == "mlp" else "{kind: cnn}"
    run_dir = os.path.join(workdir, f"ours-{kind}")
    start = time.time()
    subprocess.run([MLFORGE, "train", CONFIG, "--run-dir", run_dir, "--threads", str(threads),
                    "--no-progress", "--quiet", "--set", f"model={model}", "--set", f"train.epochs={epochs}",
                    "--set", "train.batch_size=64", "--set", "checkpoint.every_steps=0"],
                   check=True, stdout=subprocess.DEVNULL)
    # Epoch-level metrics arrive together; the "epoch" metric closes each group.
    epochs_seen, current = [], {}
    for line in open(os.path.join(run_dir, "metrics.jsonl")):
        record = json.loads(line)
        if record.get("type") != "metric":
            continue
        if record["key"] in ("samples_per_second", "val_accuracy"):
            current[record["key"]] = record["value"]
        if record["key"] == "val_accuracy":
            current["elapsed"] = record["timestamp"] / 1000.0 - start
        if record["key"] == "epoch":
            epochs_seen.append(current)
            current = {}
    return epochs_seen


def run_peer(kind, epochs, threads, foreach=False):
    output = subprocess.run(["/usr/bin/python3", PEER, os.path.join(DATA, "mnist"), kind, str(epochs), "64",
                             str(threads)] + (["foreach"] if foreach else []),
                            check=True, capture_output=True, text=True).stdout
    return [record for record in map(json.loads, (line for line in output.splitlines() if line.startswith("{")))
            if "epoch" in record]


def time_to(target, epochs):
    for record in epochs:
        if record.get("val_accuracy", 0) >= target:
            return record["elapsed"]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads on both sides (default 1)")
    parser.add_argument("--epochs-to-99", type=int, default=3, help="CNN epochs for the time-to-99%% run")
    args = parser.parse_args()
    if not os.path.exists(MLFORGE):
        sys.exit("error: build/mlforge is missing; run `make build` first")
    subprocess.run([MLFORGE, "--quiet", "data", "get", "mnist", "--dir", DATA], check=True, stdout=subprocess.DEVNULL)
    import torch
    blas_threads = 1 if args.threads > 1 else os.cpu_count()
    print(f"BLAS: {blas_library()} with {blas_threads} thread(s); intra-op threads per trainer: "
          f"{args.threads}; torch {torch.__version__}; cores: {os.cpu_count()}")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind, epochs, floor in (("mlp", 1, 0.95), ("cnn", args.epochs_to_99, 0.98)):
            ours = run_ours(kind, epochs, args.threads, workdir)
            peer = run_peer(kind, epochs, args.threads)
            for name, result in (("mlforge", ours), ("pytorch", peer)):
                accuracy = result[-1]["val_accuracy"]
                if accuracy < floor:
                    sys.exit(f"error: {name} {kind} reached only {accuracy:.4f} test accuracy (floor {floor})")
            rows.append((kind, ours, peer))
            if kind == "mlp":
                foreach = run_peer(kind, epochs, args.threads, foreach=True)
                rows.append(("mlp*", ours, foreach))
    print(f"{'workload':<10}{'mlforge samples/s':>20}{'pytorch samples/s':>20}{'ratio':>8}"
          f"{'mlforge acc':>13}{'pytorch acc':>13}")
    for kind, ours, peer in rows:
        ratio = ours[0]["samples_per_second"] / peer[0]["samples_per_second"]
        print(f"{kind:<10}{ours[0]['samples_per_second']:>20.0f}{peer[0]['samples_per_second']:>20.0f}{ratio:>7.2f}x"
              f"{ours[-1]['val_accuracy']:>13.4f}{peer[-1]['val_accuracy']:>13.4f}")
    print("mlp* = the same mlforge run against PyTorch with foreach SGD")
    _, ours, peer = rows[-1]
    ours_99, peer_99 = time_to(0.99, ours), time_to(0.99, peer)
    describe = lambda seconds: f"{seconds:.1f} s" if seconds else f"not reached in {args.epochs_to_99} epochs"
    print(f"CNN time to 99% test accuracy: mlforge {describe(ours_99)}, pytorch {describe(peer_99)}"
          + (f", ratio {peer_99 / ours_99:.2f}x" if ours_99 and peer_99 else ""))


if __name__ == "__main__":
    main()
