#!/usr/bin/env bash
# The main job: install what is missing, build, train the reference network and the AgileNN model
# (plus the unsplit control) on Fashion-MNIST, fit the link codec, export and check the MCU code,
# and print the results. Every stage writes its own summary.json under runs/.
#   tools/main_job.sh [--runs DIR] [--preset NAME] [--distill] [--with-no-xai] [--with-ig8]
# The control --unsplit (what the split costs, the accuracy target's yardstick) runs by default;
# --with-no-xai adds the --no-xai control (what the importance loss buys, ~7 minutes) and
# --with-ig8 integrated gradients with 8 points: both outside the 30-minute budget.
# --distill trains the unsplit control first and distils it into AgileNN (agilenn train --teacher),
# as the fashion-mnist-long recipe does.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=runs; preset=fashion-mnist; no_xai=0; ig8=0; distill=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --preset) preset="$2"; shift ;;
    --with-no-xai) no_xai=1 ;;
    --skip-no-xai) no_xai=0 ;;  # the default now; kept so older command lines still work
    --with-ig8) ig8=1 ;;
    --distill) distill=1 ;;
    *) echo "main_job.sh: unknown flag '$1'" >&2; exit 2 ;;
  esac
  shift
done

tools/setup.sh
bin=build/agilenn
mkdir -p "$runs"
stage_log="$runs/stages.csv"
echo "stage,seconds" > "$stage_log"
job_start=$(date +%s)

has_command() { "$bin" --help | grep -q "^  $1 "; }
stage() {  # stage NAME CMD...
  local name="$1"; shift
  echo; echo "=== $name: $*"
  local t0=$(date +%s)
  "$@"
  echo "$name,$(( $(date +%s) - t0 ))" >> "$stage_log"
}

# A control not run this time must not be reported from an older run next to the new models.
for stale in no-xai:$no_xai agile-ig8:$ig8; do
  if [[ ${stale#*:} == 0 && -d "$runs/${stale%%:*}" ]]; then
    echo "main_job.sh: removing $runs/${stale%%:*} from an earlier run (not trained this time)"
    rm -rf "${runs:?}/${stale%%:*}"
  fi
done

stage train-reference "$bin" train-reference --preset "$preset" --out "$runs/ref"
if [[ $distill == 1 ]]; then  # the unsplit control is the teacher: it goes first
  stage train-unsplit "$bin" train --preset "$preset" --unsplit --reference "$runs/ref" --out "$runs/unsplit"
  stage train-agilenn "$bin" train --preset "$preset" --reference "$runs/ref" --teacher "$runs/unsplit" --out "$runs/agile"
else
  stage train-agilenn "$bin" train --preset "$preset" --reference "$runs/ref" --out "$runs/agile"
  stage train-unsplit "$bin" train --preset "$preset" --unsplit --reference "$runs/ref" --out "$runs/unsplit"
fi
if [[ $no_xai == 1 ]]; then
  stage train-no-xai "$bin" train --preset "$preset" --no-xai --reference "$runs/ref" --out "$runs/no-xai"
fi
if [[ $ig8 == 1 ]]; then
  stage train-ig8 "$bin" train --preset "$preset" --ig-steps 8 --reference "$runs/ref" --out "$runs/agile-ig8"
fi
if has_command fit-codec; then
  stage fit-codec "$bin" fit-codec --model "$runs/agile"
fi
stage codec-bench "$bin" codec-bench --model "$runs/agile" --out "$runs/codec" || echo "codec-bench: failed (see above)"
stage export-mcu "$bin" export-mcu --model "$runs/agile" --out "$runs/device" || echo "export-mcu: failed (see above)"
stage mcu-check "$bin" mcu-check --model "$runs/agile" --out "$runs/mcu" || echo "mcu-check: failed (see above)"
if has_command bench-e2e; then
  stage bench-e2e "$bin" bench-e2e --model "$runs/agile" --reference "$runs/ref" --unsplit-model "$runs/unsplit" \
    --mcu-summary "$runs/mcu/summary.json" --out "$runs/e2e" || echo "bench-e2e: failed (see above)"
fi
echo "total,$(( $(date +%s) - job_start ))" >> "$stage_log"
"$bin" report --runs "$runs"
