#!/usr/bin/env bash
# Create benchmarks/.venv-peer: the `fer` PyPI package for the peer comparisons (live_pipeline.py,
# peer_accuracy.py).
#
# Its import name collides with this repository's fer/ package, so it lives in a venv of its own
# and is only ever run from a temporary directory. --system-site-packages plus --no-deps makes it
# use the TensorFlow, OpenCV, Pillow and requests already installed here instead of its declared
# dependencies (opencv-contrib-python, facenet-pytorch, moviepy...), which the paths we run
# never touch. Usage: bash benchmarks/setup_peer.sh [PYTHON]
#
# PYTHON may be a virtual environment's interpreter (e.g. .venv/bin/python): `venv` then builds
# on that venv's base interpreter, whose site-packages lack what the venv installed, so a .pth
# file in the peer venv adds the given venv's site-packages after the peer's own (where `fer` is
# the PyPI package). Those folders are added as plain paths: their own .pth files are not run.
set -euo pipefail

FER_VERSION="${FER_VERSION:-25.10.3}"
PYTHON="${1:-python3}"
VENV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv-peer"

"$PYTHON" -m venv --system-site-packages "$VENV"
# The site-packages folders of PYTHON's own venv, one a line; nothing when PYTHON is no venv's.
BASE_SITE="$("$PYTHON" -c 'import sys, sysconfig
if sys.prefix != sys.base_prefix:
    print("\n".join(dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))))')"
if [ -n "$BASE_SITE" ]; then
  PEER_SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  printf '%s\n' "$BASE_SITE" > "$PEER_SITE/zz-base-venv.pth"
  echo "peer venv also sees: $BASE_SITE"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "fer==${FER_VERSION}"
# pkg_resources (from setuptools) is how fer finds its bundled model; say so now, not mid-benchmark.
(cd "$(mktemp -d)" && "$VENV/bin/python" -c "import pkg_resources, fer.fer; print('fer', fer.__version__, 'ready in', '$VENV')")
