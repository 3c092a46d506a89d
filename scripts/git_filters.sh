#!/usr/bin/env bash
# Register nbstripout as this repository's git filter for notebooks (.gitattributes names the filter): running a
# lesson in JupyterLab writes outputs, execution counts and kernel metadata into the .ipynb; the clean filter strips
# them before git compares, so `git status` stays clean and a student's outputs are never committed.
#   scripts/git_filters.sh [PYTHON]    PYTHON: the interpreter that has nbstripout (default .venv/bin/python)
set -euo pipefail
PYBIN=${1:-$PWD/.venv/bin/python}
git rev-parse --git-dir >/dev/null 2>&1 || exit 0  # not a git checkout (e.g. an unpacked archive): nothing to do
git config filter.nbstripout.clean "'$PYBIN' -m nbstripout --keep-id"
git config filter.nbstripout.smudge cat
git config diff.ipynb.textconv "'$PYBIN' -m nbstripout --keep-id -t"
