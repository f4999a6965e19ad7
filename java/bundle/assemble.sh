#!/usr/bin/env bash
# Assembles the GPU test bundle: target/gpucore-bundle.tar.gz, unpacking to gpucore-bundle/ with
#   jre/    a jlinked Java runtime (no Java needed on the GPU host)
#   lib/    runtime jars, the bench suites included (native libraries the project never loads
#           are stripped out)
#   tests/  the test jars of every module
#   junit/  the JUnit console launcher
#   bin/gpucore      the CLI
#   bin/stop-test    the CLI with GPU GEMMs in flight stops within 5 s of SIGINT/SIGTERM
#   bin/gpu-acceptance  every GPU check in one go (suite, bench reduce, stop-test, the drop-in
#                    BLAS from C), each with a hard time limit
#   blas/            the drop-in BLAS's GPU check (gpu-check.sh, gpu_check.c)
#   bin/run-tests    the whole suite with GPU tests enabled; --require-gpu fails without a GPU;
#                    each test fails after GPUCORE_TEST_TIMEOUT (default 300s, JUnit's
#                    default timeout) so a hung test names itself instead of hanging the run
set -euo pipefail
deps=$1
target=$2
out=$target/gpucore-bundle
limit_mib=55

for tool in jlink zip tar; do
  command -v "$tool" >/dev/null || { echo "assemble.sh: '$tool' is needed (apt-get install ${tool/jlink/openjdk-17-jdk-headless})" >&2; exit 1; }
done

