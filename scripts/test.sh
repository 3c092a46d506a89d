#!/usr/bin/env bash
# The second README command: install what the tests need, fetch the data, run the whole suite —
# unit tests, the dashboard (AppTest and headless Chromium), distributed (2 gloo processes), and every notebook
# in the quick profile under nbval (lax mode; cells marked NBVAL_CHECK_OUTPUT are compared).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
.venv/bin/ruff check . && .venv/bin/ruff format --check .  # lint and format (pyproject.toml's rules)
.venv/bin/lint-imports --no-cache  # the package's layer contracts ([tool.importlinter] in pyproject.toml)
.venv/bin/kdlab fetch mnist
.venv/bin/kdlab fetch speech --profile quick
WORK=$(mktemp -d)
export KDLAB_RUNS="${KDLAB_TEST_RUNS:-$WORK/runs}"  # notebooks under test write here, not into runs/
export PYTHONHASHSEED=0
# Notebooks are committed stripped; nbval compares only cells that carry an output, so the expected outputs of
# the `# NBVAL_CHECK_OUTPUT` cells (notebooks/expected_outputs.json) are put into temporary copies it runs.
.venv/bin/python tests/nbval_expected.py inject "$WORK/notebooks" >/dev/null
set +e
.venv/bin/python -m pytest tests "$WORK"/notebooks/[0-9][0-9]_*.ipynb --nbval-lax --nbval-cell-timeout=900 \
  -p no:cacheprovider -c pyproject.toml --rootdir . "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "test.sh: pytest collected no tests — that is a failure, not a pass" >&2
  exit 1
fi
exit $rc
