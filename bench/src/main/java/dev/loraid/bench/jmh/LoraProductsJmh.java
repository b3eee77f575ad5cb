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
 * The six rank-r products of a LoRA Linear's training step ({@code bench/run jmh LoraProductsJmh}), with the operand
 * layouts autograd hands the CPU GEMM (transposed views, not copies): x and g [T, D] F32, down [r, D], up [D, r],
 * h = x·downᵀ and dh [T, r]; T 4096, D 1536, r 32 as in {@code bench/run linear-train}. Each is 2·T·D·r FLOPs.
 */
public class LoraProductsJmh extends CpuJmhSettings {
    private static final int TOKENS = 4096;
    private static final int DIM = 1536;
    private static final int RANK = 32;

    /**
     * down: h = x·downᵀ; upAdd: y += h·upᵀ; dh: dh = g·up; dUp: dUp = gᵀ·h; dxAdd: dx += dh·down;
     * dDown: dDown = dhᵀ·x.
     */
    @Param({"down", "upAdd", "dh", "dUp", "dxAdd", "dDown"})
    public String product;

    private final Backend cpu = Backends.cpu();
    private Tensor a;
    private Tensor b;
    private Tensor c;
    private double beta;

    @Setup
    public void setup() {
        Tensor x = BenchTensors.random(1, DType.F32, TOKENS, DIM);
        Tensor g = BenchTensors.random(2, DType.F32, TOKENS, DIM);
        Tensor down = BenchTensors.random(3, DType.F32, RANK, DIM);
        Tensor up = BenchTensors.random(4, DType.F32, DIM, RANK);
        Tensor h = BenchTensors.random(5, DType.F32, TOKENS, RANK);
        Tensor wide = Tensor.empty(DType.F32, TOKENS, DIM);
        Tensor narrow = Tensor.empty(DType.F32, TOKENS, RANK);
        switch (product) {
            case "down" -> set(x, down.transpose(0, 1), narrow, 0);
            case "upAdd" -> set(h, up.transpose(0, 1), wide, 1);
            case "dh" -> set(g, up, narrow, 0);
            case "dUp" -> set(g.transpose(0, 1), h, Tensor.empty(DType.F32, DIM, RANK), 0);
            case "dxAdd" -> set(h, down, wide, 1);
            case "dDown" -> set(h.transpose(0, 1), x, Tensor.empty(DType.F32, RANK, DIM), 0);
            default -> throw new IllegalArgumentException("product " + product);
        }
    }

    private void set(Tensor a, Tensor b, Tensor c, double beta) {
        this.a = a;
        this.b = b;
        this.c = c;
        this.beta = beta;
    }

    @Benchmark
    public Tensor matmul() {
        cpu.matmul(a, b, c, 1, beta, null);
        return c;
    }
}
