#!/usr/bin/env bash
# bin/stop-test: the CLI with GPU GEMMs in flight is stopped by SIGINT and by SIGTERM; each run
# must exit within 5 s with 130 / 143 and leave no process of it in nvidia-smi.
#
#   bin/stop-test [-n RUNS] [-w SECONDS] [-- CLI ARGS...]
#
#   -n RUNS     runs per signal (default 3)
#   -w SECONDS  how long the command runs before the signal (default 20)
#   CLI ARGS    the command (default: bench gemm --device-sizes 8192 --no-host --reps 100000
#               --peers none, a loop of GPU SGEMMs on device data)
# Environment: STOP_TEST_NO_NVIDIA_SMI=1 runs without nvidia-smi (no GPU process check: the
#   "GPU process" fields read n/a), e.g. on a machine without a GPU with -- demo --n 12000.
# The command runs as a background job under job control (set -m): without it bash starts
# background jobs with SIGINT ignored, and the JVM would never see the SIGINT sent to it.
# Exit 0 when every run passed.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=3 wait_s=20
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    -w) wait_s=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "stop-test: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || set -- bench gemm --device-sizes 8192 --no-host --reps 100000 --peers none
if [ "${STOP_TEST_NO_NVIDIA_SMI:-0}" = 1 ]; then
  gpu_pids() { :; }
  gpu_check=no
else
  command -v nvidia-smi >/dev/null || { echo "stop-test: nvidia-smi not found (STOP_TEST_NO_NVIDIA_SMI=1 runs without it)" >&2; exit 2; }
  gpu_pids() { nvidia-smi --query-compute-apps=pid --format=csv,noheader 2>/dev/null | tr -d ' '; }
  gpu_check=yes
fi

# job control: without it bash starts background jobs with SIGINT ignored, and a signal ignored
# at start stays ignored in the JVM (a foreground Ctrl-C, docker stop or kill are not affected)
set -m
status=0
for sig in INT TERM; do
  want=$(( 128 + $(kill -l "$sig") ))
  for i in $(seq 1 "$runs"); do
    log=$(mktemp)
    "$here/bin/gpucore" "$@" >"$log" 2>&1 &
    pid=$!
    # the JVM's pid is the script's (bin/gpucore execs java)
    sleep "$wait_s"
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAIL $sig run $i: the command ended before the signal:"; tail -n 5 "$log"; status=1; rm -f "$log"; continue
    fi
    on_gpu=n/a
    [ "$gpu_check" = no ] || { on_gpu=no; gpu_pids | grep -qx "$pid" && on_gpu=yes; }
    t0=$(date +%s%N)
    kill -s "$sig" "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "FAIL $sig run $i: still running 5 s after SIG$sig (GPU process before: $on_gpu)"
      kill -9 "$pid"; status=1; wait "$pid" 2>/dev/null; rm -f "$log"; continue
    fi
    wait "$pid"; rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    left=n/a
    if [ "$gpu_check" = yes ]; then
      sleep 1
      left=no
      gpu_pids | grep -qx "$pid" && left=yes
    fi
    verdict=ok
    { [ "$rc" -eq "$want" ] && [ "$left" != yes ]; } || { verdict=FAIL; status=1; }
    echo "$verdict $sig run $i: exit $rc (want $want) after $ms ms; GPU process before the signal: $on_gpu, after: $left"
    rm -f "$log"
  done
done
exit $status
