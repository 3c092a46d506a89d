#!/usr/bin/env bash
# Register nbstripout as this repository's git filter for notebooks (.gitattributes names the filter): running a
# lesson in JupyterLab writes outputs, execution counts and kernel metadata into the .ipynb; the clean filter strips
# them before git compares, so `git status` stays clean and a student's outputs are never committed.
#   scripts/git_filters.sh [PYTHON]    PYTHON: the interpreter that has nbstripout (default .venv/bin/python)
# Kernel metadata: the kernel adds language_info (version, mimetype, …), stripped by filter.nbstripout.extrakeys;
# the kernelspec stays (nbformat requires its display_name, and without it JupyterLab asks for a kernel), committed
# as ipykernel's own {"name": "python3", "display_name": "Python 3 (ipykernel)"} so running a notebook leaves it be.
# An interpreter that does not exist or lacks nbstripout is refused (exit 1): registered, it would make every
# `git status` fail with "external filter … failed".
set -euo pipefail
PYBIN=${1:-$PWD/.venv/bin/python}
git rev-parse --git-dir >/dev/null 2>&1 || exit 0  # not a git checkout (e.g. an unpacked archive): nothing to do
if [ ! -x "$PYBIN" ]; then
  echo "git_filters.sh: $PYBIN is not an executable Python; pass one that has nbstripout (e.g. .venv/bin/python after scripts/bootstrap.sh)" >&2
  exit 1
fi
if ! "$PYBIN" -c "import nbstripout" >/dev/null 2>&1; then
  echo "git_filters.sh: $PYBIN has no nbstripout; run \`$PYBIN -m pip install nbstripout\` (or scripts/bootstrap.sh), then this again" >&2
  exit 1
fi
git config filter.nbstripout.clean "'$PYBIN' -m nbstripout --keep-id"
git config filter.nbstripout.smudge cat
git config filter.nbstripout.extrakeys "metadata.language_info"
git config diff.ipynb.textconv "'$PYBIN' -m nbstripout --keep-id -t"
