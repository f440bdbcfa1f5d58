# Sourced by the elastic tests, after they define `fail MESSAGE` and $out.
#
#   fail() { ...; exit 1; }
#   . "$(dirname "$0")/elastic_wait.sh"
#   wait_for_line "$out/a.log" "round [0-9]*: node . of 2" "$agent_a" "B never joined a round"
#   before=$(checkpoint_stamp "$run")
#   wait_for_checkpoint "$run" "$before" "$out/a.log" "of 2: data-parallel" "$agent_a" "no checkpoint"

# wait_for_line LOG PATTERN PID WHAT: until LOG has a line matching PATTERN,
# at most 180 s; fails with WHAT when PID ends first or time runs out.
wait_for_line() {
  local log=$1 pattern=$2 pid=$3 what=$4
  for _ in $(seq 1 900); do
    grep -q "$pattern" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || fail "$what (pid $pid ended)"
    sleep 0.2
  done
  fail "$what (not within 180 s)"
}

# checkpoint_stamp RUN_DIR: when RUN_DIR/checkpoint.pt was last written.
checkpoint_stamp() { stat -c %y "$1/checkpoint.pt" 2>/dev/null || echo none; }

# wait_for_checkpoint RUN_DIR BEFORE LOG PATTERN PID WHAT: until a checkpoint
# newer than BEFORE exists and LOG has a line matching PATTERN, at most 180 s.
wait_for_checkpoint() {
  local run=$1 before=$2 log=$3 pattern=$4 pid=$5 what=$6
  for _ in $(seq 1 900); do
    grep -q "$pattern" "$log" && [ "$(checkpoint_stamp "$run")" != "$before" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "$what (pid $pid ended)"
    sleep 0.2
  done
  fail "$what (not within 180 s)"
}
