#!/usr/bin/env bash
# Plain SGD: two workers with batch b end with the weights of one worker
# with batch 2b (within floating-point tolerance), through the whole trainer.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
export MLFORGE_HOME="$out/home"
common=(--data-dir "$data" --no-progress --threads 1 --tracking-uri "sqlite:///$out/mlruns.db"
        --set model.kind=mlp --set model.dropout=0 --set optimizer.momentum=0
        --set optimizer.nesterov=false --set optimizer.weight_decay=0 --set schedule.name=constant
        --set schedule.warmup_steps=0 --set data.limit_train=1280 --set data.limit_test=200
        --set train.epochs=2)
"$mlforge" train "$config" "${common[@]}" --run-dir "$out/one" --set train.batch_size=64 \
  > "$out/one.log" 2>&1 || { cat "$out/one.log"; exit 1; }
"$mlforge" train "$config" "${common[@]}" --run-dir "$out/two" --set train.batch_size=32 --nproc 2 \
  > "$out/two.log" 2>&1 || { cat "$out/two.log"; exit 1; }
/usr/bin/python3 - "$out/one/model/model.pt" "$out/two/model/model.pt" <<'PY'
import sys, torch
one = dict(torch.jit.load(sys.argv[1]).named_parameters())
two = dict(torch.jit.load(sys.argv[2]).named_parameters())
assert one.keys() == two.keys() and one, (one.keys(), two.keys())
worst = max((one[k] - two[k]).abs().max().item() for k in one)
assert worst < 1e-4, worst
print(f"{len(one)} tensors, largest difference {worst:.2e}")
PY
