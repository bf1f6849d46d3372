#!/usr/bin/env bash
# Run every benchmark, then render benchmarks/results/README.md. Takes about 20 minutes on 2 cores (more with DATA set).
# Run it on a quiet machine: anything else using the CPU lowers every figure.
# Usage: [DATA=fer2013.csv.gz] bash benchmarks/run_all.sh [MODEL_DIR]   (default: models/default; PYTHON=... picks the interpreter)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODEL="${1:-models/default}"
PYTHON="${PYTHON:-python}"

if [ ! -x benchmarks/.venv-peer/bin/python ]; then
  bash benchmarks/setup_peer.sh "$PYTHON"
fi
"$PYTHON" benchmarks/live_pipeline.py --model "$MODEL"
"$PYTHON" benchmarks/web_viewers.py --model "$MODEL"
"$PYTHON" benchmarks/training_speed.py
"$PYTHON" benchmarks/soak.py --model "$MODEL"
"$PYTHON" benchmarks/archive_analysis.py --model "$MODEL"
if [ -n "${DATA:-}" ]; then  # the FER-2013 CSV: DATA=fer2013.csv.gz bash benchmarks/run_all.sh
  "$PYTHON" benchmarks/peer_accuracy.py --data "$DATA"
  "$PYTHON" benchmarks/export_formats.py --model "$MODEL" --data "$DATA"
  "$PYTHON" benchmarks/detectors.py --model "$MODEL" --data "$DATA"
fi
"$PYTHON" benchmarks/report.py
