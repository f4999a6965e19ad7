#!/usr/bin/env bash
# Makes a stand-in for nvidia/cuda:<version>-runtime-ubuntu24.04 when no image registry can be
# reached: a Debian (bookworm, minbase) root file system from debootstrap, laid out with the
# paths and environment of the nvidia/cuda images, committed into the container test's buildah
# storage (containers/test/lib.sh) as an image.
#
#   standin-base.sh IMAGE_TAG
#
# It holds no CUDA library and no driver: inside it gpucore must find no GPU and say why, which
# is what the test checks. The Debian mirror is read from this machine's apt sources at run time
# (GPUCORE_CT_MIRROR overrides it); nothing names a host here.
#
# Cached: the root file system as a tarball under $GPUCORE_CT_CACHE (default
# target/containers-test-cache in the checkout), keyed by this script's content; the image is kept in the
# test's storage and made again only when the key changes.
#
# Exit codes as in lib.sh: 0 done, 77 cannot be done here (reason printed), other: failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

tag=${1:?usage: standin-base.sh IMAGE_TAG}
suite=bookworm
cuda_version=13.0.1      # the version the stand-in pretends to be (paths and NVIDIA_REQUIRE_CUDA)
cuda_mm=${cuda_version%.*}
cuda_major=${cuda_mm%%.*}

key=$(sha256sum "$0" | cut -c1-16)
rootfs_tar=$CT_CACHE/standin-rootfs-$suite-$key.tar

# The Debian archive of this machine's apt sources: the first "deb" entry for $suite itself (not
# -updates or -security), in one-line (.list) or deb822 (.sources) form.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [opts] URI SUITE COMPONENTS...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no" && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = ""; suites = ""; uris = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { line = $0; k = tolower(substr(line, 1, index(line, ":") - 1)); v = substr(line, index(line, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", v)
        if (k == "types") types = v; else if (k == "suites") suites = v
        else if (k == "uris") uris = v; else if (k == "enabled") enabled = tolower(v) }
      END { if (!found) flush() }' "$f"
  done
}

