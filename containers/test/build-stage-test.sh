#!/usr/bin/env bash
# Manual check of the whole containers/Dockerfile, build stage included (not run in CI: it
# downloads a JDK, Maven and the project's dependencies and takes several minutes):
#
#   containers/test/build-stage-test.sh [CUDA_DIR]
#
# Stands in for nvidia/cuda:13.0.1-devel-ubuntu24.04 with the runtime stand-in
# (standin-base.sh) plus a copy of this machine's CUDA 13 toolkit (CUDA_DIR, default: where
# /usr/local/cuda points) at /usr/local/cuda-13.0, then builds containers/Dockerfile from the
# repository root exactly as `docker build` would (PAYLOAD=build: JDK and Maven from the
# distribution's packages, mvn -Pbundle, stage.sh), and runs `gpucore devices` and
# `gpucore demo` in the result. Needs root and network access to the Debian mirror and Maven
# Central. Exit codes as in lib.sh (0, 77 skip, else failure).
# (PAYLOAD=build is passed explicitly: buildah 1.28 picks the stages to build before it applies
# ARG defaults, so `FROM ${PAYLOAD}` with the default alone would skip the build stage.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cuda_dir=$(readlink -f "${1:-/usr/local/cuda}")
[ "$(id -u)" -eq 0 ] || ct_skip "needs root"
command -v buildah >/dev/null || ct_skip "buildah is not installed"
[ -x "$cuda_dir/bin/nvcc" ] || ct_skip "no CUDA toolkit at $cuda_dir (nvcc missing)"
runtime_tag=localhost/gpucore-standin/cuda:13.0.1-runtime-ubuntu24.04
devel_tag=localhost/gpucore-standin/cuda:13.0.1-devel-ubuntu24.04
image=localhost/gpucore-runtime:full
mkdir -p "$here/../../target"
work=$(mktemp -d "$here/../../target/gpucore-build-stage.XXXXXX")
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
export CT_STORAGE=$work/storage CT_RUNROOT=$work/runroot   # this run's own, deleted at the end
ctrs=()
cleanup() {
  local c
  for c in "${ctrs[@]}"; do ct_buildah rm "$c" >/dev/null 2>&1 || true; done
  ct_buildah rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$CT_STORAGE" "$CT_RUNROOT"
  ct_restore_system
}
trap cleanup EXIT

( exec 9>"$CT_CACHE/standin.lock"; flock -w 900 9; bash "$here/standin-base.sh" "$runtime_tag" )

ct_log "stand-in devel image: runtime stand-in + $cuda_dir at /usr/local/cuda-13.0"
c=$(ct_buildah from --quiet "$runtime_tag"); ctrs+=("$c")
mnt=$(ct_buildah mount "$c")
rm -rf "$mnt/usr/local/cuda-13.0"
cp -a "$cuda_dir" "$mnt/usr/local/cuda-13.0"
# Certificate authorities this machine adds locally (a network that intercepts TLS): the build
# stage's ca-certificates and ca-certificates-java pick them up from there when installed.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$mnt/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$mnt/usr/local/share/ca-certificates/"
fi
ct_buildah umount "$c" >/dev/null
ct_buildah commit --quiet --format docker "$c" "$devel_tag" >/dev/null

ct_log "buildah bud containers/Dockerfile (all stages; log: $work/build.log)"
start=$(date +%s)
ct_quiet "$work/build.log" ct_buildah bud --isolation chroot --format docker --layers=false \
  -f "$repo/containers/Dockerfile" --ignorefile "$repo/containers/Dockerfile.dockerignore" \
  --build-arg PAYLOAD=build --build-arg BUILD_IMAGE="$devel_tag" --build-arg RUNTIME_IMAGE="$runtime_tag" \
  -t "$image" "$repo" || ct_fail "containers/Dockerfile did not build (log: $work/build.log)"
ct_log "built in $(( $(date +%s) - start ))s"

c=$(ct_buildah from --quiet "$image"); ctrs+=("$c")
ct_buildah run --isolation chroot "$c" -- /usr/local/bin/gpucore devices | tee "$work/devices.out"
grep -q '^No GPU visible: ' "$work/devices.out" || ct_fail "gpucore devices did not print the no-GPU line"
ct_buildah run --isolation chroot "$c" -- /usr/local/bin/gpucore demo --n 300 | tee "$work/demo.out"
grep -q '^cpu : gemm .*sum(C) = ' "$work/demo.out" || ct_fail "gpucore demo printed no CPU result"
ct_buildah run --isolation chroot "$c" -- sh -c 'id; ls /opt/gpucore /opt/gpucore/lib'
ct_log "PASS: the whole Dockerfile builds and the image runs (work: $work)"
