#!/usr/bin/env bash
# bin/gpu-acceptance: every GPU check of the bundle in one go, each with a hard time limit, so
# that one call on a GPU machine gives the whole picture. Writes into DIR (default
# ./acceptance): machine.txt, tests.txt (+ JUnit XML under reports/), reduce.txt/.json,
# stop.txt, blas.txt, blasbench.txt/.json, and summary.txt (also printed).
#
#   bin/gpu-acceptance [DIR]
#
# Steps: tests (the whole suite, GPU required), reduce (bench reduce), stop (stop-test), blas
# (the drop-in BLAS from C under LD_PRELOAD: gpu-check.sh), blasbench (bench blas: the drop-in
# BLAS from Java through netlib JNIBLAS beside OpenBLAS, nvBLAS and the Java API).
# Limits in seconds (environment): ACCEPT_TESTS_S (420), ACCEPT_REDUCE_S (240),
# ACCEPT_STOP_S (120), ACCEPT_BLAS_S (180), ACCEPT_BLASBENCH_S (240); a step past its limit is
# killed (SIGKILL) and reported as such. ACCEPT_SKIP: steps to leave out, comma-separated
# (tests,reduce,stop,blas,blasbench).
# The tests print each result as it comes (--details=testfeed), so a cut run still counts.
# Exit 0 when every step that ran passed.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mkdir -p "${1:-acceptance}" && cd "${1:-acceptance}" && pwd)
skip=",${ACCEPT_SKIP:-},"
status=0
summary=()
step() { # name limit command...: runs one step with a hard limit, records its end
  local name=$1 limit=$2; shift 2
  if [[ $skip == *",$name,"* ]]; then summary+=("$name: skipped (ACCEPT_SKIP)"); return; fi
  local s; s=$(date +%s)
  timeout -s KILL "$limit" "$@"
  local rc=$?
  local took=$(( $(date +%s) - s ))
  if [ $rc -eq 137 ]; then summary+=("$name: KILLED at its limit of $limit s"); status=1
  elif [ $rc -ne 0 ]; then summary+=("$name: exit $rc after $took s"); status=1
  else summary+=("$name: ok after $took s"); fi
}

{ cat "$here/BUILD"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*'
  echo "cores: $(nproc)"; } > "$dir/machine.txt"

tests() {
  local cp="" scan="" j t
  for j in "$here"/lib/*.jar; do cp="$cp${cp:+:}$j"; done
  for t in "$here"/tests/*.jar; do cp="$cp:$t"; scan="$scan${scan:+:}$t"; done
  "$here/jre/bin/java" -Dgpucore.requireGpu=true "-Dgpucore.testClassPath=$cp" \
    -jar "$here"/junit/junit-platform-console-standalone-*.jar execute --disable-banner \
    --disable-ansi-colors --details=testfeed \
    "--config=junit.jupiter.execution.timeout.default=${GPUCORE_TEST_TIMEOUT:-300s}" \
    --reports-dir "$dir/reports" --class-path "$cp" --scan-class-path "$scan" \
    > "$dir/tests.txt" 2>&1
}
export here dir
export -f tests
step tests "${ACCEPT_TESTS_S:-420}" bash -c tests
[ -f "$dir/tests.txt" ] && summary+=("  tests: $(grep -c ':: SUCCESSFUL' "$dir/tests.txt" 2>/dev/null) successful, $(grep -c ':: FAILED' "$dir/tests.txt" 2>/dev/null) failed, $(grep -c ':: ABORTED' "$dir/tests.txt" 2>/dev/null) aborted")

step reduce "${ACCEPT_REDUCE_S:-240}" bash -c \
  "'$here/bin/gpucore' bench reduce --progress never --json '$dir/reduce.json' > '$dir/reduce.txt' 2>&1"

step stop "${ACCEPT_STOP_S:-120}" bash -c "'$here/bin/stop-test' -n 3 -w 8 -- bench gemm \
  --device-sizes 8192 --no-host --reps 100000 --peers none > '$dir/stop.txt' 2>&1"

blas() { # the drop-in BLAS from C under LD_PRELOAD: its library from the gpucore-blas jar,
  # OpenBLAS from the bundle's openblas jar
  local w="$dir/blas-work"
  rm -rf "$w" && mkdir -p "$w/lib" || return 1
  python3 - "$w" "$here"/lib/gpucore-blas-*.jar "$here"/lib/openblas-*-linux-x86_64.jar <<'PY' || return 1
import sys, zipfile, os
w = sys.argv[1]
for jar in sys.argv[2:]:
    with zipfile.ZipFile(jar) as z:
        for n in z.namelist():
            if n.endswith('.so') or '.so.' in os.path.basename(n):
                with open(os.path.join(w, 'lib', os.path.basename(n)), 'wb') as f:
                    f.write(z.read(n))
PY
  cp "$here/blas/gpu-check.sh" "$here/blas/gpu_check.c" "$w/"
  GPUCORE_OPENBLAS="$w/lib/libopenblas.so.0" bash "$w/gpu-check.sh" "$w" 8192 > "$dir/blas.txt" 2>&1
}
export -f blas
step blas "${ACCEPT_BLAS_S:-180}" bash -c blas

# bench blas at its default sizes (dgemm/sgemm 4096 and 8192, daxpy/ddot 64 and 1e6, dgemv 64
# and 4096, the Java API's fp64 GEMM at 8192); each figure also goes to stderr as a "partial:"
# line when measured, so a run cut at its limit still leaves them in blasbench.txt
step blasbench "${ACCEPT_BLASBENCH_S:-240}" bash -c \
  "'$here/bin/gpucore' bench blas --progress never --json '$dir/blasbench.json' > '$dir/blasbench.txt' 2>&1"

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-compute-apps=pid,name --format=csv,noheader > "$dir/gpu-processes-after.txt"
  summary+=("GPU processes left: $(grep -c . "$dir/gpu-processes-after.txt")")
fi
printf '%s\n' "${summary[@]}" | tee "$dir/summary.txt"
exit $status