make_rootfs() {
  local mirror=$1 dir
  dir=$(mktemp -d "$CT_CACHE/rootfs.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$dir'" EXIT
  ct_log "debootstrap --variant=minbase $suite (a few minutes; log: $CT_CACHE/debootstrap.log)"
  if ! ct_quiet "$CT_CACHE/debootstrap.log" debootstrap --variant=minbase "$suite" "$dir" "$mirror"; then
    if grep -qiE "Failed getting release file|Couldn't download|unable to fetch|Temporary failure resolving|Could not resolve|Connection (refused|timed out)" "$CT_CACHE/debootstrap.log"; then
      ct_skip "debootstrap could not reach the Debian mirror $mirror (see $CT_CACHE/debootstrap.log)"
    fi
    ct_skip "debootstrap failed here (see $CT_CACHE/debootstrap.log)"
  fi

  # The layout of nvidia/cuda:<v>-runtime-ubuntu24.04, without its libraries:
  #   /usr/local/cuda -> cuda-13.0, lib64 -> targets/x86_64-linux/lib, compat/ (forward compatibility)
  #   /usr/local/nvidia/{bin,lib,lib64} (where nvidia-docker v1 mounted the driver) in ld.so.conf.d
  local cu=$dir/usr/local/cuda-$cuda_mm
  mkdir -p "$cu/bin" "$cu/targets/x86_64-linux/lib" "$cu/compat" "$dir/usr/local/nvidia/bin" \
           "$dir/usr/local/nvidia/lib" "$dir/usr/local/nvidia/lib64"
  ln -s targets/x86_64-linux/lib "$cu/lib64"
  ln -s "cuda-$cuda_mm" "$dir/usr/local/cuda"
  ln -s "cuda-$cuda_mm" "$dir/usr/local/cuda-$cuda_major"
  printf '/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n' > "$dir/etc/ld.so.conf.d/nvidia.conf"
  printf '/usr/local/cuda/targets/x86_64-linux/lib\n' > "$dir/etc/ld.so.conf.d/988_cuda-$cuda_major.conf"
  chroot "$dir" /sbin/ldconfig
  # ubuntu:24.04 ships a user "ubuntu" with uid 1000: the image must not count on that uid being free
  chroot "$dir" /usr/sbin/useradd --create-home --uid 1000 --shell /bin/bash ubuntu
  printf 'stand-in for nvidia/cuda:%s-runtime-ubuntu24.04 (Debian %s, no CUDA libraries, no driver)\n' \
    "$cuda_version" "$suite" > "$dir/etc/gpucore-standin"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
         "$dir"/var/log/* "$dir"/debootstrap
  tar --numeric-owner --xattrs -C "$dir" -cf "$rootfs_tar.part" .
  rm -f "$CT_CACHE"/standin-rootfs-*.tar    # those of older versions of this script
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$dir"
  trap - EXIT
}

[ "$(id -u)" -eq 0 ] || ct_skip "needs root (debootstrap, and buildah with vfs storage and chroot isolation)"
mkdir -p "$CT_CACHE"

existing=$(ct_buildah inspect --type image --format '{{index .OCIv1.Config.Labels "dev.gpucore.standin.key"}}' "$tag" 2>/dev/null || true)
if [ "$existing" = "$key" ]; then
  ct_log "stand-in base $tag is up to date (key $key)"
  exit 0
fi

if [ ! -f "$rootfs_tar" ]; then
  command -v debootstrap >/dev/null || ct_skip "debootstrap is not installed (apt-get install debootstrap)"
  mirror=${GPUCORE_CT_MIRROR:-$(debian_mirror | head -n 1)}
  [ -n "$mirror" ] || ct_skip "no Debian '$suite' archive in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/); set GPUCORE_CT_MIRROR to one"
  make_rootfs "$mirror"
else
  ct_log "cached stand-in root file system: $rootfs_tar"
fi

ct_log "committing the stand-in base image $tag"
ctr=$(ct_buildah from --quiet scratch 2>"$CT_CACHE/buildah-from.log") \
  || ct_skip "buildah cannot make a container here: $(tail -n 1 "$CT_CACHE/buildah-from.log")"
cleanup() { ct_buildah rm "$ctr" >/dev/null 2>&1 || true; }
trap cleanup EXIT
mnt=$(ct_buildah mount "$ctr" 2>"$CT_CACHE/buildah-mount.log") \
  || ct_skip "buildah cannot mount a container here: $(tail -n 1 "$CT_CACHE/buildah-mount.log")"
tar --numeric-owner --xattrs -C "$mnt" -xpf "$rootfs_tar"
ct_buildah umount "$ctr" >/dev/null
# The environment of the nvidia/cuda base and runtime images. NVIDIA_VISIBLE_DEVICES and
# NVIDIA_DRIVER_CAPABILITIES are left out on purpose (the real base sets them): the test then
# shows that gpucore's own image sets them. NVIDIA_REQUIRE_CUDA is set to a value the image
# must replace with its own.
ct_buildah config \
  --env NVARCH=x86_64 \
  --env CUDA_VERSION="$cuda_version" \
  --env NVIDIA_REQUIRE_CUDA="cuda>=$cuda_mm brand=stand-in,driver>=0" \
  --env PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64 \
  --cmd /bin/bash \
  --label dev.gpucore.standin.key="$key" \
  --label org.opencontainers.image.title="stand-in for nvidia/cuda:$cuda_version-runtime-ubuntu24.04" \
  --label org.opencontainers.image.description="Debian $suite minbase with the nvidia/cuda paths and environment; no CUDA libraries" \
  "$ctr"
ct_buildah rmi --force "$tag" >/dev/null 2>&1 || true
ct_buildah commit --quiet --format docker "$ctr" "$tag" >/dev/null
ct_log "stand-in base image $tag made (key $key)"