rm -rf "$out" "$target/gpucore-bundle.tar.gz"
mkdir -p "$out"/{lib,tests,junit,bin}
for j in "$deps"/*.jar; do
  case "$(basename "$j")" in
    junit-platform-console-standalone-*) cp "$j" "$out/junit/" ;;
    *-tests.jar) cp "$j" "$out/tests/" ;;
    *) cp "$j" "$out/lib/" ;;
  esac
done

# Strip native libraries gpucore never loads: OpenBLAS with LAPACK (gpucore uses
# openblas_nolapack) and the CUDA presets other than cudart, cuBLAS and NVML.
for j in "$out"/lib/openblas-*-linux-x86_64.jar; do
  zip -q -d "$j" '*/libjniopenblas_full.so' '*/libjniopenblas.so' '*/include/*' '*/lib/cmake/*' '*/lib/pkgconfig/*' >/dev/null || true
done
for j in "$out"/lib/cuda-*-linux-x86_64.jar; do
  keep='libjnicudart.so|libjnicublas.so|libjninvml.so'
  drop=$(unzip -Z1 "$j" | grep -E '\.so(\.[0-9]+)*$' | grep -Ev "/($keep)$" || true)
  if [ -n "$drop" ]; then
    # shellcheck disable=SC2086
    zip -q -d "$j" $drop >/dev/null
  fi
done

java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
"$java_home/bin/jlink" --add-modules java.base,java.logging,java.management,java.sql,java.xml,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$out/jre" 2>&1 | grep -v "deprecated" || true
[ -x "$out/jre/bin/java" ] || { echo "assemble.sh: jlink failed" >&2; exit 1; }

# the commit the bundle was built from (bench reports name it)
repo=$(cd "$(dirname "$0")/../.." && pwd)
commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
printf 'commit=%s\nbuilt=%s\n' "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$out/BUILD"

cat > "$out/bin/gpucore" <<'SH'
#!/usr/bin/env bash
# gpucore CLI from the bundle.
here=$(cd "$(dirname "$0")/.." && pwd)
export GPUCORE_COMMIT=${GPUCORE_COMMIT:-$(sed -n 's/^commit=//p' "$here/BUILD" 2>/dev/null)}
exec "$here/jre/bin/java" $GPUCORE_JAVA_OPTS -cp "$here/lib/*" dev.gpucore.cli.Main "$@"
SH

cat > "$out/bin/run-tests" <<'SH'
#!/usr/bin/env bash
# Runs the whole gpucore test suite with the bundle's JRE and the JUnit console launcher.
#   --require-gpu   fail (instead of skip) every GPU test when no GPU is visible
#   --sanitizer     running under compute-sanitizer: skip the few largest sizes (too slow there)
#   other arguments go to the launcher (e.g. --select-class dev.gpucore.cuda.MathGpuTest)
# Every test method (and lifecycle method) fails after $GPUCORE_TEST_TIMEOUT (default 300s; a
# JUnit duration such as 90s, 10m or 2h), so a hung test fails with its name instead of
# hanging the run; a @Timeout on the test itself takes precedence.
# Exit code: 0 when every test passed, 1 otherwise. Reports: $GPUCORE_REPORTS (default ./test-reports).
here=$(cd "$(dirname "$0")/.." && pwd)
props=()
args=()
for a in "$@"; do
  case "$a" in
    --require-gpu) props+=("-Dgpucore.requireGpu=true") ;;
    --sanitizer) props+=("-Dgpucore.test.sanitizer=true") ;;
    *) args+=("$a") ;;
  esac
done
cp=""
for j in "$here"/lib/*.jar; do cp="$cp${cp:+:}$j"; done   # the launcher does not expand '*'
scan=()
for t in "$here"/tests/*.jar; do cp="$cp:$t"; scan+=("$t"); done
if [ ${#args[@]} -eq 0 ]; then
  args=(--scan-class-path "$(IFS=:; echo "${scan[*]}")")
fi
# tests that start a child JVM need the class path the launcher builds
exec "$here/jre/bin/java" "${props[@]}" "-Dgpucore.testClassPath=$cp" $GPUCORE_JAVA_OPTS -jar "$here"/junit/junit-platform-console-standalone-*.jar \
  execute --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
  "--config=junit.jupiter.execution.timeout.default=${GPUCORE_TEST_TIMEOUT:-300s}" \
  --reports-dir "${GPUCORE_REPORTS:-test-reports}" --class-path "$cp" "${args[@]}"
SH
cat > "$out/bin/run-sanitizers" <<'SH'
#!/usr/bin/env bash
# Runs the GPU tests (package dev.gpucore.cuda) under compute-sanitizer, one tool after another:
#   bin/run-sanitizers [memcheck] [initcheck] [synccheck] [racecheck]   (default: all four)
# with --require-gpu --sanitizer (cases over 2^20 + 1 elements skipped) and without the tests
# tagged provokes-cuda-errors (they cause CUDA errors on purpose: a real out-of-memory, a drill);
# the GEMM properties run their first 25 tries there (-Dgpucore.test.sanitizerTries=N).
# Each tool runs in two parts, so that a time limit loses only one: "gemm" (the GEMM, batched
# GEMM, GEMM property, doctor and fault classes) and "rest" (every other class). racecheck
# caps cases at 2^16 + 1 elements and leaves out the 16-thread soak (the tool loses
# track of its concurrent launches; its kernels run in the other classes).
# Each tool and part must finish within SANITIZER_LIMIT_S; memcheck over "rest" is the longest
# and needs the GPU to itself (run times: docs/benchmarks.md).
# Environment: SANITIZER_LIMIT_S (per tool and part, default 540), SANITIZER_SELECT (a launcher
# selection instead of the two parts), GPUCORE_REPORTS, the soak's size with
# GPUCORE_JAVA_OPTS (default -Dgpucore.soak.ops=30), and GPUCORE_TEST_TIMEOUT (each test's limit,
# default the part's: the tools slow tests down many times).
# Output: sanitizer-TOOL-PART.txt in the current folder; one summary line per tool and part;
# exit 1 when a tool reported errors, timed out or a test failed.
here=$(cd "$(dirname "$0")/.." && pwd)
cs=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(memcheck initcheck synccheck racecheck)
opts=${GPUCORE_JAVA_OPTS:--Dgpucore.soak.ops=30}
export GPUCORE_TEST_TIMEOUT=${GPUCORE_TEST_TIMEOUT:-${SANITIZER_LIMIT_S:-540}s}
gemm='GemmGpuTest|GemmBatchedGpuTest|GemmPropertyGpuTest|DoctorGpuTest|FaultGpuTest'
status=0
for tool in "${tools[@]}"; do
  if [ -n "${SANITIZER_SELECT:-}" ]; then
    parts=(selected)
  else
    parts=(gemm rest)
  fi
  for part in "${parts[@]}"; do
    extra=()
    export GPUCORE_JAVA_OPTS="$opts"
    case "$part" in
      selected) read -r -a select <<< "$SANITIZER_SELECT" ;;
      gemm) select=(--select-package dev.gpucore.cuda --include-classname ".*($gemm)") ;;
      rest) select=(--select-package dev.gpucore.cuda --exclude-classname ".*($gemm)") ;;
    esac
    if [ "$tool" = racecheck ]; then
      export GPUCORE_JAVA_OPTS="$opts -Dgpucore.test.sanitizerMaxElements=65537"
      [ "$part" = selected ] || extra=(--exclude-classname '.*ConcurrencySoakGpuTest')
    fi
    out="sanitizer-$tool-$part.txt"
    start=$(date +%s)
    GPUCORE_REPORTS=${GPUCORE_REPORTS:-test-reports}/$tool-$part timeout "${SANITIZER_LIMIT_S:-540}" \
      "$cs" --tool "$tool" --target-processes all --error-exitcode 9 --print-limit 100 \
      "$here/bin/run-tests" --require-gpu --sanitizer "${select[@]}" "${extra[@]}" \
      --exclude-tag provokes-cuda-errors > "$out" 2>&1
    rc=$?
    summary=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$out" | tail -1)
    tests=$(grep -E "tests (successful|failed)" "$out" | tr -s ' []' ' ' | paste -sd, -)
    echo "$tool $part: exit $rc after $(( $(date +%s) - start )) s; ${summary:-no summary}; ${tests:-no test count}"
    [ $rc -eq 0 ] || status=1
  done
done
exit $status
SH
cp "$(dirname "$0")/stop-test.sh" "$out/bin/stop-test"
cp "$(dirname "$0")/gpu-acceptance.sh" "$out/bin/gpu-acceptance"
mkdir -p "$out/blas"
cp "$(dirname "$0")/../../native/blas/gpu-check.sh" "$(dirname "$0")/../../native/blas/gpu_check.c" "$out/blas/"
chmod +x "$out/bin/"*

# the benchmark libraries stay with the JMH benchmarks (java/bench), never in the bundle
heavy=$(ls "$out/lib" "$out/tests" | grep -E '^(jmh-|ejml-|ojalgo-)' || true)
if [ -n "$heavy" ]; then
  echo "assemble.sh: benchmark-only libraries reached the bundle: $heavy" >&2
  exit 1
fi
# Spark (about 320 MB of jars) never goes to the GPU machines; java/spark keeps it at provided scope
spark=$(ls "$out/lib" "$out/tests" | grep -E '^(spark-|scala-library|scala-reflect|breeze_)' || true)
if [ -n "$spark" ]; then
  echo "assemble.sh: Spark's jars reached the bundle: $spark" >&2
  exit 1
fi
ls "$out"/lib/gpucore-bench-suites-*.jar >/dev/null 2>&1 || { echo "assemble.sh: the bench suites jar is missing" >&2; exit 1; }
# the bench blas suite calls ?gemm through netlib-java's JNIBLAS
ls "$out"/lib/blas-3.*.jar >/dev/null 2>&1 || { echo "assemble.sh: netlib-java's blas jar is missing" >&2; exit 1; }

tar -C "$target" -czf "$target/gpucore-bundle.tar.gz" gpucore-bundle
size=$(stat -c %s "$target/gpucore-bundle.tar.gz")
mib=$(( (size + 1048575) / 1048576 ))
echo "gpucore bundle: $target/gpucore-bundle.tar.gz, $mib MiB packed"
if [ "$mib" -gt "$limit_mib" ]; then
  echo "assemble.sh: the bundle is $mib MiB packed, over the $limit_mib MiB budget" >&2
  exit 1
fi
