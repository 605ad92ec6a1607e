#!/usr/bin/env bash
# Smoke run of the training CLI on the tiny preset: the loss falls, the outputs exist with the
# fields the issues ask for, a grid-head AgileNN model trains, and an interrupted run resumed with
# --resume ends with exactly the weights of an uninterrupted run.
set -euo pipefail
bin="$1"; work="$2"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  echo "SKIPPED: Fashion-MNIST is not installed (tools/setup.sh installs it)"; exit 0
fi
common=(--preset tiny --threads 2 --limit-train 1024)

"$bin" train-reference "${common[@]}" --epochs 3 --out "$work/ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "train-reference"; }
first=$(sed -n 2p "$work/ref/log.csv" | cut -d, -f2); last=$(tail -1 "$work/ref/log.csv" | cut -d, -f2)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' || fail "reference loss did not fall ($first -> $last)"
for f in reference.safetensors log.csv summary.json; do [[ -s "$work/ref/$f" ]] || fail "missing ref/$f"; done
grep -q '"test_accuracy"' "$work/ref/summary.json" || fail "summary.json lacks test_accuracy"

"$bin" eval --model "$work/ref" --preset tiny --limit-test 256 > "$work/eval.log" 2>&1 || fail "eval of the reference"
grep -q "test_accuracy" "$work/ref/eval.json" || fail "eval.json"

"$bin" train "${common[@]}" --epochs 2 --local-head grid:2 --local-loss-weight 0.1 --extractor-depth-multiplier 2 --remote-width 1.5 --reference "$work/ref" \
  --out "$work/agile" > "$work/agile.log" 2>&1 || { cat "$work/agile.log"; fail "train"; }
for k in test_accuracy local_accuracy remote_accuracy skewness disorder_violation_rate alpha k centroids train_seconds local_head; do
  grep -q "\"$k\"" "$work/agile/summary.json" || fail "agile summary.json lacks $k"
done
grep -q '"local_head": "grid:2"' "$work/agile/summary.json" || fail "local head not recorded"
grep -q '"extractor_depth_multiplier": 2' "$work/agile/summary.json" || fail "depth multiplier not recorded"
grep -q '"remote_width": 1.5' "$work/agile/summary.json" || fail "remote width not recorded"
first=$(sed -n 2p "$work/agile/log.csv" | cut -d, -f2); last=$(tail -1 "$work/agile/log.csv" | cut -d, -f2)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' || fail "AgileNN loss did not fall ($first -> $last)"

# Resume equivalence: 2 epochs straight vs 1 epoch, stop, --resume.
"$bin" train-reference "${common[@]}" --epochs 2 --out "$work/straight" > /dev/null 2>&1 || fail "straight run"
"$bin" train-reference "${common[@]}" --epochs 2 --stop-after-epoch 1 --out "$work/resumed" > /dev/null 2>&1 || fail "first half"
[[ ! -e "$work/resumed/reference.safetensors" ]] || fail "an interrupted run wrote the final model"
"$bin" train-reference "${common[@]}" --epochs 2 --resume --out "$work/resumed" > /dev/null 2>&1 || fail "resumed half"
cmp -s "$work/straight/reference.safetensors" "$work/resumed/reference.safetensors" || fail "resumed weights differ from the uninterrupted run"

# Distillation: an unsplit run is the teacher of a split run; the distillation term is logged.
"$bin" train "${common[@]}" --epochs 1 --unsplit --out "$work/teacher" > "$work/teacher.log" 2>&1 || { cat "$work/teacher.log"; fail "unsplit teacher"; }
"$bin" train "${common[@]}" --epochs 1 --reference "$work/ref" --teacher "$work/teacher" --distill-weight 0.7 --distill-remote-weight 0.3 \
  --out "$work/student" > "$work/student.log" 2>&1 || { cat "$work/student.log"; fail "train with --teacher"; }
grep -q '"distill_weight": 0.7' "$work/student/summary.json" || fail "distill weight not recorded"
grep -q '"teacher": ' "$work/student/summary.json" || fail "teacher not recorded"
grep -q '"distill_remote_weight": 0.3' "$work/student/summary.json" || fail "remote distill weight not recorded"
head -1 "$work/student/log.csv" | grep -q distill || fail "log.csv lacks the distill column"
awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "distill") c = i } NR == 2 { exit !($c > 0) }' "$work/student/log.csv" || fail "distillation loss not positive"
if "$bin" train --preset tiny --teacher "$work/teacher" --distill-weight 0 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --distill-weight accepted"; fi
grep -q "distill-weight" "$work/bad.log" || fail "error does not name --distill-weight"
if "$bin" train --preset tiny --teacher "$work/teacher" --distill-remote-weight -1 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --distill-remote-weight accepted"; fi
grep -q "distill-remote-weight" "$work/bad.log" || fail "error does not name --distill-remote-weight"
if "$bin" train --preset tiny --distill-temperature 2 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "--distill-temperature without --teacher accepted"; fi
grep -q "distill-temperature needs --teacher" "$work/bad.log" || fail "error does not say --distill-temperature needs --teacher"
if "$bin" train "${common[@]}" --epochs 1 --teacher "$work/no-such-teacher" --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "missing --teacher accepted"; fi
grep -q "no-such-teacher" "$work/bad.log" || fail "error does not name the missing teacher"

# Bad input is refused with the flag named.
if "$bin" train --preset tiny --split-ratio 0.99 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --split-ratio accepted"; fi
grep -q "split-ratio" "$work/bad.log" || fail "error does not name --split-ratio"
if "$bin" train --preset tiny --extractor-hidden 0 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --extractor-hidden accepted"; fi
grep -q "extractor-hidden" "$work/bad.log" || fail "error does not name --extractor-hidden"
if "$bin" train --preset tiny --extractor-depth-multiplier 17 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --extractor-depth-multiplier accepted"; fi
grep -q "extractor-depth-multiplier" "$work/bad.log" || fail "error does not name --extractor-depth-multiplier"
if "$bin" train --preset tiny --remote-width 0 --reference "$work/ref" --out "$work/bad" > "$work/bad.log" 2>&1; then fail "bad --remote-width accepted"; fi
grep -q "remote-width" "$work/bad.log" || fail "error does not name --remote-width"
echo "smoke_train: ok"
