#!/usr/bin/env bash
# The first README command: set everything up, run every notebook in the quick profile through papermill into
# runs/, then start the dashboard on 127.0.0.1 (Ctrl-C stops it). PROFILE=full or PORT=8502 to change.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
KD=.venv/bin/kdlab
PROFILE=${PROFILE:-quick}
$KD fetch mnist
$KD fetch speech --profile "$PROFILE"
$KD run all --profile "$PROFILE"
$KD runs
if [ "${KDLAB_NO_DASHBOARD:-0}" = 1 ]; then
  echo "runs are in ${KDLAB_RUNS:-runs/}; start the dashboard with: .venv/bin/kdlab dashboard"
  exit 0
fi
exec $KD dashboard --port "${PORT:-8501}"
