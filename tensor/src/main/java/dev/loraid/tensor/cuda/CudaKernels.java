package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Our CUDA C kernels (shipped as resources from {@code tensor/src/main/cuda/}): compiled by NVRTC for the
 * device's architecture on first use, cached on disk by source hash ({@link KernelCache}), loaded as one module
 * per source file, and launched by name.
 */
final class CudaKernels {
    /** The kernel sources, one module each; they include the {@link #HEADERS}. */
    static final List<String> SOURCES = List.of("copy", "elementwise", "reduce", "softmax", "norm", "rope", "adamw",
        "philox", "conv", "attention", "attention_mma", "attention_mma_backward", "attention_flash",
        "attention_flash_backward");
    static final List<String> HEADERS = List.of("loraid_common.cuh", "loraid_mma.cuh", "loraid_vec.cuh");
    static final String RESOURCE_DIR = "/dev/loraid/tensor/cuda/kernels/";
    static final int THREADS = 256;

    private final CudaContext ctx;
    private final Nvrtc nvrtc;
    private final KernelCache cache;
    private final Map<String, MemorySegment> modules = new HashMap<>();
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final Map<String, Integer> sharedLimits = new HashMap<>();

    CudaKernels(CudaContext ctx, Nvrtc nvrtc, KernelCache cache) {
        this.ctx = ctx;
        this.nvrtc = nvrtc;
        this.cache = cache;
    }

    /** NVRTC options for a device of compute capability {@code cc} (e.g. 90): a CUBIN for exactly that GPU. */
    /** The kernel name suffix for an op over {@code ts}: {@code "f64"} when {@link Precision#fp64}, else {@code "f32"}. */
    static String variant(Tensor... ts) {
        return Precision.fp64(ts) ? "f64" : "f32";
    }

    static List<String> options(int cc) {
        return List.of("--gpu-architecture=sm_" + cc, "-std=c++17");
    }

    /** The CUBIN of kernel module {@code name} for compute capability {@code cc}, from the cache or NVRTC. */
    static byte[] compile(Nvrtc nvrtc, KernelCache cache, String name, int cc) {
        String file = name + ".cu";
        String src = source(file);
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        List<String> keyParts = new java.util.ArrayList<>();
        for (String h : HEADERS) {
            headers.put(h, source(h));
            keyParts.add(h);
            keyParts.add(headers.get(h));
        }
        List<String> options = options(cc);
        String key = KernelCache.key(file, src, keyParts, options, nvrtc.version());
        return cache.getOrCompile(name, key, () -> nvrtc.compileToCubin(file, src, headers, options));
    }

    /** The text of a kernel source or header shipped in the jar. */
    static String source(String file) {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new CudaException("kernel source " + RESOURCE_DIR + file + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CudaException("cannot read kernel source " + RESOURCE_DIR + file, e);
        }
    }

    private synchronized MemorySegment module(String name) {
        MemorySegment m = modules.get(name);
        if (m == null) {
            byte[] cubin = compile(nvrtc, cache, name, ctx.computeCapability());
            ctx.bind();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment image = a.allocate(cubin.length + 1L, 16);
                MemorySegment.copy(cubin, 0, image, ValueLayout.JAVA_BYTE, 0, cubin.length);
                m = ctx.driver().moduleLoadData(image);
            }
            modules.put(name, m);
        }
        return m;
    }

    synchronized MemorySegment function(String source, String name) {
        String key = source + "/" + name;
        MemorySegment f = functions.get(key);
        if (f == null) {
            f = ctx.driver().moduleFunction(module(source), name);
            functions.put(key, f);
        }
        return f;
    }

    /**
     * Compiles every module now, in parallel (NVRTC is thread-safe across programs; one module takes seconds),
     * filling the disk cache, then loads them all: the first use of a backend costs one parallel compile, or none
     * when the cache is warm.
     */
    void loadAll() {
        int cc = ctx.computeCapability();
        SOURCES.parallelStream().forEach(name -> compile(nvrtc, cache, name, cc));
        for (String s : SOURCES) {
            module(s);
        }
    }

    /** A grid-stride launch over {@code n} work items: 256 threads a block, enough blocks to fill the device. */
    void launch1d(String source, String name, long n, Consumer<KernelArgs> args) {
        long blocks = Math.max(1, Math.min((n + THREADS - 1) / THREADS, (long) ctx.multiprocessors() * 32));
        launch(source, name, (int) blocks, 1, THREADS, 1, 0, args);
    }

    /** One block per row (grid-stride over rows beyond the grid). */
    void launchRows(String source, String name, long rows, Consumer<KernelArgs> args) {
        int blocks = (int) Math.max(1, Math.min(rows, 65535L * 16));
        launch(source, name, blocks, 1, THREADS, 1, 0, args);
    }

    void launch(String source, String name, int gx, int gy, int bx, int by, int sharedBytes, Consumer<KernelArgs> args) {
        MemorySegment f = function(source, name);
        if (sharedBytes > 48 * 1024) {
            raiseSharedLimit(source + "/" + name, f, sharedBytes);
        }
        try (Arena a = Arena.ofConfined()) {
            KernelArgs ka = new KernelArgs(a);
            args.accept(ka);
            MemorySegment params = ka.array();
            CudaProfile.time(ctx, name, () -> ctx.driver().launch(f, gx, gy, 1, bx, by, 1, sharedBytes, ctx.stream(),
                params, name));
        }
    }

    private synchronized void raiseSharedLimit(String key, MemorySegment f, int bytes) {
        if (sharedLimits.getOrDefault(key, 48 * 1024) < bytes) {
            int optin = ctx.driver().attribute(CudaDriver.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, ctx.device());
            if (bytes > optin) {
                throw new CudaException(key + " needs " + bytes + " B of shared memory, the device allows " + optin);
            }
            ctx.driver().functionAttribute(f, CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
            sharedLimits.put(key, bytes);
        }
    }
}
