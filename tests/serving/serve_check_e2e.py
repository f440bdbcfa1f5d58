"""`mlforge serve-check` end to end: the serving stack in-process on a
loopback port scores the first N MNIST test images through POST
/invocations; its predictions and accuracy equal `mlforge predict`'s, also
for a models:/ URI from a SQLite registry; a broken package, input that does
not fit and a missing model all exit non-zero with a clear message.

usage: serve_check_e2e.py MLFORGE PACKAGE_DIR MNIST_DIR WORK_DIR
Standard library only."""
import json
import os
import shutil
import subprocess
import sys

mlforge, package, mnist, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
env = dict(os.environ, MLFORGE_HOME=f"{work}/home", MLFLOW_TRACKING_URI="")
images = f"{mnist}/t10k-images-idx3-ubyte"
labels = f"{mnist}/t10k-labels-idx1-ubyte"


def run(*args):
    return subprocess.run([mlforge, *args], capture_output=True, text=True, env=env, timeout=300)


expected = run("predict", package, "--input", images, "--limit", "50", "--labels", labels)
assert expected.returncode == 0, expected.stderr
expected = json.loads(expected.stdout)

checked = run("serve-check", package, "--input", images, "--labels", labels, "--limit", "50",
              "--rows-per-request", "7")
assert checked.returncode == 0, checked.stderr
report = json.loads(checked.stdout)
assert report["predictions"] == expected["predictions"], (report, expected)
assert report["rows"] == 50 and abs(report["accuracy"] - expected["accuracy"]) < 1e-9, report
assert "50 rows in 8 requests" in checked.stderr, checked.stderr

# Through a registry.
store = f"sqlite:///{work}/mlruns.db"
registered = run("models", "register", package, "digits", "--alias", "champion", "--tracking-uri", store)
assert registered.returncode == 0, registered.stderr
checked = run("serve-check", "models:/digits@champion", "--input", images, "--limit", "10",
              "--tracking-uri", store)
assert checked.returncode == 0, checked.stderr
report = json.loads(checked.stdout)
assert report["model"] == "digits" and report["version"] == 1, report
assert report["predictions"] == expected["predictions"][:10], report

# Failures exit non-zero and say why.
broken = f"{work}/broken"
shutil.copytree(package, broken)
with open(f"{broken}/model.pt", "wb") as handle:
    handle.write(b"not TorchScript")
failed = run("serve-check", broken, "--input", images, "--limit", "5")
assert failed.returncode != 0 and "error: serve-check:" in failed.stderr, failed.stderr
csv = f"{work}/rows.csv"
with open(csv, "w") as handle:
    handle.write("a,b\n1,2\n")
failed = run("serve-check", package, "--input", csv)
assert failed.returncode != 0 and "784" in failed.stderr, failed.stderr
failed = run("serve-check", "models:/digits@nope", "--input", images, "--tracking-uri", store)
assert failed.returncode != 0 and "nope" in failed.stderr, failed.stderr
print("ok: serve-check agrees with mlforge predict; failures exit non-zero")
