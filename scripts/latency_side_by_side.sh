#!/bin/bash
# Answer latency side by side (README "Results"): BEFORE (a commit, run from a git worktree on its
# default torch backend) against this checkout on torch and on its default onnx-int8, alternating,
# ROUNDS rounds, one JSON line per run (scripts/answer_latency.py) to OUT.
#   bash scripts/latency_side_by_side.sh [BEFORE=c07af38] [ROUNDS=3] [OUT=var/lat/side-by-side.jsonl]
set -e
cd "$(dirname "$0")/.."
before=${1:-c07af38}; rounds=${2:-3}; out=${3:-var/lat/side-by-side.jsonl}
tmp=$(mktemp -d); git worktree add -q "$tmp/policyqa" "$before"
trap 'git worktree remove --force "$tmp/policyqa"; rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$out")" var/lat; : > "$out"
for ((r = 0; r < rounds; r++)); do
  PYTHONPATH="$tmp" POLICYQA_HOME=$PWD/var/lat/before-home .venv/bin/python scripts/answer_latency.py before-torch >> "$out"
  POLICYQA_EMBEDDING_BACKEND=torch POLICYQA_HOME=$PWD/var/lat/after-torch-home .venv/bin/python scripts/answer_latency.py after-torch >> "$out"
  POLICYQA_HOME=$PWD/var/lat/after-home .venv/bin/python scripts/answer_latency.py after-int8 >> "$out"
done
