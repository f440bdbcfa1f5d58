"""bench/ddp: mlforge's data-parallel training against PyTorch DDP in Python.

Workloads (MNIST, one epoch over the first LIMIT training rows, batch 64 per
worker, one intra-op thread per worker, Gloo on loopback, one after the other):
  1. MLP 784-256-128-10: 2 workers each side.
  2. CNN of examples/mnist/train.yaml: 2 workers each side, and 1 worker each
     side for the 1 -> 2 worker scaling.
  3. The parameter-server strategy (dist.strategy: ps) on the MLP, 2 workers:
     sync with sync_every 1 and 2, and async with sync_every 2, max_staleness 1,
     reported beside our ddp figure of workload 1 (PyTorch DDP has no ps).
  4. Time to 99% test accuracy: examples/mnist/train.yaml as it is (the CNN,
     all 60,000 rows, 3 epochs, evaluated after every epoch) with --nproc 2;
     the wall time from the launch to the first evaluation at >= 99%.
Prints training samples/s over all workers for each side and the ratio
ours / peer. Each run's test accuracy is checked against a floor before its
speed counts. The peer is bench/ddp/peer_ddp.py (DistributedSampler + DDP).

Usage: bench_ddp.py [--limit-mlp N] [--limit-cnn N] [--workloads mlp,cnn,cnn1,ps,cnn99]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLFORGE = os.path.join(ROOT, "build", "mlforge")
PEER = os.path.join(ROOT, "bench", "ddp", "peer_ddp.py")
CONFIG = os.path.join(ROOT, "examples", "mnist", "train.yaml")
HOME = os.environ.get("MLFORGE_HOME", os.path.join(ROOT, ".mlforge"))
DATA = os.environ.get("MLFORGE_BENCH_DATA", os.path.join(HOME, "data"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PS_VARIANTS = {
    "ps sync k=1": ["dist.strategy=ps", "dist.ps_mode=sync", "dist.sync_every=1"],
    "ps sync k=2": ["dist.strategy=ps", "dist.ps_mode=sync", "dist.sync_every=2"],
    "ps async k=2 s=1": ["dist.strategy=ps", "dist.ps_mode=async", "dist.sync_every=2", "dist.max_staleness=1"],
}


def run_ours(kind, workers, limit, workdir, extra=()):
    model = "{kind: mlp, layers: [256, 128], dropout: 0.0}" if kind == "mlp" else "{kind: cnn}"
    run_dir = os.path.join(workdir, f"ours-{kind}-{workers}-{len(os.listdir(workdir))}")
    settings = [arg for setting in extra for arg in ("--set", setting)]
    env = dict(os.environ, MLFORGE_HOME=os.path.join(workdir, "home"))
    subprocess.run([MLFORGE, "train", CONFIG, "--nproc", str(workers), "--run-dir", run_dir, "--threads", "1",
                    "--data-dir", DATA, "--no-progress", "--quiet", "--set", f"model={model}",
                    "--set", "train.epochs=1", "--set", "train.batch_size=64", "--set", f"data.limit_train={limit}",
                    "--set", "schedule.warmup_steps=20", "--set", "checkpoint.every_steps=0", *settings],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    return summary["samples_per_second"], summary["val_accuracy"]


def time_to_99(workdir):
    """Seconds from the launch of the example's 2-worker run to its first
    evaluation at >= 99% test accuracy (None when it never got there), and
    the final accuracy."""
    run_dir = os.path.join(workdir, "ours-cnn99")
    env = dict(os.environ, MLFORGE_HOME=os.path.join(workdir, "home"))
    start_ms = time.time() * 1000
    subprocess.run([MLFORGE, "train", CONFIG, "--nproc", "2", "--run-dir", run_dir, "--threads", "1",
                    "--data-dir", DATA, "--no-progress", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    reached = None
    with open(os.path.join(run_dir, "metrics.jsonl")) as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("key") == "val_accuracy" and record["value"] >= 0.99:
                reached = (record["timestamp"] - start_ms) / 1000
                break
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    return reached, summary["val_accuracy"]


def run_peer(kind, workers, limit):
    port = free_port()
    processes = []
    for rank in range(workers):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(workers), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        processes.append(subprocess.Popen(["/usr/bin/python3", PEER, os.path.join(DATA, "mnist"), kind,
                                           str(limit), "64"], stdout=subprocess.PIPE, text=True, env=env))
    outputs = [process.communicate()[0] for process in processes]
    if any(process.returncode != 0 for process in processes):
        sys.exit(f"peer {kind} x{workers} failed")
    record = json.loads([line for line in outputs[0].splitlines() if line.startswith("{")][-1])
    return record["samples_per_second"], record["val_accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-mlp", type=int, default=60000)
    parser.add_argument("--limit-cnn", type=int, default=12000)
    parser.add_argument("--workloads", default="mlp,cnn,cnn1,ps,cnn99",
                        help="comma-separated subset of mlp, cnn, cnn1 (1 worker), ps (needs mlp), "
                             "cnn99 (time to 99%% on the example)")
    args = parser.parse_args()
    chosen = set(args.workloads.split(","))
    if "ps" in chosen:
        chosen.add("mlp")
    floors = {"mlp": 0.85, "cnn": 0.85}
    rows = []
    ps_rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as workdir:
        for name, kind, workers, limit in (("mlp", "mlp", 2, args.limit_mlp), ("cnn", "cnn", 2, args.limit_cnn),
                                           ("cnn1", "cnn", 1, args.limit_cnn)):
            if name not in chosen:
                continue
            ours, ours_accuracy = run_ours(kind, workers, limit, workdir)
            peer, peer_accuracy = run_peer(kind, workers, limit)
            for side, accuracy in (("mlforge", ours_accuracy), ("peer", peer_accuracy)):
                if accuracy < floors[kind]:
                    sys.exit(f"{side} {kind} x{workers}: test accuracy {accuracy:.4f} below {floors[kind]}")
            rows.append((kind, workers, ours, peer, ours_accuracy, peer_accuracy))
            if name == "mlp" and "ps" in chosen:
                # In the same run, right after ddp on the same workload.
                for variant, extra in PS_VARIANTS.items():
                    rate, accuracy = run_ours(kind, workers, limit, workdir, extra)
                    if accuracy < floors[kind]:
                        sys.exit(f"mlforge {variant}: test accuracy {accuracy:.4f} below {floors[kind]}")
                    ps_rows.append((variant, rate, accuracy, ours, ours_accuracy))
        reached = time_to_99(workdir) if "cnn99" in chosen else None
    print(f"{'workload':<10}{'workers':>8}{'mlforge/s':>12}{'peer/s':>10}{'ratio':>8}{'acc ours':>10}{'acc peer':>10}")
    for kind, workers, ours, peer, ours_accuracy, peer_accuracy in rows:
        print(f"{kind:<10}{workers:>8}{ours:>12.0f}{peer:>10.0f}{ours / peer:>7.2f}x"
              f"{ours_accuracy:>10.4f}{peer_accuracy:>10.4f}")
    for variant, rate, accuracy, ddp, ddp_accuracy in ps_rows:
        print(f"mlp {variant:<17} 2 workers: {rate:.0f} samples/s ({rate / ddp:.2f}x our ddp's {ddp:.0f}), "
              f"test accuracy {accuracy:.4f} (ddp {ddp_accuracy:.4f})")
    if reached is not None:
        seconds, final = reached
        if seconds is None:
            print(f"CNN, 2 workers, examples/mnist/train.yaml: never reached 99% (final {final:.4f})")
        else:
            print(f"CNN, 2 workers, examples/mnist/train.yaml: 99% test accuracy after {seconds:.0f} s "
                  f"(final {final:.4f})")
    cnn = {workers: (ours, peer) for kind, workers, ours, peer, _, _ in rows if kind == "cnn"}
    if len(cnn) < 2:
        return
    print(f"CNN scaling 1 -> 2 workers: mlforge {cnn[2][0] / cnn[1][0]:.2f}x, peer {cnn[2][1] / cnn[1][1]:.2f}x "
          f"(ideal 2.00x)")


if __name__ == "__main__":
    main()
