#!/usr/bin/env bash
# On the GPU machine (device tool, repo root, gpu-carry/ carried from scripts/gpu-prepare.sh): prints the card, finds
# the CUDA libraries of the pip wheels, then, each part in its own time box and all within BUDGET seconds (default 560,
# for the device tool's 600 s per command; the session has 15 minutes of device time with the machine's start):
#   1. a 20-step tiny-model `train` on the CPU, on cuda, on cuda with --blocks_to_swap 2 and on cuda with
#      --gradient_checkpointing_cpu_offload (the checkpointed inputs through pinned host memory); the cuda loss logs
#      compared with the CPU one (bench/gpu/tiny_train_check.py, rtol TINY_RTOL=1e-3); then the same with
#      --mixed_precision bf16 on the CPU and on cuda (BF16 GEMMs and attention; rtol BF16_RTOL=1e-2); two experts
#      with --offload_inactive_dit (the A14B routing and moves) on the CPU and on cuda (rtol TINY_RTOL); a LoKr network
#      (--network_module networks.lokr) on the CPU and on cuda (rtol TINY_RTOL)
#                                                                                                ~135 s -> $OUT/train.txt
#   2. `gpu-wan-block`: the real WanBlock + autograd + LoRA adapters, then its PyTorch twin       ~60 s  -> $OUT/bench.txt
#   3. `gpu-train-step`: the whole 14B model through TrainStep, then its PyTorch twin, at TRAIN_STEP_ARGS (default
#      "--frames 21"; the bench now runs BF16 activations, as the twin: try TRAIN_STEP_ARGS="--frames 81", which
#      with f32 activations needed ~6 min and ~110 GB); NETWORK_MODULE=networks.loha (or .lokr) times that network's
#      step too, ours only                                                                       ~110 s -> $OUT/train-step.txt
#   4. `gpu-generate`: 14B text-to-video sampling (UniPC + CFG, bf16 activations: generate's default on a GPU)
#      through Generator.sample, then its PyTorch twin, at GENERATE_ARGS (default "--frames 21 --steps 4")
#                                                                                                 ~90 s  -> $OUT/generate.txt
#   5. the train step under -Dloraid.cuda.memory_limit=24g with --fp8_base --blocks_to_swap CAP_SWAP (36) at
#      CAP_FRAMES (5), with SWAP_SYNC_TOO=1 once more with the blocks copied in line (-Dloraid.swap.synchronous=true:
#      what the copy stream saves), with CAP_OFFLOAD_FRAMES=F once more at F frames with the block checkpoints in host
#      memory (--gradient_checkpointing_cpu_offload; try 21), with A14B=1 the two-expert step (--preset a14b --offload_inactive_dit: the switch
#      time beside each step; A14B_TIMEOUT 120), then uncapped bf16 at the same size for each N of SWAP_CURVE (default
#      "0")                                                                                       ~55 s
#   6. the CUDA golden and op tests (conv3d and attention with bias included), the tiny Wan models, the VAE and UMT5
#      golden tests on cuda, in what is left of TEST_BUDGET (default 230)      <=230 s -> $OUT/tests.txt
#   7. opt-in kernel references: the self-attention alone per ATTENTION_PATHS (e.g. "cudnn flash"), the block on
#      BLOCK_ALSO paths, one profiled block step with PROFILE=1 (all off by default: parts 1-6 already fill BUDGET)
#                                                                                                ~50 s  -> $OUT/profile.txt
# Time boxes (seconds): TINY_TIMEOUT (60 each run), BENCH_TIMEOUT (150), TRAIN_STEP_TIMEOUT (300), GENERATE_TIMEOUT
# (150), CAP_TIMEOUT (120), CLASS_TIMEOUT (60), ATTENTION_TIMEOUT (60), PROFILE_TIMEOUT (60); each is cut to what is
# left of BUDGET, and a part with under 10 s left is reported NOT RUN. BENCH_ATTENTION (the block benchmark's attention
# path, default auto); BENCH_ARGS adds block-bench options (e.g. "--tokens 8190"). PARTS (default "1 2 3 4 5 6 7") runs only the parts
# named, e.g. PARTS="5" A14B=1 SWAP_CURVE="0 20" for a short second call. Exit code: 0 when every part run passed.
# The model tests of part 6 (wan and core test classes) follow -Dloraid.test.device: here they run the tiny Wan models
# on cuda:0 against the same golden files as on the CPU; `gpu-check.sh --device-tests` prints their list
# (gpu-prepare.sh runs them on the CPU with the carried runtime, to prove the class path).
set -uo pipefail
device_tests=(dev.loraid.wan.WanForwardGoldenTest dev.loraid.wan.WanGradientCheckTest dev.loraid.wan.WanFp8Test
  dev.loraid.wan.WanBf16Test dev.loraid.wan.ImageBranchTest dev.loraid.core.lora.LoraNetworkTest
  dev.loraid.core.generate.DualExpertGenerationTest dev.loraid.core.generate.Bf16GenerationTest
  dev.loraid.wan.vae.VaeGoldenTest dev.loraid.wan.text.Umt5EncoderGoldenTest dev.loraid.wan.swap.BlockSwapTest
  dev.loraid.wan.swap.HostWeightsTest dev.loraid.core.generate.ImageToVideoTest dev.loraid.core.train.OptimizersOnDeviceTest
  dev.loraid.wan.clip.ClipVisionEncoderTest dev.loraid.wan.FramePositionsTest)
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
# the JVM options users get (scripts/jvm.options: the Vector API module, native access, the JIT thresholds)
flags=("@$root/scripts/jvm.options" -XX:+UseParallelGC
  "-Dloraid.cuda.libpath=$libdirs" "-Dloraid.cuda.cache=${TMPDIR:-/tmp}/loraid-kernel-cache")
