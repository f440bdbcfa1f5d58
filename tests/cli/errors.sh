#!/usr/bin/env bash
# Bad input gets a clear message naming what is wrong, and a non-zero exit.
set -uo pipefail
mlforge=$1 data=$2 out=$3
config="$(dirname "$0")/../../examples/mnist/train.yaml"
rm -rf "$out" && mkdir -p "$out"
failures=0
cases=0

# expect_error "description" "pattern" command...
expect_error() {
  local description=$1 pattern=$2
  shift 2
  cases=$((cases + 1))
  local output
  output=$("$@" 2>&1)
  local code=$?
  if [ $code -eq 0 ]; then
    echo "FAIL: $description: exit code 0"; failures=$((failures + 1))
  elif ! grep -qE "$pattern" <<<"$output"; then
    echo "FAIL: $description: output lacks /$pattern/: $output"; failures=$((failures + 1))
  else
    echo "ok: $description"
  fi
}

expect_error "missing config" "config file .*not found" "$mlforge" train /nonexistent/train.yaml
expect_error "unknown dataset" "known datasets|mnist" "$mlforge" data get imagenet --dir "$out"
expect_error "unknown model kind" "unknown model.kind 'transformer'" \
  "$mlforge" train "$config" --data-dir "$data" --run-dir "$out/r1" --set model.kind=transformer
expect_error "wrong value type" "optimizer.lr' must be a number" \
  "$mlforge" train "$config" --data-dir "$data" --run-dir "$out/r2" --set optimizer.lr=fast
expect_error "dataset not fetched" "mlforge data get mnist" \
  "$mlforge" train "$config" --data-dir "$out/empty" --run-dir "$out/r3"
expect_error "resume without checkpoint" "cannot resume" \
  "$mlforge" train "$config" --resume "$out/r4" --data-dir "$data"
expect_error "not a package" "not a model package" "$mlforge" predict "$out" --input "$config"
head -c 1000 "$data/mnist/t10k-images-idx3-ubyte" > "$out/truncated-idx3-ubyte"
# The last case needs a model: train a tiny one first.
"$mlforge" train "$config" --data-dir "$data" --run-dir "$out/tiny" --no-progress --threads 1 \
  --set data.limit_train=500 --set train.epochs=1 >/dev/null 2>&1 || { echo "FAIL: tiny run"; exit 1; }
expect_error "truncated IDX names the file" "truncated-idx3-ubyte" \
  "$mlforge" predict "$out/tiny/model" --input "$out/truncated-idx3-ubyte" --format idx
echo '{"instances": [[1, 2, "x"]]}' > "$out/bad.json"
expect_error "non-numeric JSON" "every value must be a number" \
  "$mlforge" predict "$out/tiny/model" --input "$out/bad.json"
echo '{"instances": [[1, 2, 3]]}' > "$out/short.json"
expect_error "wrong row size" "784 values" "$mlforge" predict "$out/tiny/model" --input "$out/short.json"

echo "$((cases - failures)) passed, $failures failed"
[ $failures -eq 0 ]
