package dev.loraid.autograd;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.SplittableRandom;

/** Small random tensors for tests, from a fixed seed. */
final class RandomTensors {
    private RandomTensors() {
    }

    /** Contiguous F64, uniform in [lo, hi). */
    static Tensor uniform(long seed, double lo, double hi, long... dims) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] d = new double[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < d.length; i++) {
            d[i] = lo + (hi - lo) * r.nextDouble();
        }
        return Tensor.ofDoubles(d, dims);
    }

    static Tensor f64(long seed, long... dims) {
        return uniform(seed, -1, 1, dims);
    }

    /** F64 of shape {@code dims} (rank ≥ 2) whose last two dimensions are a transposed view: non-contiguous. */
    static Tensor f64Strided(long seed, long... dims) {
        long[] swapped = dims.clone();
        int r = dims.length;
        swapped[r - 1] = dims[r - 2];
        swapped[r - 2] = dims[r - 1];
        return f64(seed, swapped).transpose(r - 1, r - 2);
    }

    static Tensor f32(long seed, long... dims) {
        return f64(seed, dims).to(DType.F32);
    }
}
