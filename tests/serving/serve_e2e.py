"""`mlforge serve` as a real process over the package `mlforge train` wrote:
MLflow scoring, KServe V2 and TF Serving REST give the predictions
`mlforge predict` gives on the same MNIST test images; bad input is 400;
concurrent requests are batched (the batch-size histogram shows it); SIGTERM
drains a request in flight and exits 0.

usage: serve_e2e.py MLFORGE PACKAGE_DIR MNIST_DIR
Standard library only."""
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

mlforge, package, mnist = sys.argv[1:4]
ROWS = 6

# ---- what `mlforge predict` says ------------------------------------------
images_file = f"{mnist}/t10k-images-idx3-ubyte"


def predict_cli(*extra):
    result = subprocess.run([mlforge, "predict", package, "--input", images_file, "--limit", str(ROWS),
                             *extra], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["predictions"]


expected_classes = predict_cli()
expected_scores = predict_cli("--raw")
raw = open(images_file, "rb").read()
images = [list(raw[16 + row * 784:16 + (row + 1) * 784]) for row in range(ROWS)]


# ---- a server ---------------------------------------------------------------
def start_server(*extra):
    process = subprocess.Popen([mlforge, "serve", package, "--name", "mnist", "--port", "0", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    for line in process.stdout:
        found = re.search(r"listening on http://([\d.]+:\d+)", line)
        if found:
            return process, f"http://{found.group(1)}"
        assert time.time() < deadline, "the server did not start"
    raise AssertionError(f"the server exited: {process.stderr.read()}")


def call(base, path, body=None, content_type="application/json"):
    data = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def call_json(base, path, body=None, content_type="application/json"):
    status, text, _ = call(base, path, body, content_type)
    return status, json.loads(text)


def close(scores, expected):
    return len(scores) == len(expected) and all(
        abs(a - b) <= 1e-3 * max(1.0, abs(b)) for a, b in zip(scores, expected))


server, base = start_server("--max-delay-us", "30000", "--max-batch", "64")
try:
    # Health.
    assert call(base, "/ping")[0] == 200
    assert call_json(base, "/v2/health/ready") == (200, {"ready": True})
    assert call_json(base, "/v2/health/live") == (200, {"live": True})

    # MLflow scoring, every form.
    columns = [f"pixel{i}" for i in range(784)]
    status, body = call_json(base, "/invocations", {"dataframe_split": {"columns": columns, "data": images}})
    assert status == 200 and body == {"predictions": expected_classes}, (status, body, expected_classes)
    status, body = call_json(base, "/invocations", {"instances": images})
    assert body == {"predictions": expected_classes}, body
    nested = [[[image[r * 28:(r + 1) * 28] for r in range(28)]] for image in images]  # [rows, 1, 28, 28]
    status, body = call_json(base, "/invocations", {"inputs": nested})
    assert body == {"predictions": expected_classes}, body
    csv = ",".join(columns) + "\n" + "\n".join(",".join(map(str, image)) for image in images) + "\n"
    status, body = call_json(base, "/invocations", csv, "text/csv")
    assert body == {"predictions": expected_classes}, body
    status, body = call_json(base, "/invocations", {"columns": columns, "data": images},
                             "application/json; format=pandas-split")
    assert status == 200 and body == expected_classes, (status, body)

    # KServe V2.
    status, metadata = call_json(base, "/v2/models/mnist")
    assert status == 200 and metadata["inputs"][0]["shape"] == [-1, 1, 28, 28], metadata
    input_name = metadata["inputs"][0]["name"]
    flat = [value for image in images for value in image]
    status, body = call_json(base, "/v2/models/mnist/versions/1/infer", {
        "id": "e2e-1",
        "inputs": [{"name": input_name, "shape": [ROWS, 1, 28, 28], "datatype": "FP32", "data": flat}]})
    assert status == 200 and body["id"] == "e2e-1" and body["model_version"] == "1", body
    outputs = {output["name"]: output for output in body["outputs"]}
    assert outputs["predictions"]["data"] == expected_classes, (outputs["predictions"], expected_classes)
    assert outputs["predictions"]["datatype"] == "INT64"
    assert outputs["scores"]["shape"] == [ROWS, 10]
    assert close(outputs["scores"]["data"], [v for row in expected_scores for v in row])

    # TF Serving.
    status, body = call_json(base, "/v1/models/mnist")
    assert body["model_version_status"][0]["state"] == "AVAILABLE", body
    status, body = call_json(base, "/v1/models/mnist:predict", {"instances": images})
    assert status == 200, body
    assert [row["predictions"] for row in body["predictions"]] == expected_classes, body
    assert all(close(row["scores"], want) for row, want in zip(body["predictions"], expected_scores))
    status, body = call_json(base, "/v1/models/mnist/versions/1:predict", {"inputs": {input_name: images}})
    assert status == 200 and body["outputs"]["predictions"] == expected_classes, body

    # Bad input is 400 on every protocol, in each protocol's error shape.
    status, body = call_json(base, "/invocations", {"instances": [[1, 2, 3]]})
    assert status == 400 and body["error_code"] == "BAD_REQUEST" and "784" in body["message"], body
    status, body = call_json(base, "/invocations", {"instancez": images})
    assert status == 400 and body["error_code"] == "BAD_REQUEST", body
    status, body = call_json(base, "/v2/models/mnist/infer", {
        "inputs": [{"name": input_name, "shape": [1, 784], "datatype": "FP32", "data": [0] * 10}]})
    assert status == 400 and "error" in body, body
    status, body = call_json(base, "/v1/models/mnist:predict", {"instances": [[0] * 5]})
    assert status == 400 and "error" in body, body
    status, body = call_json(base, "/v1/models/nope:predict", {"instances": images})
    assert status == 404 and "error" in body, body

    # Concurrent one-row requests from all three protocols are batched.
    failures = []

    def one(index):
        image = images[index % ROWS]
        kind = index % 3
        if kind == 0:
            status, body = call_json(base, "/invocations", {"instances": [image]})
            got = body.get("predictions", [None])[0]
        elif kind == 1:
            status, body = call_json(base, "/v2/models/mnist/infer", {
                "inputs": [{"name": input_name, "shape": [1, 784], "datatype": "FP32", "data": image}]})
            got = body["outputs"][0]["data"][0] if status == 200 else None
        else:
            status, body = call_json(base, "/v1/models/mnist:predict", {"instances": [image]})
            got = body["predictions"][0]["predictions"] if status == 200 else None
        if status != 200 or got != expected_classes[index % ROWS]:
            failures.append((index, status, body))

    threads = [threading.Thread(target=one, args=(index,)) for index in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    metrics = call(base, "/metrics")[1]
    count = float(re.search(r'mlforge_serving_batch_size_count\{model="mnist",version="1"\} (\S+)', metrics).group(1))
    rows = float(re.search(r'mlforge_serving_batch_size_sum\{model="mnist",version="1"\} (\S+)', metrics).group(1))
    ones = float(re.search(r'mlforge_serving_batch_size_bucket\{model="mnist",version="1",le="1"\} (\S+)', metrics).group(1))
    assert ones < count and rows > count, f"no batch had more than one row: {count} calls, {rows} rows"
    assert re.search(r'mlforge_serving_requests_total\{protocol="tfserving",model="mnist",version="1",status="400"\} 1', metrics)
    assert re.search(r'mlforge_serving_requests_total\{protocol="kserve_v2",model="mnist",version="1",status="200"\}', metrics)
    print(f"batching: {int(rows)} rows in {int(count)} model calls")
finally:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0, server.stderr.read()

# SIGTERM while a request waits in the batcher: it is answered, then exit 0.
server, base = start_server("--max-delay-us", "800000")
answer = {}


def slow():
    answer["result"] = call_json(base, "/invocations", {"instances": [images[0]]})


thread = threading.Thread(target=slow)
thread.start()
time.sleep(0.3)
server.send_signal(signal.SIGTERM)
thread.join(timeout=30)
assert answer.get("result") == (200, {"predictions": [expected_classes[0]]}), answer
assert server.wait(timeout=30) == 0
assert "draining" in server.stderr.read()
print(f"serve e2e: three protocols agree with mlforge predict on {ROWS} images: {expected_classes}")
