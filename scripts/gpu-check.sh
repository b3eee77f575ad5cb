#!/usr/bin/env bash
# On the GPU machine (device tool, repo root, gpu-carry/ carried from scripts/gpu-prepare.sh): prints the card,
# finds the CUDA libraries of the pip wheels, runs the CUDA golden tests on the carried runtime, then
# `gpu-wan-block` (ours, then PyTorch eager + SDPA flash in a child process, same shapes). Everything is logged to
# $OUT/log; tests to $OUT/tests.txt, the benchmark to $OUT/bench.txt (last line: ratio=<pytorch ms / ours>).
# Time boxes (seconds): TEST_BUDGET (default 230, all test classes), CLASS_TIMEOUT (60, one class),
# ATTENTION_TIMEOUT (60, one attention path), BENCH_TIMEOUT (default 150); ATTENTION_PATHS (cudnn flash mma),
# BENCH_ATTENTION (the block benchmark's attention path, default auto), BLOCK_ALSO (paths of extra block runs, flash); BENCH_ARGS adds bench options
# (e.g. "--tokens 8190" for a quicker run). Exit code: 0 when tests and benchmark both succeeded.
# The model tests below (wan and core test classes) follow -Dloraid.test.device: here they run the tiny Wan models on
# cuda:0 against the same golden files as on the CPU; `gpu-check.sh --device-tests` prints their list (gpu-prepare.sh
# runs them on the CPU with the carried runtime, to prove the class path).
set -uo pipefail
device_tests=(dev.loraid.wan.WanForwardGoldenTest dev.loraid.wan.WanGradientCheckTest dev.loraid.wan.WanFp8Test
  dev.loraid.wan.WanBf16Test dev.loraid.wan.ImageBranchTest dev.loraid.core.lora.LoraNetworkTest
  dev.loraid.core.generate.DualExpertGenerationTest dev.loraid.wan.vae.VaeGoldenTest
  dev.loraid.wan.text.Umt5EncoderGoldenTest)
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
# the kernel cache lives outside $OUT: the device tool brings back at most 8 files from there
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC
  "-Dloraid.cuda.libpath=$libdirs" "-Dloraid.cuda.cache=${TMPDIR:-/tmp}/loraid-kernel-cache")
cp="$root/gpu-carry/lib/*"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -n 1

# The GPU tests are the tensor tests tagged @Tag("gpu") (BackendOpsTest's cuda cases, the CUDA path tests, the
# library bindings), found by GpuTestMain --list --tag gpu rather than listed here. Each such class runs in its own
# JVM with its own time box (only its gpu-tagged tests), so that a kernel fault (which poisons the CUDA context) or
# a hang costs that class's results only. The whole test part stops starting classes after TEST_BUDGET s.
# CudaAttentionGpuTest is run once per attention path below, not here.
mapfile -t gpu_classes < <("$java" "${flags[@]}" -cp "$cp" dev.loraid.tensor.cuda.GpuTestMain --list --tag gpu 2>/dev/null \
  | grep '^dev\.loraid\.' | grep -v 'CudaAttentionGpuTest$')
echo "gpu-tagged test classes: ${gpu_classes[*]:-none found}"
runs=()
for c in "${gpu_classes[@]}"; do runs+=("tag=gpu:$c"); done
runs+=("${device_tests[@]}")
# the attention paths one JVM each (a faulting kernel poisons its CUDA context): CudaAttentionGpuTest runs each case
# on every path asked for explicitly; skips of the paths not selected are expected there
for p in AUTO CUDNN FLASH MMA SCALAR; do runs+=("path=$p:dev.loraid.tensor.cuda.CudaAttentionGpuTest"); done
: > "$OUT/bench.txt"
echo "== CUDA golden tests (cuda vs the CPU backend), then the tiny Wan models on cuda (forward, gradients, LoRA)"
# sets cls (the test class), jvm (its system properties) and extra (GpuTestMain's flags) for one entry of runs
parse_run() {
  cls="$1"
  jvm=()
  extra=(--require-gpu)
  if [[ "$1" == path=* ]]; then
    local p="${1%%:*}"
    jvm=("-Dloraid.test.attention.paths=${p#path=}")
    extra=(--tag gpu)
    cls="${1#*:}"
  elif [[ "$1" == tag=* ]]; then
    local t="${1%%:*}"
    extra=(--require-gpu --tag "${t#tag=}")
    cls="${1#*:}"
  fi
}
tests_rc=0
failed_runs=()
deadline=$((SECONDS + ${TEST_BUDGET:-230}))
: > "$OUT/tests.txt"
for r in "${runs[@]}"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "NOT RUN $r: the test budget (TEST_BUDGET=${TEST_BUDGET:-230} s) is spent" | tee -a "$OUT/tests.txt"
    tests_rc=1
    continue
  fi
  parse_run "$r"
  echo "-- $r" | tee -a "$OUT/tests.txt"
  t0=$SECONDS
  timeout -k 5 "${CLASS_TIMEOUT:-60}" "$java" "${flags[@]}" "${jvm[@]}" -Xmx8g -Dloraid.testdata="$root/testdata" \
    -Dloraid.test.device=cuda -cp "$cp" dev.loraid.tensor.cuda.GpuTestMain "${extra[@]}" --only "$cls" \
    >> "$OUT/tests.txt" 2>&1
  rc=$?
  echo "-- $r: exit $rc in $((SECONDS - t0)) s" | tee -a "$OUT/tests.txt"
  if [ "$rc" -ne 0 ]; then
    tests_rc=1
    failed_runs+=("$r")
  fi
