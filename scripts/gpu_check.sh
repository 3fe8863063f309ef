#!/usr/bin/env bash
# The GPU checks, in one short run (about 3-5 minutes on one modern GPU): the GPU-marked tests,
# then the benchmark on CUDA. Usage, from the repository root on a machine with a CUDA GPU:
#   bash scripts/gpu_check.sh [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-outputs/gpu_check}"
mkdir -p "$out"
python=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$python -m pytest -q -m gpu tests 2>&1 | tee "$out/gpu_tests.log"
PYTHONUNBUFFERED=1 $python -m vit_inpaint.cli.bench --device cuda --rounds 3 --epochs 3 --floor \
    --json "$out/bench_cuda.json" 2>&1 | tee "$out/bench_cuda.log"
