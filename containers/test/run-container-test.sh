#!/usr/bin/env bash
# The container test: builds the runtime stage of containers/Dockerfile with buildah (chroot
# isolation, vfs storage) on a stand-in for the nvidia/cuda runtime image (standin-base.sh: no
# image registry is needed), from the GPU test bundle of the project's own Maven build, runs it
# and checks it; then builds and runs the example application image on it.
#
#   run-container-test.sh (--deps DIR | --bundle DIR) [--work DIR] [--expect-sum X]
#                         [--export-tree FILE] [--keep-images]
#
#   --deps DIR         the bundle's dependency jars (what java/bundle copies for assemble.sh):
#                      java/bundle/assemble.sh makes the bundle from them (as `mvn -Pbundle` does)
#   --bundle DIR       an unpacked bundle (gpucore-bundle/) instead
#   --work DIR         scratch and outputs (default: java/containers-test/target/container-test)
#   --expect-sum X     the exact sum(C) of `gpucore demo --n 300 --seed 42`; the demo's answer in
#                      the container must match it to 1e-5 (the JUnit test computes it)
#   --export-tree FILE also write the layer the project adds to the base (a .tar.gz of the runtime
#                      file tree, for containers/gpu-smoke.sh on a GPU machine)
#   --keep-images      leave the built images in the test's buildah storage
#
# Run as root (debootstrap, buildah with vfs storage). It installs nothing: without buildah or
# debootstrap it skips (.ci/run installs them in CI). Exit codes: 0 passed; 77 skipped (the environment cannot
# run it: the reason follows "SKIP:"); anything else failed ("FAIL:" says what).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

deps="" bundle="" work="$repo/java/containers-test/target/container-test" expect_sum="" export_tree="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deps) deps=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --expect-sum) expect_sum=$2; shift 2 ;;
    --export-tree) export_tree=$2; shift 2 ;;
    --keep-images) keep=1; shift ;;
    *) echo "run-container-test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$deps" ] || [ -n "$bundle" ] || { echo "run-container-test.sh: give --deps DIR or --bundle DIR" >&2; exit 2; }

layer_budget_mb=150          # the layer gpucore adds to the base, uncompressed, in MB (10^6 bytes)
tree_budget_mib=60           # the exported runtime tree, gzip-compressed, in MiB
standin_tag=localhost/gpucore-standin/cuda:13.0.1-runtime-ubuntu24.04
runtime_tag=localhost/gpucore-runtime:test
example_tag=localhost/gpucore-example:test

started=$(date +%s)
rm -rf "$work"
mkdir -p "$work"
export CT_SKIP_FILE=$work/skip-reason
# this run's own image storage: nothing shared with other runs, all of it deleted at the end
export CT_STORAGE=$work/storage CT_RUNROOT=$work/runroot

step() { ct_log "[$(( $(date +%s) - started ))s] $*"; }
pass() { echo "  ok: $*"; }

# --- 1. what the test needs -------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || ct_skip "needs root (debootstrap, and buildah with vfs storage and chroot isolation); running as $(id -un)"
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] || ct_skip "${missing[*]} not installed (.ci/run installs them: apt-get install buildah debootstrap)"
# buildah's large temporary files go to TMPDIR (default /var/tmp): keep them in the work folder
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -x "$java_home/bin/javac" ] || ct_fail "no JDK: set JAVA_HOME (javac and jlink are needed)"
mkdir -p "$CT_CACHE"

containers=()   # working containers of this run
cleanup() {
  local c
  for c in "${containers[@]}"; do ct_buildah rm "$c" >/dev/null 2>&1 || true; done
  if [ "$keep" -eq 0 ]; then
    ct_buildah rmi --all --force >/dev/null 2>&1 || true
    rm -rf "$CT_STORAGE" "$CT_RUNROOT"
  else
    echo "images kept: buildah --root $CT_STORAGE --runroot $CT_RUNROOT --storage-driver vfs images"
  fi
  ct_restore_system
}
trap cleanup EXIT

