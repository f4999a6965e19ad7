#!/usr/bin/env bash
# CPU emulation check of gpucore's reduction kernels, for machines without a GPU: the kernel
# sources are compiled as C++ against a tiny emulation of the CUDA pieces they use (one thread
# per CUDA thread, barriers for __syncthreads and warp shuffles, blocks run one at a time in
# reverse order so the last-block tickets are exercised), and every operation, type,
# accumulation, size, offset and matrix shape is checked against a long-double reference.
# It checks indexing, ordering, NaN/tie semantics and the ticket logic; not the memory model,
# not performance. Slow (minutes: thousands of threads per launch).
#   native/test/reduce_emu/run.sh [SMs (2)] [resident blocks per SM (2)]   (ALL=1: also whole ranges)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../src
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in reduce reduce_all reduce_rows reduce_cols; do python3 "$here/prep.py" "$src/$f.cu" "$work/$f.cpp"; done
mkdir -p "$work/inc" && cp "$here/cuda_runtime.h" "$work/inc/"
g++ -std=c++20 -O1 -pthread -I"$work/inc" -I"$here/../../include" -I"$src" -x c++ \
  "$work"/reduce*.cpp "$here/stubs.cpp" "$here/test.cpp" -o "$work/emu_test"
"$work/emu_test" "${1:-2}" "${2:-2}"
