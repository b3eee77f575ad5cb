#!/usr/bin/env bash
# Here, before a GPU session (no GPU needed): builds the jars, links a JDK 25 runtime with jlink, and lays both out
# in the ignored folder gpu-carry/ for the device tool's `carry` (everything carried must stay under 64 MiB):
#   gpu-carry/jre/   the runtime (java.base, jdk.incubator.vector, java.logging, jdk.unsupported, jdk.zipfs for JUnit)
#   gpu-carry/lib/   loraid-tensor, -autograd, -wan, -core, -cli (the tiny `train` run of gpu-check.sh) and their
#                    runtime libraries (Jackson TOML, commons-cli, ...); the test classes of tensor (the CUDA golden
#                    tests, GpuTestMain), wan and core (the model tests that follow -Dloraid.test.device); JUnit;
#                    loraid-bench
# (the golden files the tests read, testdata/golden, are tracked: they travel with the working tree, not in here)
# Then, on the GPU machine: scripts/gpu-check.sh (see there). Exit 1 when the build fails or the folder is too big.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
source scripts/find-jdk.sh
carry="$root/gpu-carry"
limit=$((64 * 1024 * 1024))

echo "gpu-prepare: building tensor, autograd, wan, core, cli and bench (tests compiled, not run) ..." >&2
mvn -B -q -ntp -DskipTests -pl tensor,autograd,wan,core,cli,bench -am package
# JUnit for the device tests, without Jazzer (8.7 MB: the fuzz tests do not run on the device)
rm -rf "$root/tensor/target/test-deps"
mvn -B -q -ntp -pl tensor dependency:copy-dependencies -DincludeScope=test -DexcludeArtifactIds=junit-jupiter \
  -DexcludeGroupIds=com.code-intelligence -DoutputDirectory="$root/tensor/target/test-deps"
# the CLI's runtime libraries, without the loraid modules (copied from the build above, not from ~/.m2), JUnit, and
# the image and video codecs (`train` on cached latents needs neither; they would take the carry over 64 MiB)
rm -rf "$root/cli/target/runtime-deps"
mvn -B -q -ntp -pl cli dependency:copy-dependencies -DincludeScope=runtime \
  -DexcludeGroupIds=dev.loraid,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.jcodec,com.twelvemonkeys.imageio,com.twelvemonkeys.common \
  -DoutputDirectory="$root/cli/target/runtime-deps"

rm -rf "$carry.tmp"
mkdir -p "$carry.tmp/lib"
echo "gpu-prepare: linking the runtime ..." >&2
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$carry.tmp/jre"
for m in tensor autograd wan core cli bench; do
  cp "$m"/target/loraid-"$m"-*.jar "$carry.tmp/lib/"
done
rm -f "$carry.tmp/lib/"*-SNAPSHOT-tests.jar # the tensor test-jar: the same classes as loraid-tensor-tests.jar below
cp cli/target/runtime-deps/*.jar "$carry.tmp/lib/"
for m in tensor wan core; do
  "$JAVA_HOME/bin/jar" --create --file "$carry.tmp/lib/loraid-$m-tests.jar" -C "$m"/target/test-classes .
done
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
# the runtime can run what it carries: the CUDA tests start (and skip here, without a GPU), and the model tests that
# gpu-check.sh runs on cuda pass here on the CPU with the same class path
"$carry/jre/bin/java" "@$root/scripts/jvm.options" \
  -Dloraid.testdata="$root/testdata" -Dloraid.test.device=cpu \
  -cp "$carry/lib/*" dev.loraid.tensor.cuda.GpuTestMain $(scripts/gpu-check.sh --device-tests) | tail -n 1
echo "gpu-prepare: ready; on the device: run(command='bash scripts/gpu-check.sh', carry=['gpu-carry'], timeout_s=600)" >&2