cp="$root/gpu-carry/lib/*"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -n 1

budget_end=$((SECONDS + ${BUDGET:-560}))
# box WANT: WANT cut to what is left of BUDGET; 0 when under 10 s are left (the part is then NOT RUN)
box() {
  local left=$((budget_end - SECONDS))
  if [ "$left" -lt 10 ]; then echo 0; elif [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}
rc_all=0
tests_rc=0
bench_rc=0
# wants N: whether part N is among PARTS (default all; e.g. PARTS="5" A14B=1 for a short second call)
wants() {
  [[ " ${PARTS:-1 2 3 4 5 6 7} " == *" $1 "* ]]
}
# timed NAME FILE SECONDS COMMAND...: COMMAND in its time box (cut to what is left of BUDGET), its output without the
# JVM's warnings appended to FILE, its exit code reported and counted; NOT RUN when no time is left
timed() {
  local name="$1" file="$2" t
  t=$(box "$3")
  shift 3
  if [ "$t" -eq 0 ]; then
    not_run "$name" "$file"
    return
  fi
  timeout -k 5 "$t" "$@" 2>&1 | grep -v WARNING | tee -a "$file"
  local rc=${PIPESTATUS[0]}
  echo "-- $name: exit $rc" | tee -a "$file"
  [ "$rc" -eq 0 ] || rc_all=1
}
not_run() {
  echo "NOT RUN $1: the budget (BUDGET=${BUDGET:-560} s) is spent" | tee -a "$2"
  rc_all=1
}
: > "$OUT/bench.txt"
: > "$OUT/train.txt"
: > "$OUT/train-step.txt"
: > "$OUT/generate.txt"

if wants 1; then # part 1 (PARTS)
echo "== 1. tiny-model train, 20 steps: CPU, cuda, cuda with --blocks_to_swap 2, cuda with --gradient_checkpointing_cpu_offload,"
echo "   bf16 on CPU and cuda, two experts with the"
echo "   inactive one offloaded on CPU and cuda, LoKr on CPU and cuda; loss logs compared"
tiny="${TMPDIR:-/tmp}/loraid-tiny-train"
rm -rf "$tiny"
python3 bench/gpu/tiny_train_check.py dataset "$tiny"
tiny_flags=(train --dit "$root/testdata/golden/wan_tiny_weights.safetensors" --dataset_config "$tiny/ds.toml"
  --network_dim 4 --network_alpha 4 --learning_rate 5e-3 --max_train_steps 20 --seed 7 --timestep_sampling shift
  --discrete_flow_shift 3.0 --gradient_checkpointing --output_name tiny --quiet)
tiny_runs=(cpu cuda cuda-swap cuda-offload cpu-bf16 cuda-bf16 cpu-dual cuda-dual cpu-lokr cuda-lokr)
for run in "${tiny_runs[@]}"; do
  t=$(box "${TINY_TIMEOUT:-60}")
  if [ "$t" -eq 0 ]; then not_run "tiny train $run" "$OUT/train.txt"; continue; fi
  extra=(--device "${run%%-*}" --output_dir "$tiny/out-$run")
  [ "$run" = cuda-swap ] && extra+=(--blocks_to_swap 2)
  # the checkpointed block inputs out to pinned host memory and back on the copy stream (ActivationOffload)
  [ "$run" = cuda-offload ] && extra+=(--gradient_checkpointing_cpu_offload)
  # two experts (the same tiny weights in both roles): the A14B routing, and the models and the shared LoRA moved
  # between host and device at every switch
  case "$run" in *-dual) extra+=(--dit_high_noise "$root/testdata/golden/wan_tiny_weights.safetensors"
    --timestep_boundary 500 --offload_inactive_dit) ;; esac
  case "$run" in *-bf16) extra+=(--mixed_precision bf16) ;; *) extra+=(--mixed_precision no) ;; esac
  # LoKr: ΔW = kron(w1, w2a·w2b) built in every forward (broadcast product, reshapes, small GEMMs) and its full-size gradient
  case "$run" in *-lokr) extra+=(--network_module networks.lokr --network_args factor=4) ;; esac
  t0=$SECONDS
  timeout -k 5 "$t" "$java" "${flags[@]}" -Xmx4g -cp "$cp" dev.loraid.cli.Main "${tiny_flags[@]}" "${extra[@]}" \
    2>&1 | grep -v WARNING | tee -a "$OUT/train.txt"
  echo "-- tiny train $run: exit ${PIPESTATUS[0]} in $((SECONDS - t0)) s" | tee -a "$OUT/train.txt"
