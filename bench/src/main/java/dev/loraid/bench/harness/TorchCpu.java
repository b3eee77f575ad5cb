package dev.loraid.bench.harness;

import java.io.PrintStream;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * PyTorch's CPU kernels loaded into this JVM (through DJL; the implementation lives in {@code src/djl/} and is
 * compiled only with the {@code djl} Maven profile, found here through {@link ServiceLoader}). Each method
 * prepares random operands and returns the operation as a {@link Workload} to time; fp32 throughout (bf16
 * aborts the JVM in DJL 0.36, see pytorch-cpu-anchor.md).
 */
public interface TorchCpu extends AutoCloseable {
    /** Starts the engine with {@code threads} intra-op threads; describes the build in the log. */
    void start(int threads, PrintStream log);

    /** {@code a [m, k] @ b [k, n]}, b row-major, a fresh output per call (PyTorch's usual way). */
    Workload matmul(int m, int k, int n);

    /** The product of given row-major operands, for a cross-check of our result. */
    float[] matmul(float[] a, float[] b, int m, int k, int n);

    /**
     * Attention over {@code heads} heads of {@code tokens} x {@code headDim}: {@code softmax(q·kᵀ·scale)·v}
     * composed from matmul, mul, softmax, matmul (DJL exposes no fused SDPA).
     */
    Workload attention(int tokens, int heads, int headDim);

    @Override
    void close();

    /** One timed operation and the native memory it holds. */
    interface Workload extends AutoCloseable {
        void run();

        @Override
        void close();
    }

    /** The DJL implementation when it is on the classpath, started with {@code threads} threads. */
    static Optional<TorchCpu> load(int threads, PrintStream log) {
        Optional<TorchCpu> t = ServiceLoader.load(TorchCpu.class).findFirst();
        if (t.isEmpty()) {
            log.println("pytorch: not on the classpath (build with -Pdjl, as bench/run does); its figures are n/a");
            return t;
        }
        t.get().start(threads, log);
        return t;
    }
}
