package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.TestTensors;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The golden harness of the CUDA backend (style.md, "the CPU is the oracle"): an op runs on the CPU backend and on
 * cuda:0 over the same inputs — mirrored byte for byte into device memory with the same strides and offsets, so
 * transposed, padded and broadcast views reach the kernels as they are — and every output is compared.
 */
public final class GpuHarness {
    public static final Device GPU = Device.cuda(0);

    private GpuHarness() {
    }

    /** Skips the calling test, saying why, when cuda:0 is not usable. */
    public static Backend gpuOrSkip() {
        String problem = CudaBackends.problem(0);
        assumeTrue(problem == null, () -> "CUDA golden tests skipped: " + problem);
        return Backends.of(GPU);
    }

    /** The same bytes, dtype, shape, strides and offset in device memory. */
    public static Tensor mirror(Tensor cpu) {
        if (cpu == null) {
            return null;
        }
        long bytes = cpu.storage().byteSize();
        Tensor raw = new Tensor(cpu.storage(), DType.U8, Shape.of(bytes), new long[] {1}, 0);
        Tensor dev = Tensor.empty(GPU, DType.U8, bytes);
        dev.backend().copy(raw, dev);
        return new Tensor(dev.storage(), cpu.dtype(), cpu.shape(), cpu.strides(), cpu.offset());
    }

    public static double tolerance(DType dtype) {
        return switch (dtype) {
            case F64 -> 1e-9;
            case F32 -> 1e-4;
            case BF16 -> 2e-2;
            case F16 -> 3e-3;
            case F8_E4M3, F8_E5M2 -> 0.13;
            default -> 0;
        };
    }

    /**
     * Runs {@code op} over {@code tensors} on the CPU and over their device mirrors on cuda:0, then compares the
     * tensors at the indices {@code outputs} (initial contents mirrored too, for accumulating ops).
     */
    static void check(String what, double tol, Tensor[] tensors, int[] outputs, BiConsumer<Backend, Tensor[]> op) {
        Tensor[] dev = new Tensor[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            dev[i] = mirror(tensors[i]);
        }
        op.accept(Backends.cpu(), tensors);
        op.accept(Backends.of(GPU), dev);
        for (int o : outputs) {
            TestTensors.assertClose(what + " output " + o + " " + tensors[o] + " (actual: cuda, expected: the CPU)",
                tensors[o].toDoubleArray(), dev[o].toDoubleArray(), tol);
        }
    }

    static int[] outs(int... indices) {
        return indices;
    }
}
