package dev.loraid.bench.jmh;

import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * JMH view of the CPU GEMM on the Wan shapes ({@code bench/run jmh GemmJmh}); GFLOP/s = 2·M·N·K / time.
 * The side-by-side figures against PyTorch come from {@code bench/run gemm}.
 */
public class GemmJmh extends CpuJmhSettings {
    /** M x K x N. */
    @Param({"1024x1536x1536", "1560x1536x1536", "1560x1536x8960", "1560x8960x1536"})
    public String shape;

    /** Weight dtype (the activation is F32). */
    @Param({"F32", "BF16"})
    public String weight;

    /** Weight stored [K, N] (false) or as nn.Linear's [N, K], used through a transposed view (true). */
    @Param({"false", "true"})
    public boolean transposed;

    private Tensor a;
    private Tensor b;
    private Tensor c;
    private final Backend cpu = Backends.cpu();

    @Setup
    public void setup() {
        String[] d = shape.split("x");
        int m = Integer.parseInt(d[0]);
        int k = Integer.parseInt(d[1]);
        int n = Integer.parseInt(d[2]);
        DType w = DType.valueOf(weight);
        a = BenchTensors.random(1, DType.F32, m, k);
        b = transposed ? BenchTensors.random(2, w, n, k).transpose(0, 1) : BenchTensors.random(2, w, k, n);
        c = Tensor.empty(DType.F32, m, n);
    }

    @Benchmark
    public Tensor matmul() {
        cpu.matmul(a, b, c, 1, 0, null);
        return c;
    }
}
