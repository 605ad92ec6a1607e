#!/usr/bin/env bash
# The local-head study (issue 10): train AgileNN with each local head and fallback weight B on the
# same budget, then tabulate combined, local-only (= the device's accuracy with the server down),
# remote-only accuracy, skewness and the head's MACs.
#   tools/bench/local_head_study.sh [--epochs N] [--reference DIR] [--out DIR] [--threads T]
#                                   [--variants "gap@0.5 grid:2@0.5 grid:4@0 grid:4@0.2 grid:4@0.5"]
# A variant whose OUT/<head>_B<b>/summary.json exists is not trained again, so an interrupted study
# resumes. Writes OUT/study.md and OUT/study.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=6; reference=runs/ref; out=runs/local-head-study; threads=0
variants="gap@0.5 grid:2@0.5 grid:4@0 grid:4@0.2 grid:4@0.5"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift ;;
    --reference) reference="$2"; shift ;;
    --out) out="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --variants) variants="$2"; shift ;;
    *) echo "local_head_study.sh: unknown flag '$1'" >&2; exit 2 ;;
  esac
  shift
done
bin=build/agilenn
[[ -x $bin ]] || { echo "local_head_study.sh: $bin not built (run tools/setup.sh)" >&2; exit 1; }
[[ -f $reference/reference.safetensors ]] ||
  { echo "local_head_study.sh: no reference network in '$reference' (--reference)" >&2; exit 1; }
mkdir -p "$out"
dirs=()
for v in $variants; do
  head="${v%@*}"; b="${v#*@}"
  [[ $head != "$v" && -n $b ]] || { echo "local_head_study.sh: variant '$v' is not HEAD@B" >&2; exit 2; }
  dir="$out/${head/:/}_B$b"
  dirs+=("$dir")
  if [[ -f $dir/summary.json ]]; then echo "$dir: done already"; continue; fi
  "$bin" train --epochs "$epochs" --threads "$threads" --local-head "$head" --local-loss-weight "$b" \
    --reference "$reference" --out "$dir"
done
/usr/bin/env python3 - "$out" "${dirs[@]}" <<'EOF'
import json, os, sys
out, dirs = sys.argv[1], sys.argv[2:]
rows = []
for d in dirs:
    s = json.load(open(os.path.join(d, "summary.json")))
    head, k, classes = s["local_head"], s["k"], 10
    cells = 1 if head == "gap" else int(head.split(":")[1]) ** 2
    rows.append([head, s["local_loss_weight"], s["epochs"], s["test_accuracy"], s["local_accuracy"],
                 s["remote_accuracy"], s["skewness"], s["skewness_at_rho"], k * cells * classes])
hdr = ["head", "B", "epochs", "combined", "local-only (server down)", "remote-only", "skewness",
       "share >= rho", "head MACs (dense)"]
fmt = lambda r: [r[0], f"{r[1]:g}", str(r[2])] + [f"{100 * x:.2f}%" for x in r[3:6]] + \
    [f"{r[6]:.3f}", f"{100 * r[7]:.1f}%", str(r[8])]
md = "| " + " | ".join(hdr) + " |\n|" + "---|" * len(hdr) + "\n" + \
    "".join("| " + " | ".join(fmt(r)) + " |\n" for r in rows)
csv = ",".join(h.replace(",", "") for h in hdr) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
for name, text in (("study.md", md), ("study.csv", csv)):
    tmp = os.path.join(out, name + ".tmp")
    open(tmp, "w").write(text)
    os.replace(tmp, os.path.join(out, name))
print(md, end="")
EOF
