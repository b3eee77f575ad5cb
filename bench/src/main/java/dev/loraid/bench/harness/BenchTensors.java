package dev.loraid.bench.harness;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Benchmark operands: contiguous tensors of standard-normal values from a fixed seed. */
public final class BenchTensors {
    private BenchTensors() {
    }

    public static Tensor random(long seed, DType dtype, long... dims) {
        Tensor t = Tensor.empty(dtype, dims);
        SplittableRandom rnd = new SplittableRandom(seed);
        MemorySegment seg = t.storage().segment();
        long n = t.numel();
        int size = dtype.byteSize();
        for (long i = 0; i < n; i++) {
            dtype.write(seg, i * size, (float) rnd.nextGaussian());
        }
        return t;
    }

    /** The elements of a contiguous F32 tensor. */
    public static float[] floats(Tensor t) {
        if (t.dtype() != DType.F32 || !t.isContiguous()) {
            throw new IllegalArgumentException("expected a contiguous F32 tensor, got " + t);
        }
        return t.storage().segment().asSlice(t.offset() * 4, t.numel() * 4)
            .toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    }

    /** The largest |a[i] - b[i]|, for cross-checking our result {@code a} against PyTorch's {@code b}. */
    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** The largest |a[i]|: the scale a cross-check's difference is read against. */
    public static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
