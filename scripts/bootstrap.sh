#!/usr/bin/env bash
# Creates .venv and installs dreamface into it (idempotent; re-runs only when pyproject changes).
# torch is pinned here, before the project, so pip takes the local CPU wheel instead of
# resolving a CUDA build; pyproject itself states an honest range.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test drives Debian's chromium + chromedriver (fonts-nanum: Korean text in screenshots).
if [ "$(id -u)" = 0 ]; then
  { command -v chromium && command -v chromedriver; } >/dev/null ||
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-nanum)
fi
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ -f "$stamp" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q "torch==${DREAMFACE_TORCH_VERSION:-2.13.0}"
.venv/bin/pip install -q -e ".[dev,worker]"
rm -f .venv/.installed-*
touch "$stamp"
