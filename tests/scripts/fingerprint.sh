#!/usr/bin/env bash
# Fingerprints of every output a refactoring must leave unchanged: the run files of the baseline
# and of every shipped scenario, a sweep and a comparison. Timing fields (wall_seconds, the sweep
# manifest's `timing`) are dropped before hashing. Run it before and after a change and diff:
#
#   tests/scripts/fingerprint.sh ./target/release/aimarket > /tmp/before.txt
#   ... change, rebuild ...
#   tests/scripts/fingerprint.sh ./target/release/aimarket > /tmp/after.txt
#   diff /tmp/before.txt /tmp/after.txt
#
# Sizes are reduced (20,000 enterprises × 120 months) so that it takes seconds.
set -euo pipefail
bin=$(realpath "${1:?usage: fingerprint.sh PATH_TO_AIMARKET_BINARY}")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small=(--enterprises 20000 --quiet)

strip_json() {  # the JSON file without its timing fields
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("wall_seconds", "timing"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True))
PY
}
strip_runs() {  # runs.csv without its wall_seconds column
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
i = rows[0].index("wall_seconds")
for r in rows:
    print(",".join(r[:i] + r[i + 1:]))
PY
}
hash_dir() {
  local dir=$1 label=$2 f
  for f in $(ls "$dir" | sort); do
    case "$f" in
      manifest.json) echo "$label/$f $(strip_json "$dir/$f" | sha256sum | cut -c1-16)" ;;
      runs.csv) echo "$label/$f $(strip_runs "$dir/$f" | sha256sum | cut -c1-16)" ;;
      *) echo "$label/$f $(sha256sum < "$dir/$f" | cut -c1-16)" ;;
    esac
  done
}

"$bin" run configs/baseline.toml "${small[@]}" --out "$work/baseline" >/dev/null
hash_dir "$work/baseline" baseline
for s in configs/scenarios/*.toml; do
  name=$(basename "$s" .toml)
  "$bin" run "$s" "${small[@]}" --out "$work/$name" >/dev/null
  hash_dir "$work/$name" "$name"
done
"$bin" sweep configs/sweeps/smoke.toml --quiet --trajectories --out "$work/sweep" >/dev/null
hash_dir "$work/sweep" sweep
"$bin" compare configs/baseline.toml configs/scenarios/eu_data_act.toml configs/scenarios/consolidation.toml \
  --replicates 3 --enterprises 5000 --quiet --out "$work/compare" >/dev/null
hash_dir "$work/compare" compare
