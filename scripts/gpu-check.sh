#!/usr/bin/env bash
# On the GPU machine (device tool, repo root, gpu-carry/ carried from scripts/gpu-prepare.sh): prints the card,
# finds the CUDA libraries of the pip wheels, runs the CUDA golden tests on the carried runtime, then
# `gpu-wan-block` (ours, then PyTorch eager + SDPA flash in a child process, same shapes). Everything is logged to
# $OUT/log; tests to $OUT/tests.txt, the benchmark to $OUT/bench.txt (last line: ratio=<pytorch ms / ours>).
# Time boxes (seconds): TEST_TIMEOUT (default 200), BENCH_TIMEOUT (default 330); BENCH_ARGS adds bench options
# (e.g. "--tokens 8190" for a quicker run). Exit code: 0 when tests and benchmark both succeeded.
# The model tests below (wan and core test classes) follow -Dloraid.test.device: here they run the tiny Wan models on
# cuda:0 against the same golden files as on the CPU; `gpu-check.sh --device-tests` prints their list (gpu-prepare.sh
# runs them on the CPU with the carried runtime, to prove the class path).
set -uo pipefail
device_tests=(dev.loraid.wan.WanForwardGoldenTest dev.loraid.wan.WanGradientCheckTest dev.loraid.wan.WanFp8Test
  dev.loraid.wan.WanBf16Test dev.loraid.wan.ImageBranchTest dev.loraid.core.lora.LoraNetworkTest)
if [ "${1:-}" = "--device-tests" ]; then
  echo "${device_tests[@]}"
  exit 0
fi
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
OUT="${OUT:-$root/gpu-out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log") 2>&1

echo "== card"
nvidia-smi -L
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader

echo "== CUDA libraries from the pip wheels"
libdirs="$(python3 - <<'PY'
import glob, os, site, sys
seen = []
for sp in dict.fromkeys(site.getsitepackages() + [site.getusersitepackages()] + sys.path):
    for d in sorted(glob.glob(os.path.join(sp, "nvidia", "*", "lib")) + glob.glob(os.path.join(sp, "nvidia", "*", "*", "lib"))):
        if d not in seen:
            seen.append(d)
print(":".join(seen))
PY
)"
echo "$libdirs" | tr ':' '\n'
ls $(echo "$libdirs" | tr ':' ' ') 2>/dev/null | grep -E '^lib(cublasLt|nvrtc|cudnn)\.so' | sort -u
export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

java="$root/gpu-carry/jre/bin/java"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
  "-Dloraid.cuda.libpath=$libdirs" "-Dloraid.cuda.cache=$OUT/kernel-cache")
cp="$root/gpu-carry/lib/*"

echo "== CUDA golden tests (cuda vs the CPU backend), then the tiny Wan models on cuda (forward, gradients, LoRA)"
timeout "${TEST_TIMEOUT:-200}" "$java" "${flags[@]}" -Xmx8g -Dloraid.testdata="$root/testdata" -Dloraid.test.device=cuda \
  -cp "$cp" dev.loraid.tensor.cuda.GpuTestMain --require-gpu "${device_tests[@]}" | tee "$OUT/tests.txt"
tests_rc=${PIPESTATUS[0]}

echo "== bench gpu-wan-block: Wan 14B block fwd+bwd, rank-32 LoRA, BF16 (ours, then PyTorch)"
timeout "${BENCH_TIMEOUT:-330}" "$java" "${flags[@]}" -Xmx8g -cp "$cp" dev.loraid.bench.gpu.WanBlockGpuBench \
  --iters 3 --warmup 1 ${BENCH_ARGS:-} | tee "$OUT/bench.txt"
bench_rc=${PIPESTATUS[0]}

echo "== done: tests_rc=$tests_rc bench_rc=$bench_rc"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
