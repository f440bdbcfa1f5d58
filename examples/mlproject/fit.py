"""Fits y = a*x + b to seeded synthetic data by gradient descent and logs the
loss per epoch and the fitted coefficients into the run that `mlforge run`
(or `mlflow run`) started for it.

It needs only the Python standard library. It logs with the `mlflow` package
when that is installed (mlflow.start_run() joins the run named by
MLFLOW_RUN_ID), else over MLflow's REST API when MLFLOW_TRACKING_URI is an
http(s):// server, and otherwise just prints (a local sqlite:/// store is
written by mlforge itself: params, tags and status).
"""
import argparse
import json
import os
import random
import time
import urllib.request


def rest_logger(tracking_uri, run_id):
    def log(metrics, step):
        now = int(time.time() * 1000)
        body = {"run_id": run_id,
                "metrics": [{"key": key, "value": value, "timestamp": now, "step": step}
                            for key, value in metrics.items()]}
        request = urllib.request.Request(
            tracking_uri.rstrip("/") + "/api/2.0/mlflow/runs/log-batch",
            data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    return log


def make_logger():
    run_id = os.environ.get("MLFLOW_RUN_ID", "")
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    try:
        import mlflow  # noqa: F401  (optional)
        mlflow.start_run(run_id=run_id or None)
        return lambda metrics, step: mlflow.log_metrics(metrics, step=step), "mlflow"
    except ImportError:
        pass
    if run_id and tracking_uri.startswith(("http://", "https://")):
        return rest_logger(tracking_uri, run_id), "REST"
    return (lambda metrics, step: None), "none"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--noise", type=float, required=True)
    args, unknown = parser.parse_known_args()
    if unknown:
        print("extra parameters:", " ".join(unknown))

    rng = random.Random(args.seed)
    xs = [rng.uniform(-1, 1) for _ in range(200)]
    ys = [3.0 * x - 0.5 + rng.gauss(0, args.noise) for x in xs]
    a, b = 0.0, 0.0
    log, how = make_logger()
    print(f"fitting 200 points for {args.epochs} epochs; logging via {how}", flush=True)
    for epoch in range(args.epochs):
        grad_a = sum(2 * (a * x + b - y) * x for x, y in zip(xs, ys)) / len(xs)
        grad_b = sum(2 * (a * x + b - y) for x, y in zip(xs, ys)) / len(xs)
        a -= args.learning_rate * grad_a
        b -= args.learning_rate * grad_b
        mse = sum((a * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        log({"mse": mse}, epoch + 1)
    log({"slope": a, "intercept": b}, args.epochs)
    print(f"slope {a:.4f} intercept {b:.4f} mse {mse:.5f}")


if __name__ == "__main__":
    main()
