#!/usr/bin/env bash
# Load test of two versions side by side (the machine is shared, so only ratios mean much):
#   scripts/ab-load.sh OLD_COMMIT [INDEX_DIR]        (DURATION=seconds per run, default 60)
# Runs OLD_COMMIT's app and this checkout's app on copies of one built index, alternating
# old / new / new / old, 50 conversations x 60 s each (eval/load.py), and prints each report's summary.
# Reports: artifacts/load-{old,new}-{1,2}.{json,md}.  Needs a built index (default $POLICYQA_HOME/index).
set -eu
cd "$(dirname "$0")/.."
OLD=${1:?usage: scripts/ab-load.sh OLD_COMMIT [INDEX_DIR]}
INDEX=${2:-${POLICYQA_HOME:-$HOME/.local/share/policyqa}/index}
PY=$PWD/.venv/bin/python
WORK=$(mktemp -d)
mkdir -p "$WORK/src" "$WORK/path" "$WORK/old" "$WORK/new" artifacts
git archive "$OLD" | tar -x -C "$WORK/src"
ln -s "$WORK/src" "$WORK/path/policyqa"            # PYTHONPATH shim: `import policyqa` -> the old version
cp -r "$INDEX" "$WORK/old/index"; cp -r "$INDEX" "$WORK/new/index"
export POLICYQA_ADMIN_TOKEN=${POLICYQA_ADMIN_TOKEN:-ab-load-admin-token-0000}
run_one () {  # label home port pythonpath
  POLICYQA_HOME=$2 PYTHONPATH=$4 $PY -m policyqa.app --port $3 > "$2/server-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do curl -sf "localhost:$3/api/health" >/dev/null && break; sleep 1; done
  sleep 15  # the model warms up in the background
  echo "[$1] load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  $PY -m policyqa.eval.load --url "http://127.0.0.1:$3" --conversations 50 --duration "${DURATION:-60}" \
      --feedback-file "$2/feedback.jsonl" --out "artifacts/load-$1" | tail -12
  kill $pid; wait $pid 2>/dev/null || true
  rm -f "$2/feedback.jsonl"
}
run_one old-1 "$WORK/old" 7821 "$WORK/path"
run_one new-1 "$WORK/new" 7822 ""
run_one new-2 "$WORK/new" 7822 ""
run_one old-2 "$WORK/old" 7821 "$WORK/path"
rm -rf "$WORK"
