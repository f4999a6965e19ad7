#!/usr/bin/env bash
# GPU smoke test of the runtime image's file tree, on a GPU machine without a container engine:
#
#   containers/gpu-smoke.sh TREE [--n N] [--tests]
#
#   TREE     the layer the runtime image adds to its base, as the .tar.gz the container test
#            writes (java/containers-test/target/gpucore-runtime-tree.tar.gz after `mvn verify`,
#            or run-container-test.sh --export-tree FILE), or a folder it was unpacked into
#   --n N    matrix size for the demo (default 4096)
#   --tests  also run the whole test suite with --require-gpu (`gpucore test --require-gpu`)
#
# With the image's entrypoint, JRE and jars, and the environment containers/Dockerfile sets, it runs
#   gpucore devices --require-gpu    (the image's HEALTHCHECK: exit 0 only when a GPU is usable)
#   gpucore demo --n N               (CPU and GPU results must agree: exit 0)
# The CUDA 13 libraries (libcudart.so.13, libcublas.so.13), which the nvidia/cuda runtime image
# brings, come from this machine: the loader's cache, $CUDA_HOME/lib64 or /usr/local/cuda*/lib64.
# Exit 0 when every step passed.
set -euo pipefail
tree=${1:?usage: gpu-smoke.sh TREE [--n N] [--tests]}
shift
n=4096 tests=0
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --tests) tests=1; shift ;;
    *) echo "gpu-smoke.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -f "$tree" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gpucore-tree.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  tar -xzf "$tree" -C "$dir" --no-same-owner --exclude='dev/*' 2>/dev/null || tar -xzf "$tree" -C "$dir" --no-same-owner
  tree=$dir
fi
home=$tree/opt/gpucore
entry=$home/bin/gpucore-entrypoint
if [ ! -x "$entry" ] || [ ! -x "$home/jre/bin/java" ]; then
  echo "gpu-smoke.sh: $tree does not hold the runtime tree (opt/gpucore/bin/gpucore-entrypoint, opt/gpucore/jre)" >&2
  exit 2
fi

# The environment of the runtime image (containers/Dockerfile, ENV)
export GPUCORE_HOME=$home JAVA_HOME=$home/jre PATH=$home/jre/bin:$PATH \
       NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-all} \
       NVIDIA_DRIVER_CAPABILITIES=compute,utility NVIDIA_REQUIRE_CUDA='cuda>=13.0'

# CUDA 13 runtime libraries: in the image they are in /usr/local/cuda/lib64 (ld.so.conf.d)
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep -q 'libcudart\.so\.13 '; then
  for d in "${CUDA_HOME:-/nonexistent}/lib64" /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 \
           /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/targets/x86_64-linux/lib; do
    if [ -e "$d/libcudart.so.13" ]; then
      export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      break
    fi
  done
fi

echo "gpu-smoke: tree $tree; $("$home/jre/bin/java" -XX:-UsePerfData -version 2>&1 | head -n 1)"
echo "gpu-smoke: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}; device nodes: $(ls /dev/nvidia* 2>/dev/null | tr '\n' ' ' || true)"
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/gpu-smoke-out.XXXXXX")
# step NAME PATTERN ARGS...: runs `gpucore ARGS`; passes on exit 0 with a line matching PATTERN
step() {
  local name=$1 pattern=$2; shift 2
  echo "== gpu-smoke: $name: gpucore $*"
  local rc=0
  "$entry" "$@" 2>&1 | tee "$out" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== gpu-smoke: $name: FAILED (exit $rc)"; failed=1
  elif ! grep -qE "$pattern" "$out"; then
    echo "== gpu-smoke: $name: FAILED (no line matching '$pattern')"; failed=1
  else
    echo "== gpu-smoke: $name: ok"
  fi
}
step "devices (the HEALTHCHECK)" '.' devices --require-gpu
step "demo" '^agreement: .*: OK$' demo --n "$n"
if [ "$tests" -eq 1 ]; then
  GPUCORE_REPORTS=${GPUCORE_REPORTS:-$PWD/gpu-smoke-reports} step "test suite" '\[ +0 tests failed +\]' test --require-gpu
fi
rm -f "$out"
if [ "$failed" -eq 0 ]; then
  echo "gpu-smoke: PASS"
else
  echo "gpu-smoke: FAIL"
  exit 1
fi
