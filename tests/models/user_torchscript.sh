#!/usr/bin/env bash
# A user's scripted module (made with python3-torch) trains as it is, and the
# trained package still loads in Python with weights that moved.
set -euo pipefail
mlforge=$1 data=$2 out=$3
here=$(dirname "$0")
rm -rf "$out" && mkdir -p "$out"
/usr/bin/python3 "$here/make_user_module.py" "$out/user.pt"
"$mlforge" train "$here/../../examples/mnist/train.yaml" --data-dir "$data" --run-dir "$out/run" \
  --no-progress --threads 1 --set model="{torchscript: $out/user.pt}" \
  --set data.limit_train=6000 --set train.epochs=1 --set schedule.warmup_steps=20
/usr/bin/python3 - "$out" <<'PY'
import json, sys, torch
out = sys.argv[1]
before = torch.jit.load(f"{out}/user.pt")
after = torch.jit.load(f"{out}/run/model/model.pt")
assert type(after).__name__ == type(before).__name__
assert not torch.equal(before.hidden.weight, after.hidden.weight), "weights did not train"
accuracy = json.load(open(f"{out}/run/summary.json"))["val_accuracy"]
assert accuracy > 0.8, accuracy
mlmodel = open(f"{out}/run/model/MLmodel").read()
assert "model_kind: torchscript" in mlmodel, mlmodel
print(f"user TorchScript module trained to {accuracy:.4f}")
PY
