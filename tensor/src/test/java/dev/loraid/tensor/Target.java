package dev.loraid.tensor;

import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.cuda.GpuHarness;

import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * A backend the op cases run on: its {@link Backend}, how a host test tensor reaches it (as is on the CPU; on a
 * GPU mirrored byte for byte, strides and offset included, so transposed, padded and broadcast views reach the
 * kernels as they are), and its per-dtype tolerance against the fp64 references.
 */
record Target(String name, Backend backend, UnaryOperator<Tensor> place) {
    static Target cpu() {
        return new Target("cpu", Backends.cpu(), t -> t);
    }

    /** cuda:0; skips the calling test, saying why, where there is none. */
    static Target cuda() {
        return new Target("cuda", GpuHarness.gpuOrSkip(), GpuHarness::mirror);
    }

    /** Relative tolerance of a result computed in fp32 (fp64 for F64) and stored in {@code dtype}. */
    double tol(DType dtype) {
        // the CUDA kernels use fast intrinsics and another summation order: their bound is GpuHarness'
        return name.equals("cpu") ? TestTensors.tolerance(dtype)
            : Math.max(TestTensors.tolerance(dtype), GpuHarness.tolerance(dtype));
    }

    /** Places {@code hostTensors} (nulls stay null) on this backend, runs {@code op} on them, returns them. */
    Tensor[] run(BiConsumer<Backend, Tensor[]> op, Tensor... hostTensors) {
        Tensor[] placed = new Tensor[hostTensors.length];
        for (int i = 0; i < placed.length; i++) {
            placed[i] = hostTensors[i] == null ? null : place.apply(hostTensors[i]);
        }
        op.accept(backend, placed);
        return placed;
    }

    @Override
    public String toString() {
        return name;
    }
}
