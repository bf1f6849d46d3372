#!/usr/bin/env bash
# Create benchmarks/.venv-peer: the `fer` PyPI package for the peer comparison in live_pipeline.py.
#
# Its import name collides with this repository's fer/ package, so it lives in a venv of its own
# and is only ever run from a temporary directory. --system-site-packages plus --no-deps makes it
# use the TensorFlow, OpenCV, Pillow and requests already installed here instead of its declared
# dependencies (opencv-contrib-python, facenet-pytorch, moviepy...), which the Haar-cascade path
# we time never touches. Usage: bash benchmarks/setup_peer.sh [PYTHON]
set -euo pipefail

FER_VERSION="${FER_VERSION:-25.10.3}"
PYTHON="${1:-python3}"
VENV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv-peer"

"$PYTHON" -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "fer==${FER_VERSION}"
# pkg_resources (from setuptools) is how fer finds its bundled model; say so now, not mid-benchmark.
(cd "$(mktemp -d)" && "$VENV/bin/python" -c "import pkg_resources, fer.fer; print('fer', fer.__version__, 'ready in', '$VENV')")
