#!/usr/bin/env bash
# Old code against new, alternating, on the same machine in the same minutes:
# the only fair way to compare two versions on a VM whose wake-up costs drift
# (docs/benchmarks.md). Runs hook_roundtrip.py from each checkout in turn,
# PAIRS times, and prints one line per run (the medians and their ratio to the
# raw pipe floor of the same run).
#
# Usage: benchmarks/compare_checkouts.sh OLD_CHECKOUT NEW_CHECKOUT [PAIRS]
#   e.g. git worktree add /tmp/old HEAD~3 && benchmarks/compare_checkouts.sh /tmp/old . 6
# PYTHON (default: python3) must have the test dependencies (msgpack, ...).
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd); pairs=${3:-6}
python=${PYTHON:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for pair in $(seq "$pairs"); do
  for dir in "$old" "$new"; do
    PYTHONPATH="$dir" "$python" "$dir/benchmarks/hook_roundtrip.py" --n 1500 --rounds 3 \
      --json "$out/run.json" > /dev/null
    "$python" - "$out/run.json" "$dir" "$pair" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
r = data["results"]
floor = r["raw pipe floor"]["median_us"]
hook = r["sandboxed hook"]["median_us"]
prnt = r["sandboxed hook + prnt"]["median_us"]
print(f"pair {sys.argv[3]} {sys.argv[2]}: floor {floor:.1f} us, hook {hook:.1f} us ({hook / floor:.2f}x), "
      f"hook + prnt {prnt:.1f} us ({prnt / floor:.2f}x)")
PY
  done
done