done
for pair in cpu:cuda cpu:cuda-swap cpu:cuda-offload cpu-bf16:cuda-bf16 cpu-dual:cuda-dual cpu-lokr:cuda-lokr; do
  ref=${pair%%:*}
  run=${pair#*:}
  rtol=${TINY_RTOL:-1e-3}
  [ "$ref" = cpu-bf16 ] && rtol=${BF16_RTOL:-1e-2} # bf16 roundings of slightly different fp32 sums
  echo "-- loss log $run vs $ref:" | tee -a "$OUT/train.txt"
  python3 bench/gpu/tiny_train_check.py compare "$tiny/out-$ref/tiny-log.jsonl" "$tiny/out-$run/tiny-log.jsonl" \
    --rtol "$rtol" 2>&1 | tail -n 1 | tee -a "$OUT/train.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc_all=1
done
for run in "${tiny_runs[@]}"; do
  [ -f "$tiny/out-$run/tiny-log.jsonl" ] && { echo "-- $run loss log:"; cat "$tiny/out-$run/tiny-log.jsonl"; } >> "$OUT/train.txt"
done
fi # part 1

if wants 2; then # part 2 (PARTS)
echo "== 2. bench gpu-wan-block: the real WanBlock fwd+bwd with the trainer's rank-32 LoRA (ours), then PyTorch"
t=$(box "${BENCH_TIMEOUT:-150}")
bench_rc=1
if [ "$t" -eq 0 ]; then
  not_run gpu-wan-block "$OUT/bench.txt"
else
  timeout -k 5 "$t" "$java" "${flags[@]}" -Dloraid.cuda.attention="${BENCH_ATTENTION:-auto}" -Xmx8g \
    -cp "$cp" dev.loraid.bench.gpu.WanBlockGpuBench --iters 3 --warmup 1 ${BENCH_ARGS:-} 2>&1 | tee -a "$OUT/bench.txt"
  bench_rc=${PIPESTATUS[0]}
  if [ "$bench_rc" -ne 0 ] && ! grep -q 'torch_ms=' "$OUT/bench.txt" && [ "$(box 90)" -gt 0 ]; then
    echo "== ours failed or ran out of time: PyTorch alone, for the baseline"
    timeout -k 5 "$(box 90)" python3 bench/gpu/wan_block_torch.py --iters 3 --warmup 1 2>&1 | tee -a "$OUT/bench.txt"
  fi
fi
[ "$bench_rc" -eq 0 ] || rc_all=1
fi # part 2

if wants 3; then # part 3 (PARTS)
echo "== 3. bench gpu-train-step: Wan 2.1 14B LoRA step through TrainStep (ours), then PyTorch; ${TRAIN_STEP_ARGS:---frames 21}"
# one timed step without warm-up (parts 1-2 compiled the kernels already; the twin still warms up once)
timed gpu-train-step "$OUT/train-step.txt" "${TRAIN_STEP_TIMEOUT:-300}" "$java" "${flags[@]}" -Xmx16g -cp "$cp" \
  dev.loraid.bench.gpu.GpuTrainStepBench --warmup 0 --iters 1 ${TRAIN_STEP_ARGS:---frames 21}
if [ -n "${NETWORK_MODULE:-}" ]; then
  # e.g. NETWORK_MODULE=networks.loha: the same step with that network (ours only: the twin trains a LoRA)
  timed "gpu-train-step $NETWORK_MODULE" "$OUT/train-step.txt" "${TRAIN_STEP_TIMEOUT:-300}" "$java" "${flags[@]}" -Xmx16g \
    -cp "$cp" dev.loraid.bench.gpu.GpuTrainStepBench --warmup 0 --iters 1 --network_module "$NETWORK_MODULE" \
    ${TRAIN_STEP_ARGS:---frames 21}
fi
fi # part 3

if wants 4; then # part 4 (PARTS)
echo "== 4. bench gpu-generate: Wan 2.1 14B sampling through Generator.sample (ours), then PyTorch; ${GENERATE_ARGS:---frames 21 --steps 4}"
timed gpu-generate "$OUT/generate.txt" "${GENERATE_TIMEOUT:-150}" "$java" "${flags[@]}" -Xmx16g -cp "$cp" \
  dev.loraid.bench.gpu.GpuGenerateBench ${GENERATE_ARGS:---frames 21 --steps 4}
fi # part 4

if wants 5; then # part 5 (PARTS)
echo "== 5. the step under a 24 GB cap (--fp8_base --blocks_to_swap ${CAP_SWAP:-36}, --frames ${CAP_FRAMES:-5}), then uncapped bf16"
timed "memory-cap step (24g, fp8, blocks_to_swap ${CAP_SWAP:-36})" "$OUT/train-step.txt" "${CAP_TIMEOUT:-120}" \
  "$java" "${flags[@]}" -Dloraid.cuda.memory_limit=24g -Xmx48g -cp "$cp" dev.loraid.bench.gpu.GpuTrainStepBench \
  --no-torch --warmup 1 --iters 2 --frames "${CAP_FRAMES:-5}" --fp8_base --blocks_to_swap "${CAP_SWAP:-36}"
if [ "${SWAP_SYNC_TOO:-0}" = 1 ]; then
  # the same capped step with the blocks copied in line with the compute: what the copy stream's overlap saves
  t=$(box "${CAP_TIMEOUT:-120}")
  if [ "$t" -eq 0 ]; then
    not_run "memory-cap step, synchronous swap" "$OUT/train-step.txt"
  else
    timeout -k 5 "$t" "$java" "${flags[@]}" -Dloraid.cuda.memory_limit=24g -Dloraid.swap.synchronous=true -Xmx48g \
      -cp "$cp" dev.loraid.bench.gpu.GpuTrainStepBench --no-torch --warmup 1 --iters 2 --frames "${CAP_FRAMES:-5}" \
      --fp8_base --blocks_to_swap "${CAP_SWAP:-36}" 2>&1 | grep -v WARNING | grep -E '^(config|ours:|peak_memory|ours_ms)' \
      | tee -a "$OUT/train-step.txt"
    echo "-- memory-cap step, synchronous swap: exit ${PIPESTATUS[0]}" | tee -a "$OUT/train-step.txt"
  fi
fi
if [ -n "${CAP_OFFLOAD_FRAMES:-}" ]; then
  # the capped step at more frames with the block checkpoints in pinned host memory (--gradient_checkpointing_cpu_offload)
  timed "memory-cap step, checkpoints in host memory, ${CAP_OFFLOAD_FRAMES} frames" "$OUT/train-step.txt" \
    "${CAP_TIMEOUT:-120}" "$java" "${flags[@]}" -Dloraid.cuda.memory_limit=24g -Xmx48g -cp "$cp" \
    dev.loraid.bench.gpu.GpuTrainStepBench --no-torch --warmup 1 --iters 2 --frames "$CAP_OFFLOAD_FRAMES" --fp8_base \
    --blocks_to_swap "${CAP_SWAP:-36}" --gradient_checkpointing_cpu_offload
fi
if [ "${A14B:-0}" = 1 ]; then
  # Wan 2.2 A14B: one LoRA through both experts, alternating every step, the inactive one on the host: the switch time
  timed "A14B step, offload_inactive_dit" "$OUT/train-step.txt" "${A14B_TIMEOUT:-120}" "$java" "${flags[@]}" -Xmx48g \
    -cp "$cp" dev.loraid.bench.gpu.GpuTrainStepBench --preset a14b --offload_inactive_dit --no-torch --warmup 1 --iters 3 \
    --frames "${CAP_FRAMES:-5}"
fi
for n in ${SWAP_CURVE:-0}; do
  t=$(box "${CAP_TIMEOUT:-120}")
  if [ "$t" -eq 0 ]; then not_run "uncapped step blocks_to_swap $n" "$OUT/train-step.txt"; continue; fi
  timeout -k 5 "$t" "$java" "${flags[@]}" -Xmx48g -cp "$cp" dev.loraid.bench.gpu.GpuTrainStepBench --no-torch \
    --warmup 1 --iters 2 --frames "${CAP_FRAMES:-5}" --blocks_to_swap "$n" 2>&1 | grep -v WARNING \
    | grep -E '^(config|ours:|peak_memory|ours_ms)' | tee -a "$OUT/train-step.txt"
  echo "-- uncapped bf16 step, blocks_to_swap $n: exit ${PIPESTATUS[0]}" | tee -a "$OUT/train-step.txt"
done
fi # part 5

if wants 6; then # part 6 (PARTS)
# 6. The GPU tests are the tensor tests tagged @Tag("gpu") (BackendOpsTest's cuda cases, the CUDA path tests, the
# library bindings), found by GpuTestMain --list --tag gpu rather than listed here. Each such class runs in its own
# JVM with its own time box (only its gpu-tagged tests), so that a kernel fault (which poisons the CUDA context) or
# a hang costs that class's results only. The whole test part stops starting classes after TEST_BUDGET s (or BUDGET).
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
echo "== 6. CUDA golden tests (cuda vs the CPU backend), then the tiny Wan models on cuda (forward, gradients, LoRA)"
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
[ "$deadline" -gt "$budget_end" ] && deadline=$budget_end
: > "$OUT/tests.txt"
for r in "${runs[@]}"; do
  t=$(box "${CLASS_TIMEOUT:-60}")
  if [ "$SECONDS" -ge "$deadline" ] || [ "$t" -eq 0 ]; then
    echo "NOT RUN $r: the test budget (TEST_BUDGET=${TEST_BUDGET:-230} s, BUDGET=${BUDGET:-560} s) is spent" | tee -a "$OUT/tests.txt"
    tests_rc=1
    continue
  fi
  parse_run "$r"
  echo "-- $r" | tee -a "$OUT/tests.txt"
  t0=$SECONDS
  timeout -k 5 "$t" "$java" "${flags[@]}" "${jvm[@]}" -Xmx8g -Dloraid.testdata="$root/testdata" \
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
    t=$(box "${SANITIZER_TIMEOUT:-60}")
    [ "$t" -eq 0 ] && break
    parse_run "$r"
    echo "== compute-sanitizer memcheck: $r" | tee -a "$OUT/sanitizer.txt"
    timeout -k 5 "$t" compute-sanitizer --tool memcheck --print-limit 20 "$java" "${flags[@]}" \
      "${jvm[@]}" -Xmx8g -Dloraid.testdata="$root/testdata" -Dloraid.test.device=cuda -cp "$cp" \
      dev.loraid.tensor.cuda.GpuTestMain --only "$cls" >> "$OUT/sanitizer.txt" 2>&1
    grep -E '^=========|^(FAIL|cuda tests:)' "$OUT/sanitizer.txt" | head -n 40
  done
fi
fi # part 6

if wants 7; then # part 7 (PARTS)
echo "== 7. kernel references (opt-in): self-attention alone (B=1, H=40, L=32760, D=128, BF16) per ATTENTION_PATHS, PROFILE=1"
for p in ${ATTENTION_PATHS:-}; do
  t=$(box "${ATTENTION_TIMEOUT:-60}")
  if [ "$t" -eq 0 ]; then not_run "attention path $p" "$OUT/bench.txt"; continue; fi
  timeout -k 5 "$t" "$java" "${flags[@]}" -Dloraid.cuda.attention=$p -Xmx8g -cp "$cp" \
    dev.loraid.bench.gpu.WanBlockGpuBench --attention-only --iters 5 2>&1 | grep -v WARNING | tee -a "$OUT/bench.txt"
  echo "-- attention path $p: exit ${PIPESTATUS[0]}" | tee -a "$OUT/bench.txt"
done
for p in ${BLOCK_ALSO:-}; do
  t=$(box "${ATTENTION_TIMEOUT:-60}")
  if [ "$t" -eq 0 ]; then not_run "block with attention=$p" "$OUT/bench.txt"; continue; fi
  echo "== the block step with attention=$p (no PyTorch: its figure is the one above)"
  timeout -k 5 "$t" "$java" "${flags[@]}" -Dloraid.cuda.attention=$p -Xmx8g -cp "$cp" \
    dev.loraid.bench.gpu.WanBlockGpuBench --no-torch --iters 2 --warmup 1 ${BENCH_ARGS:-} 2>&1 | grep -v WARNING \
    | grep -E '^(config|ours)' | tee -a "$OUT/bench.txt"
done
if [ "${PROFILE:-0}" = 1 ]; then
  t=$(box "${PROFILE_TIMEOUT:-60}")
  if [ "$t" -eq 0 ]; then
    not_run "profiled block step" "$OUT/bench.txt"
  else
    echo "== where our block step's device time goes (-Dloraid.cuda.profile=true; slower than the timed run above)"
    timeout -k 5 "$t" "$java" "${flags[@]}" -Dloraid.cuda.profile=true \
      -Dloraid.cuda.attention="${BENCH_ATTENTION:-auto}" -Xmx8g -cp "$cp" \
      dev.loraid.bench.gpu.WanBlockGpuBench --no-torch --iters 1 --warmup 1 ${BENCH_ARGS:-} 2>&1 | grep -v WARNING \
      > "$OUT/profile.txt"
    head -n 45 "$OUT/profile.txt"
  fi
fi
fi # part 7

echo "== done: tests_rc=$tests_rc bench_rc=$bench_rc other parts rc=$rc_all ($SECONDS s)"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ] && [ "$rc_all" -eq 0 ]