# --- 2. the payload: the bundle of this build, laid out by stage.sh ---------------------------
if [ -n "$deps" ]; then
  step "assembling the GPU test bundle from $deps with java/bundle/assemble.sh"
  ct_quiet "$work/assemble.log" env JAVA_HOME="$java_home" bash "$repo/java/bundle/assemble.sh" "$deps" "$work/bundle" \
    || ct_fail "java/bundle/assemble.sh failed (log: $work/assemble.log)"
  bundle=$work/bundle/gpucore-bundle
fi
context=$work/context
step "laying out /opt/gpucore with containers/image/stage.sh"
ct_quiet "$work/stage.log" bash "$repo/containers/image/stage.sh" "$bundle" "$context/prebuilt" \
  || ct_fail "containers/image/stage.sh failed (log: $work/stage.log)"

# --- 3. the stand-in base ---------------------------------------------------------------------
step "stand-in base image (containers/test/standin-base.sh)"
rc=0
( exec 9>"$CT_CACHE/standin.lock"; flock -w 900 9; bash "$here/standin-base.sh" "$standin_tag" ) || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"    # 77 (skip, reason printed) or a failure
probe=$(ct_buildah from --quiet "$standin_tag" 2>"$work/probe.log") \
  || ct_skip "buildah cannot make a container here: $(tail -n 1 "$work/probe.log")"
containers+=("$probe")
ct_buildah run --isolation chroot "$probe" -- /bin/true >>"$work/probe.log" 2>&1 \
  || ct_skip "buildah cannot run a container here (chroot isolation): $(tail -n 1 "$work/probe.log")"
ct_buildah rm "$probe" >/dev/null

# --- 4. the runtime image: containers/Dockerfile, runtime stage, payload pre-built -------------
step "buildah bud containers/Dockerfile --target runtime (PAYLOAD=prebuilt, base: stand-in)"
ct_quiet "$work/build-runtime.log" ct_buildah bud --isolation chroot --format docker --layers=false \
  -f "$repo/containers/Dockerfile" --target runtime \
  --build-arg PAYLOAD=prebuilt --build-arg RUNTIME_IMAGE="$standin_tag" \
  --build-arg VCS_REF=container-test --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$runtime_tag" "$context" \
  || ct_fail "the runtime image did not build (log: $work/build-runtime.log)"

# --- 5. its configuration ----------------------------------------------------------------------
step "checking the image configuration"
inspect() { ct_buildah inspect --type image --format "$1" "$runtime_tag"; }
inspect '{{range .Docker.Config.Env}}{{.}}{{"\n"}}{{end}}' > "$work/config-env.txt"
for want in NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility 'NVIDIA_REQUIRE_CUDA=cuda>=13.0'; do
  grep -qxF "$want" "$work/config-env.txt" || ct_fail "image environment lacks $want: $(tr '\n' ' ' < "$work/config-env.txt")"
done
pass "environment: NVIDIA_VISIBLE_DEVICES=all, NVIDIA_DRIVER_CAPABILITIES=compute,utility, NVIDIA_REQUIRE_CUDA=cuda>=13.0"
user=$(inspect '{{.Docker.Config.User}}')
case "$user" in
  "" | 0 | 0:* | root | root:*) ct_fail "the image runs as root (User='$user')" ;;
  [0-9]*) pass "user $user (numeric, not root)" ;;
  *) ct_fail "the image user '$user' is not numeric (Kubernetes runAsNonRoot cannot check a name)" ;;
