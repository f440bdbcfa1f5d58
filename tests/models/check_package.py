"""A package written by `mlforge train` loads in Python with torch.jit.load
and gives the same outputs as `mlforge predict`, whatever the input format."""
import json
import subprocess
import sys
import tempfile

import torch

mlforge, model_dir, data_dir = sys.argv[1:4]
rows = 5

mlmodel = open(f"{model_dir}/MLmodel").read()
for field in ("flavors:", "torchscript:", "model_file: model.pt", "signature:", "run_id:",
              "utc_time_created:", "model_uuid:", "mlforge_version:", "saved_input_example_info:"):
    assert field in mlmodel, f"MLmodel lacks {field}"

module = torch.jit.load(f"{model_dir}/model.pt")
module.eval()
raw = open(f"{data_dir}/t10k-images-idx3-ubyte", "rb").read()
images = torch.tensor(list(raw[16:16 + rows * 784]), dtype=torch.float32).reshape(rows, 1, 28, 28)
with torch.no_grad():
    python_scores = module(images)


def predict(path, *extra):
    result = subprocess.run([mlforge, "predict", model_dir, "--input", path, "--limit", str(rows), *extra],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["predictions"]


idx_scores = torch.tensor(predict(f"{data_dir}/t10k-images-idx3-ubyte", "--raw"))
assert torch.allclose(python_scores, idx_scores, atol=1e-4), (python_scores, idx_scores)

with tempfile.TemporaryDirectory() as tmp:
    with open(f"{tmp}/rows.csv", "w") as csv:
        csv.write(",".join(f"pixel{i}" for i in range(784)) + "\n")
        for row in images.reshape(rows, 784).tolist():
            csv.write(",".join(str(int(v)) for v in row) + "\n")
    with open(f"{tmp}/rows.json", "w") as rows_json:
        json.dump({"instances": images.reshape(rows, 784).tolist()}, rows_json)
    csv_classes = predict(f"{tmp}/rows.csv")
    json_classes = predict(f"{tmp}/rows.json")

expected_classes = python_scores.argmax(1).tolist()
assert csv_classes == expected_classes, (csv_classes, expected_classes)
assert json_classes == expected_classes, (json_classes, expected_classes)
example = predict(f"{model_dir}/input_example.json")
assert len(example) == 2, example
print(f"python and mlforge agree on {rows} rows: classes {expected_classes}")
