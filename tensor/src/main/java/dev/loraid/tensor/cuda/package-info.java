/**
 * The CUDA backend: {@link dev.loraid.tensor.cuda.CudaBackend} implements {@link dev.loraid.tensor.Backend} on an
 * NVIDIA GPU through Panama FFM (no JNI, no Python), found by {@code Backends.of(Device.cuda(n))}.
 *
 * <ul>
 *   <li>Bindings, written by hand in one style (jextract is not available here): {@code CudaDriver} (driver API:
 *       devices, primary context, streams, events, memory, modules, launches), {@code Nvrtc} (run-time compilation),
 *       {@code CuBlasLt} (GEMM plans with heuristics and epilogues). {@code CudaLibraries} finds the shared libraries
 *       ({@code -Dloraid.cuda.libpath}, {@code LD_LIBRARY_PATH}, pip wheels' {@code site-packages/nvidia/…/lib},
 *       {@code CUDA_HOME}, the system loader) and names every place searched when one is missing.</li>
 *   <li>Kernels: CUDA C in {@code tensor/src/main/cuda/}, shipped as resources, compiled by NVRTC for the GPU at
 *       hand on first use and cached on disk by source hash ({@code CudaKernels}, {@code KernelCache}). Attention on
 *       BF16/F16 with head dims that are multiples of 16 runs on tensor cores (mma.sync); everything else has a
 *       scalar kernel with the same contract.</li>
 *   <li>Memory: a caching allocator ({@code CudaAllocator}: size-bucketed free lists, stream-ordered reuse, no
 *       driver allocation in a steady-state loop) and the step-scoped arena on device memory
 *       ({@code CudaScopeAllocator}). All work runs on one stream per device.</li>
 *   <li>Device choice: {@code -Dloraid.device=cuda[:N]} is strict — without a usable GPU the first use fails with the
 *       reason (no driver, no device, a missing library); {@code -Dloraid.device=auto} takes cuda:0 when usable and
 *       otherwise the CPU with one warning. Nothing here is loaded until a CUDA device is asked for.</li>
 *   <li>Tests: the CPU backend is the oracle ({@code GpuHarness}); GPU tests skip, saying why, without a device.
 *       {@code scripts/gpu-prepare.sh} / {@code scripts/gpu-check.sh} run them on a lent GPU machine.</li>
 * </ul>
 */
package dev.loraid.tensor.cuda;
