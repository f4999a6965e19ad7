#!/usr/bin/env bash
# Runs once, as root, in the runtime stage of containers/Dockerfile after opt/gpucore was copied
# in: makes the unprivileged user, the command links and the data/results mount points, and
# checks that the jlinked JRE runs on this base image.
#
#   setup.sh UID GID
set -euo pipefail
uid=${1:?usage: setup.sh UID GID}
gid=${2:?usage: setup.sh UID GID}
home=/opt/gpucore

fail() { echo "setup.sh: $*" >&2; exit 1; }

# The user. ubuntu:24.04 (under nvidia/cuda) already has uid 1000 ("ubuntu"), hence 10001.
if getent passwd "$uid" >/dev/null; then
  fail "uid $uid is taken in the base image by '$(getent passwd "$uid" | cut -d: -f1)': pass another with --build-arg GPUCORE_UID=..."
fi
getent group "$gid" >/dev/null || groupadd --gid "$gid" gpucore
useradd --uid "$uid" --gid "$gid" --create-home --home-dir /home/gpucore --shell /bin/sh \
  --comment "gpucore (unprivileged)" gpucore

# `gpucore` (the entrypoint: the CLI, plus `test` for the GPU test suite) on PATH
ln -sf "$home/bin/gpucore-entrypoint" /usr/local/bin/gpucore
ln -sf "$home/bin/gpucore-entrypoint" /usr/local/bin/gpucore-entrypoint

# Mount points for input data (read) and results (written by the user): a named volume mounted
# there starts with this ownership.
mkdir -p /data /results
chown "$uid:$gid" /results
chmod 0755 /data /results

# The JRE must run on this base (glibc, zlib): fail the build here rather than at `docker run`.
"$home/jre/bin/java" -XX:-UsePerfData -version >/dev/null 2>&1 \
  || fail "the jlinked JRE does not run on this base image: $("$home/jre/bin/java" -XX:-UsePerfData -version 2>&1 | head -n 3)"
echo "setup.sh: user gpucore ($uid:$gid), /usr/local/bin/gpucore, /data, /results; JRE runs"
