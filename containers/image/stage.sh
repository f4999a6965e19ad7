#!/usr/bin/env bash
# Lays out what the runtime image adds to its base, from the project's own build:
#
#   stage.sh BUNDLE_DIR OUT_DIR
#
#   BUNDLE_DIR  the unpacked GPU test bundle (java/bundle/target/gpucore-bundle, made by
#               `mvn -Pbundle -DskipTests package` through java/bundle/assemble.sh): the jlinked
#               JRE, the runtime jars, the test jars, the JUnit launcher, bin/gpucore, bin/run-tests
#   OUT_DIR     receives opt/gpucore/ (the bundle plus the image's own scripts); the runtime
#               stage copies OUT_DIR to / and runs opt/gpucore/image/setup.sh
#
# Used by containers/Dockerfile's build stage and, on a pre-built bundle, by the container test
# (containers/test/run-container-test.sh), so both lay out the same tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bundle=${1:?usage: stage.sh BUNDLE_DIR OUT_DIR}
out=${2:?usage: stage.sh BUNDLE_DIR OUT_DIR}

for p in jre/bin/java lib tests junit bin/gpucore bin/run-tests; do
  if [ ! -e "$bundle/$p" ]; then
    echo "stage.sh: $bundle/$p is missing: BUNDLE_DIR must be the unpacked GPU test bundle" \
         "(mvn -Pbundle -DskipTests package makes java/bundle/target/gpucore-bundle)" >&2
    exit 1
  fi
done
ls "$bundle"/lib/gpucore-cli-*.jar >/dev/null 2>&1 \
  || { echo "stage.sh: no gpucore-cli jar in $bundle/lib" >&2; exit 1; }

home=$out/opt/gpucore
rm -rf "$home"
mkdir -p "$home"
cp -a "$bundle"/. "$home"/
mkdir -p "$home/image"
install -m 0755 "$here/gpucore-entrypoint" "$home/bin/gpucore-entrypoint"
install -m 0755 "$here/setup.sh" "$home/image/setup.sh"
# what went in, for `gpucore-entrypoint info` and for people looking at the image
{
  echo "gpucore image contents (made by containers/image/stage.sh)"
  echo "jre: $("$home/jre/bin/java" -version 2>&1 | head -n 1)"
  echo "jre modules: $(tr '\n' ' ' < "$home/jre/release" | sed -n 's/.*MODULES="\([^"]*\)".*/\1/p')"
  echo "jars:"
  (cd "$home/lib" && ls -1 ./*.jar | sed 's|^\./|  lib/|')
  (cd "$home/tests" && ls -1 ./*.jar | sed 's|^\./|  tests/|')
} > "$home/image/contents.txt"
# root owns everything; everyone may read and run it
chmod -R u=rwX,go=rX "$home"
chmod 0755 "$home"/bin/* "$home/image/setup.sh"
echo "stage.sh: $home laid out ($(du -sm "$home" | cut -f1) MiB)"
