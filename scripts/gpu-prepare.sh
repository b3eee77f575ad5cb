#!/usr/bin/env bash
# Here, before a GPU session (no GPU needed): builds the jars, links a JDK 25 runtime with jlink, and lays both out
# in the ignored folder gpu-carry/ for the device tool's `carry` (everything carried must stay under 64 MiB):
#   gpu-carry/jre/   the runtime (java.base, jdk.incubator.vector, java.logging, jdk.unsupported, jdk.zipfs for JUnit)
#   gpu-carry/lib/   loraid-tensor, its test classes (the CUDA golden tests, GpuTestMain), JUnit, loraid-bench
# Then, on the GPU machine: scripts/gpu-check.sh (see there). Exit 1 when the build fails or the folder is too big.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
source scripts/find-jdk.sh
carry="$root/gpu-carry"
limit=$((64 * 1024 * 1024))

echo "gpu-prepare: building tensor and bench (tests compiled, not run) ..." >&2
mvn -B -q -ntp -DskipTests -pl tensor,bench -am package
mvn -B -q -ntp -pl tensor dependency:copy-dependencies -DincludeScope=test -DexcludeArtifactIds=junit-jupiter \
  -DoutputDirectory="$root/tensor/target/test-deps"

rm -rf "$carry.tmp"
mkdir -p "$carry.tmp/lib"
echo "gpu-prepare: linking the runtime ..." >&2
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$carry.tmp/jre"
cp tensor/target/loraid-tensor-*.jar bench/target/loraid-bench-*.jar "$carry.tmp/lib/"
"$JAVA_HOME/bin/jar" --create --file "$carry.tmp/lib/loraid-tensor-tests.jar" -C tensor/target/test-classes .
cp tensor/target/test-deps/*.jar "$carry.tmp/lib/"
rm -rf "$carry"
mv "$carry.tmp" "$carry"

bytes=$(du -sb "$carry" | cut -f1)
printf 'gpu-prepare: %s is %.1f MiB (limit 64 MiB): jre %s, lib %s\n' "$carry" "$(echo "$bytes / 1048576" | bc -l)" \
  "$(du -sh "$carry/jre" | cut -f1)" "$(du -sh "$carry/lib" | cut -f1)"
if [ "$bytes" -gt "$limit" ]; then
  echo "gpu-prepare: gpu-carry is over 64 MiB: the device tool will not carry it" >&2
  exit 1
fi
# the runtime can run what it carries: the CUDA tests start (and skip here, without a GPU)
"$carry/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "$carry/lib/*" dev.loraid.tensor.cuda.GpuTestMain | tail -n 1
echo "gpu-prepare: ready; on the device: run(command='bash scripts/gpu-check.sh', carry=['gpu-carry'], timeout_s=580)" >&2
