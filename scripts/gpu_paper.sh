#!/usr/bin/env bash
# One device run for the paper-profile issue: the throughput benchmark, then the notebooks in the paper profile, each
# run folder, the benchmark's numbers, per-notebook wall times and nvidia-smi collected under $OUT (default gpu-out/).
#   OUT=/somewhere bash scripts/gpu_paper.sh [PROFILE [NOTEBOOK ...]]      e.g. bash scripts/gpu_paper.sh paper 03 04
#   JOBS=6 bash scripts/gpu_paper.sh paper                                  all six side by side (kdlab run all --jobs 6)
# A notebook that fails is recorded in $OUT/failures.txt and the others still run. Publish the good runs afterwards
# with `kdlab publish $OUT/runs/<notebook>/<run_id>` (reference/; see README).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
PROFILE=${1:-paper}
shift || true
NOTEBOOKS=("$@")
[ ${#NOTEBOOKS[@]} -eq 0 ] && NOTEBOOKS=(01 02 03 04 05 06)
mkdir -p "$OUT"
bash scripts/bootstrap.sh || exit 1
.venv/bin/kdlab fetch mnist || exit 1
.venv/bin/kdlab fetch speech --profile "$PROFILE" || exit 1
(nvidia-smi || echo "no nvidia-smi") > "$OUT/nvidia-smi.txt" 2>&1
# The CUDA-only tests first (the captured step equals the eager one): a minute, and it decides what the rest means.
.venv/bin/python -m pytest -q -p no:cacheprovider -m gpu tests > "$OUT/gpu_tests.txt" 2>&1 || echo "gpu-tests" >> "$OUT/failures.txt"
.venv/bin/kdlab bench --device auto --json "$OUT/bench.json" > "$OUT/bench.md" 2>&1 || echo "bench" >> "$OUT/failures.txt"
export KDLAB_RUNS="$OUT/runs"
began=$(date +%s)
if [ "${JOBS:-1}" -gt 1 ]; then  # JOBS=6: every notebook at once, each its own process (kdlab run all --jobs)
  .venv/bin/kdlab run all --profile "$PROFILE" --jobs "$JOBS" > "$OUT/run_all.log" 2>&1 || echo "run-all" >> "$OUT/failures.txt"
  cp -r "$KDLAB_RUNS/.logs" "$OUT/logs" 2>/dev/null
  NOTEBOOKS=()
fi
for nb in "${NOTEBOOKS[@]}"; do
  s=$(date +%s)
  .venv/bin/kdlab run "$nb" --profile "$PROFILE" > "$OUT/run_$nb.log" 2>&1 || echo "$nb" >> "$OUT/failures.txt"
  echo "$nb $(( $(date +%s) - s )) s" | tee -a "$OUT/times.txt"
done
echo "all $(( $(date +%s) - began )) s" | tee -a "$OUT/times.txt"