esac
uid=${user%%:*}
health=$(inspect '{{range .Docker.Config.Healthcheck.Test}}{{.}} {{end}}')
[ "$health" = "CMD gpucore devices --require-gpu " ] || ct_fail "HEALTHCHECK is '$health', expected CMD gpucore devices --require-gpu"
pass "HEALTHCHECK: ${health% }"
mapfile -t entry < <(inspect '{{range .Docker.Config.Entrypoint}}{{.}}{{"\n"}}{{end}}')
mapfile -t cmd < <(inspect '{{range .Docker.Config.Cmd}}{{.}}{{"\n"}}{{end}}')
[ "${entry[*]-}" = /usr/local/bin/gpucore ] || ct_fail "ENTRYPOINT is '${entry[*]-}', expected /usr/local/bin/gpucore"
pass "ENTRYPOINT ${entry[*]}, CMD ${cmd[*]-}"
for l in org.opencontainers.image.title org.opencontainers.image.version org.opencontainers.image.revision \
         org.opencontainers.image.created org.opencontainers.image.base.name; do
  v=$(inspect "{{index .Docker.Config.Labels \"$l\"}}")
  [ -n "$v" ] || ct_fail "label $l is missing"
done
[ "$(inspect '{{index .Docker.Config.Labels "org.opencontainers.image.base.name"}}')" = "$standin_tag" ] \
  || ct_fail "label org.opencontainers.image.base.name does not name the base the image was built on"
pass "OCI labels (title, version, revision, created, base.name)"

# --- 6. running it -----------------------------------------------------------------------------
ctr=$(ct_buildah from --quiet "$runtime_tag")
containers+=("$ctr")
# run NAME ARGS...: runs ARGS in the container (as the image's user, with its environment);
# stdout in $work/NAME.out, stderr in $work/NAME.err, the exit status in $rc
run() {
  local name=$1; shift
  rc=0
  ct_buildah run --isolation chroot "$ctr" -- "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
}
show() { echo "---- $1 (exit $rc): stdout"; cat "$work/$1.out"; echo "---- stderr"; tail -n 30 "$work/$1.err"; echo "----"; }
no_gpu_line() { head -n 1 "$work/$1.out" | grep -q '^No GPU visible: .\+'; }

step "running the image: ENTRYPOINT + CMD (gpucore devices)"
run devices "${entry[@]}" "${cmd[@]}"
{ [ "$rc" -eq 0 ] && no_gpu_line devices; } || { show devices; ct_fail "'gpucore devices' without a GPU must print 'No GPU visible: <reason>' and exit 0"; }
pass "devices: $(head -n 1 "$work/devices.out") (exit 0)"
grep -q 'no NVIDIA device in this container' "$work/devices.err" \
  || { show devices; ct_fail "the entrypoint did not say how to pass GPUs in (stderr)"; }
pass "the entrypoint says how to pass GPUs in (stderr)"

run health gpucore devices --require-gpu
{ [ "$rc" -eq 1 ] && no_gpu_line health; } || { show health; ct_fail "the HEALTHCHECK command must exit 1 without a GPU"; }
pass "HEALTHCHECK command without a GPU: exit 1 (unhealthy), says why"

step "gpucore demo --n 300 --seed 42 (CPU)"
run demo "${entry[@]}" demo --n 300 --seed 42
[ "$rc" -eq 0 ] || { show demo; ct_fail "'gpucore demo' failed in the container"; }
sum=$(sed -n 's/^cpu : gemm .*sum(C) = \([-+0-9.eE]*\).*/\1/p' "$work/demo.out")
[ -n "$sum" ] || { show demo; ct_fail "'gpucore demo' printed no 'cpu : gemm ... sum(C) = ...' line"; }
grep -q '^gpu : skipped (.\+)' "$work/demo.out" || { show demo; ct_fail "'gpucore demo' did not say why the GPU part was skipped"; }
if [ -n "$expect_sum" ]; then
  awk -v s="$sum" -v e="$expect_sum" 'BEGIN { d = s - e; if (d < 0) d = -d; exit !(d <= 1e-5 * (e < 0 ? -e : e)) }' \
    || { show demo; ct_fail "demo: sum(C) = $sum in the container, expected $expect_sum (rel. 1e-5)"; }
  pass "demo: sum(C) = $sum, expected $expect_sum"
else
  pass "demo: sum(C) = $sum (no --expect-sum given: not compared)"
fi

