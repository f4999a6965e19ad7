#!/usr/bin/env bash
# GPU check of libgpucore_blas.so from C under LD_PRELOAD: sgemm_/dgemm_ at n = 256..4096 against
# OpenBLAS (max relative error; the GPU route forced), then sgemm_/dgemm_ at n = 8192 timed
# against OpenBLAS (routing left to the library), nvBLAS the same way when it is installed, and the
# trace's route counts. Needs gcc; the GPU machine's CUDA 13 runtime and cuBLAS are found by the
# library at run time.
#
#   gpu-check.sh [DIR] [N]
#
# GPU_CHECK_MAX_N (environment) caps the checked sizes (4096).
#
# DIR holds lib/libgpucore_blas.so and lib/libopenblas.so.0 (the layout of the gpucore-blas
# tarball; default: the folder of this script when it has lib/). Without DIR/lib, the library is
# built here from this script's folder (native/blas in the source tree) with CMake, and OpenBLAS
# is taken from GPUCORE_OPENBLAS (a path to libopenblas.so.0). N: the timed size (8192).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-$here}
n=${2:-8192}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -f "$dir/lib/libgpucore_blas.so" ]]; then
  lib=$dir/lib/libgpucore_blas.so
  openblas=${GPUCORE_OPENBLAS:-$dir/lib/libopenblas.so.0}
else
  [[ -f "$here/CMakeLists.txt" ]] || { echo "no $dir/lib/libgpucore_blas.so and no source to build it" >&2; exit 2; }
  cmake -S "$here" -B "$work/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$work/build" >/dev/null
  lib=$work/build/libgpucore_blas.so
  openblas=${GPUCORE_OPENBLAS:?set GPUCORE_OPENBLAS to the path of libopenblas.so.0}
fi
[[ -f "$openblas" ]] || { echo "OpenBLAS not found at $openblas" >&2; exit 2; }
export GPUCORE_OPENBLAS=$openblas
[[ -d /usr/local/cuda/lib64 ]] && export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/cuda/lib64
gcc -O2 -o "$work/gpu_check" "$here/gpu_check.c" -ldl -lm

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
echo "library $lib"
echo "OpenBLAS $openblas"

status=0
echo "== correctness, GPU route forced (gpucore.gemm.route=gpu)"
GPUCORE_LOG_FILE=$work/check.trace GPUCORE_GEMM_ROUTE=gpu LD_PRELOAD=$lib \
  "$work/gpu_check" check "$openblas" || status=1
echo "routes: $(awk '{print $6}' "$work/check.trace" | sort | uniq -c | tr '\n' ' ')"
grep -v 'route=gpu' "$work/check.trace" | head -5 || true

echo "== timing at n=$n, routing by the library's model"
GPUCORE_LOG_FILE=$work/time.trace LD_PRELOAD=$lib "$work/gpu_check" time "$openblas" "$n" || status=1
echo "routes: $(awk '{print $6}' "$work/time.trace" | sort | uniq -c | tr '\n' ' ')"
awk '{print $2, $3, $4, $5, $6}' "$work/time.trace" | sort | uniq -c

nvblas=$(ls /usr/local/cuda/lib64/libnvblas.so* 2>/dev/null | head -1 || true)
if [[ -n "$nvblas" ]]; then
  echo "== the same timing through nvBLAS ($nvblas: tile 2048, autopin, CPU ratio 0, the same OpenBLAS)"
  cat > "$work/nvblas.conf" <<CONF
NVBLAS_CPU_BLAS_LIB $openblas
NVBLAS_GPU_LIST 0
NVBLAS_TILE_DIM 2048
NVBLAS_AUTOPIN_MEM_ENABLED
NVBLAS_CPU_RATIO_SGEMM 0
NVBLAS_CPU_RATIO_DGEMM 0
CONF
  NVBLAS_CONFIG_FILE=$work/nvblas.conf LD_PRELOAD=$nvblas "$work/gpu_check" time "$openblas" "$n" || true
else
  echo "== nvBLAS: not installed, skipped"
fi
exit $status
