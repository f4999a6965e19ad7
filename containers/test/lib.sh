# shellcheck shell=bash
# Shared helpers for the container test scripts (sourced, not run).
#
# Exit codes of the scripts that source this:
#   0   passed
#   77  skipped: something in the environment prevents the test (no root, no buildah, no
#       Debian mirror...); the reason is printed as "SKIP: ..." and written to $CT_SKIP_FILE
#   other  failed: the image was built (or was being built) and is wrong, or a step broke

# The stand-in base's root file system (minutes of debootstrap) is cached under the checkout,
# target/containers-test-cache (`mvn clean` at the top removes it), or where GPUCORE_CT_CACHE
# says (.ci/run may keep it elsewhere between runs). Nothing is written outside these.
CT_CACHE=${GPUCORE_CT_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/containers-test-cache}
# buildah keeps its own storage (vfs driver), apart from the machine's default storage: no clash
# with another storage driver configured there, and nothing left behind elsewhere. The container
# test gives each run its own (under its work folder) and deletes it at the end.
CT_STORAGE=${CT_STORAGE:-$CT_CACHE/storage}
CT_RUNROOT=${CT_RUNROOT:-$CT_CACHE/run}
CT_SKIP_FILE=${CT_SKIP_FILE:-}
# buildah run as root keeps a blob-info cache in /var/lib/containers/cache, which no flag moves:
# ct_restore_system (called by the scripts' cleanup) removes that folder again when it did not
# exist before the run.
CT_SYSTEM_CACHE=/var/lib/containers
CT_SYSTEM_CACHE_NEW=0
[ -e "$CT_SYSTEM_CACHE" ] || CT_SYSTEM_CACHE_NEW=1
ct_restore_system() {
  if [ "$CT_SYSTEM_CACHE_NEW" = 1 ]; then rm -rf "$CT_SYSTEM_CACHE"; fi
}

ct_log() { printf '[container-test %(%H:%M:%S)T] %s\n' -1 "$*"; }

ct_skip() {
  echo "SKIP: $*"
  if [ -n "$CT_SKIP_FILE" ]; then printf '%s\n' "$*" > "$CT_SKIP_FILE"; fi
  exit 77
}

ct_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# buildah with the test's storage, vfs driver and chroot isolation (no engine, no user namespaces).
ct_buildah() {
  buildah --root "$CT_STORAGE" --runroot "$CT_RUNROOT" --storage-driver vfs "$@"
}

# Runs "$@" with its output in a log file; on failure shows the log's tail and returns the status.
ct_quiet() {
  local logfile=$1; shift
  local rc=0
  "$@" >"$logfile" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "---- last lines of $logfile (exit $rc): $*" >&2
    tail -n 40 "$logfile" >&2
    echo "----" >&2
  fi
  return "$rc"
}