step "user, environment and permissions inside"
run inside "${entry[@]}" sh -c 'id -u; id -un; for v in NVIDIA_VISIBLE_DEVICES NVIDIA_DRIVER_CAPABILITIES NVIDIA_REQUIRE_CUDA JAVA_HOME; do printf "%s=%s\n" "$v" "$(printenv "$v")"; done; if [ -w /opt/gpucore/lib ]; then echo opt-writable; fi; if [ -w /results ]; then echo results-writable; fi; command -v java'
[ "$rc" -eq 0 ] || { show inside; ct_fail "could not run a shell through the entrypoint"; }
in_uid=$(sed -n 1p "$work/inside.out")
if [ "$in_uid" = 0 ] || [ "$in_uid" != "$uid" ]; then
  show inside; ct_fail "runs as uid '$in_uid' inside, expected the image user $uid (not root)"
fi
for want in NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility 'NVIDIA_REQUIRE_CUDA=cuda>=13.0' \
            JAVA_HOME=/opt/gpucore/jre results-writable /opt/gpucore/jre/bin/java; do
  grep -qxF "$want" "$work/inside.out" || { show inside; ct_fail "inside the container: '$want' expected"; }
done
! grep -qx opt-writable "$work/inside.out" || { show inside; ct_fail "/opt/gpucore is writable by the image user"; }
pass "runs as $(sed -n 2p "$work/inside.out") (uid $in_uid); NVIDIA_* set; /opt/gpucore read-only to it; /results writable; java on PATH"

step "gpucore test (the GPU test suite in the image)"
run suite "${entry[@]}" test
{ [ "$rc" -eq 0 ] && grep -q '\[ *0 tests failed *\]' "$work/suite.out" && grep -q '\[ *[1-9][0-9]* tests successful *\]' "$work/suite.out"; } \
  || { show suite; ct_fail "'gpucore test' must pass without a GPU (GPU tests skipped)"; }
pass "test: $(grep -o '[0-9]* tests successful' "$work/suite.out"), $(grep -o '[0-9]* tests aborted' "$work/suite.out") (skipped: no GPU), 0 failed"
# one GPU test class is enough to show that --require-gpu turns the skips into failures
run suite-require "${entry[@]}" test --require-gpu --select-class dev.gpucore.cuda.GemmGpuTest
{ [ "$rc" -ne 0 ] && grep -q '\[ *[1-9][0-9]* tests failed *\]' "$work/suite-require.out"; } \
  || { show suite-require; ct_fail "'gpucore test --require-gpu' must fail without a GPU"; }
pass "test --require-gpu --select-class dev.gpucore.cuda.GemmGpuTest without a GPU: exit $rc, $(grep -o '[0-9]* tests failed' "$work/suite-require.out")"