done
grep -E '^(FAIL|SKIP|NOT RUN|cuda tests:|-- .*exit)' "$OUT/tests.txt" | grep -v 'not selected by' | cut -c1-220

# the first two failing classes once more under compute-sanitizer (memcheck), for the faulting kernel and address
if [ "${#failed_runs[@]}" -gt 0 ] && command -v compute-sanitizer >/dev/null; then
  for r in "${failed_runs[@]:0:2}"; do
    parse_run "$r"
    echo "== compute-sanitizer memcheck: $r" | tee -a "$OUT/sanitizer.txt"
    timeout -k 5 "${SANITIZER_TIMEOUT:-60}" compute-sanitizer --tool memcheck --print-limit 20 "$java" "${flags[@]}" \
      "${jvm[@]}" -Xmx8g -Dloraid.testdata="$root/testdata" -Dloraid.test.device=cuda -cp "$cp" \
      dev.loraid.tensor.cuda.GpuTestMain --only "$cls" >> "$OUT/sanitizer.txt" 2>&1
    grep -E '^=========|^(FAIL|cuda tests:)' "$OUT/sanitizer.txt" | head -n 40
  done
fi

echo "== self-attention alone (B=1, H=40, L=32760, D=128, BF16) on each path, one JVM each"
for p in ${ATTENTION_PATHS:-cudnn flash mma}; do
  timeout -k 5 "${ATTENTION_TIMEOUT:-60}" "$java" "${flags[@]}" -Dloraid.cuda.attention=$p -Xmx8g -cp "$cp" \
    dev.loraid.bench.gpu.WanBlockGpuBench --attention-only --iters 5 2>&1 | grep -v WARNING | tee -a "$OUT/bench.txt"
  echo "-- attention path $p: exit ${PIPESTATUS[0]}" | tee -a "$OUT/bench.txt"
done

echo "== bench gpu-wan-block: Wan 14B block fwd+bwd, rank-32 LoRA, BF16 (ours, then PyTorch)"
timeout -k 5 "${BENCH_TIMEOUT:-150}" "$java" "${flags[@]}" -Dloraid.cuda.attention="${BENCH_ATTENTION:-auto}" -Xmx8g \
  -cp "$cp" dev.loraid.bench.gpu.WanBlockGpuBench \
  --iters 5 --warmup 1 ${BENCH_ARGS:-} 2>&1 | tee -a "$OUT/bench.txt"
bench_rc=${PIPESTATUS[0]}
for p in ${BLOCK_ALSO:-flash}; do
  echo "== the block step with attention=$p (no PyTorch: its figure is the one above)"
  timeout -k 5 "${ATTENTION_TIMEOUT:-60}" "$java" "${flags[@]}" -Dloraid.cuda.attention=$p -Xmx8g -cp "$cp" \
    dev.loraid.bench.gpu.WanBlockGpuBench --no-torch --iters 3 --warmup 1 ${BENCH_ARGS:-} 2>&1 | grep -v WARNING \
    | grep -E '^(config|ours)' | tee -a "$OUT/bench.txt"
done
echo "== where our block step's device time goes (-Dloraid.cuda.profile=true; slower than the timed run above)"
timeout -k 5 "${PROFILE_TIMEOUT:-60}" "$java" "${flags[@]}" -Dloraid.cuda.profile=true \
  -Dloraid.cuda.attention="${BENCH_ATTENTION:-auto}" -Xmx8g -cp "$cp" \
  dev.loraid.bench.gpu.WanBlockGpuBench --no-torch --iters 2 --warmup 1 ${BENCH_ARGS:-} 2>&1 | grep -v WARNING \
  > "$OUT/profile.txt"
head -n 45 "$OUT/profile.txt"
if [ "$bench_rc" -ne 0 ] && ! grep -q 'torch_ms=' "$OUT/bench.txt"; then
  echo "== ours failed: PyTorch alone, for the baseline"
  timeout -k 5 90 python3 bench/gpu/wan_block_torch.py --iters 5 --warmup 1 2>&1 | tee -a "$OUT/bench.txt"
fi

echo "== done: tests_rc=$tests_rc bench_rc=$bench_rc"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