# --- 7. the layer gpucore adds -----------------------------------------------------------------
step "measuring the layer the image adds to its base"
base_layers=$(ct_buildah inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$standin_tag")
ct_quiet "$work/push.log" ct_buildah push --quiet "$runtime_tag" "oci:$work/oci" || ct_fail "buildah push to an OCI layout failed (log: $work/push.log)"
manifest=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$work/oci/index.json" | head -n 1 | cut -d: -f3 | tr -d '"')
mapfile -t layers < <(sed 's/.*"layers":\[//' "$work/oci/blobs/sha256/$manifest" | grep -o '"digest":"sha256:[0-9a-f]*"' | cut -d: -f3 | tr -d '"')
added=("${layers[@]:$base_layers}")
[ ${#added[@]} -ge 1 ] || ct_fail "the image adds no layer to its base?"
raw=0 packed=0
for d in "${added[@]}"; do
  b=$work/oci/blobs/sha256/$d
  packed=$(( packed + $(stat -c %s "$b") ))
  raw=$(( raw + $(gzip -dc "$b" | wc -c) ))
done
gzip -dc "$work/oci/blobs/sha256/${added[0]}" | tar -tv > "$work/layer-files.txt"
{
  echo "runtime image: ${#layers[@]} layers, ${#added[@]} added to the base ($base_layers layers)"
  echo "added layer(s): $raw bytes uncompressed ($(( raw / 1000000 )) MB, $(( raw / 1048576 )) MiB), $packed bytes gzip ($(( packed / 1048576 )) MiB)"
  echo "largest parts:"
  awk '{ n = split($6, p, "/"); k = (n > 3) ? p[1] "/" p[2] "/" p[3] : $6; s[k] += $3 }
       END { for (k in s) if (s[k] >= 50000) printf "  %6.1f MB  %s\n", s[k] / 1e6, k }' \
    "$work/layer-files.txt" | sort -rn | head -n 8
} | tee "$work/layer-size.txt"
[ "$raw" -le $(( layer_budget_mb * 1000000 )) ] || ct_fail "the layer gpucore adds is $(( raw / 1000000 )) MB, over the $layer_budget_mb MB budget"
pass "added layer under $layer_budget_mb MB"
if [ -n "$export_tree" ]; then
  [ ${#added[@]} -eq 1 ] || ct_fail "--export-tree: expected one added layer, found ${#added[@]}"
  mkdir -p "$(dirname "$export_tree")"
  cp "$work/oci/blobs/sha256/${added[0]}" "$export_tree"
  [ "$packed" -le $(( tree_budget_mib * 1048576 )) ] || ct_fail "the runtime tree is $(( packed / 1048576 )) MiB packed, over $tree_budget_mib MiB"
  pass "runtime tree written to $export_tree ($(( packed / 1048576 )) MiB; unpack it and run containers/gpu-smoke.sh on it)"
fi
rm -rf "$work/oci"

# --- 8. the example application image on it ----------------------------------------------------
step "the example application image (containers/example/Dockerfile) on the runtime image"
ex=$work/example-context
mkdir -p "$ex/prebuilt/app" "$work/example-classes"
ct_quiet "$work/example-javac.log" "$java_home/bin/javac" --release 17 -Xlint:all,-path -Werror -cp "$bundle/lib/*" \
  -d "$work/example-classes" "$repo/containers/example/src/example/App.java" \
  || ct_fail "containers/example/src/example/App.java does not compile against the gpucore jars (log: $work/example-javac.log)"
"$java_home/bin/jar" --create --file "$ex/prebuilt/app/gpucore-example.jar" -C "$work/example-classes" .
ct_quiet "$work/build-example.log" ct_buildah bud --isolation chroot --format docker --layers=false \
  -f "$repo/containers/example/Dockerfile" --build-arg APP=prebuilt --build-arg GPUCORE_IMAGE="$runtime_tag" \
  -t "$example_tag" "$ex" \
  || ct_fail "the example image did not build (log: $work/build-example.log)"
mapfile -t ex_entry < <(ct_buildah inspect --type image --format '{{range .Docker.Config.Entrypoint}}{{.}}{{"\n"}}{{end}}' "$example_tag")
mapfile -t ex_cmd < <(ct_buildah inspect --type image --format '{{range .Docker.Config.Cmd}}{{.}}{{"\n"}}{{end}}' "$example_tag")
ct_buildah rm "$ctr" >/dev/null
ctr=$(ct_buildah from --quiet "$example_tag")
containers+=("$ctr")
run example "${ex_entry[@]}" "${ex_cmd[@]}"
{ [ "$rc" -eq 0 ] && grep -q '^gpucore example: .* OK (backend cpu; no GPU: .\+)$' "$work/example.out"; } \
  || { show example; ct_fail "the example application did not compute the right answer on the CPU"; }
pass "$(cat "$work/example.out")"
run example-results cat /results/example.txt
{ [ "$rc" -eq 0 ] && cmp -s "$work/example.out" "$work/example-results.out"; } \
  || { show example-results; ct_fail "the example did not write /results/example.txt"; }
pass "the example wrote /results/example.txt as the unprivileged user"

step "PASS: container test done in $(( $(date +%s) - started ))s"
echo "PASS"
