package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Uniform and normal fills from {@link Philox}, defined so that any backend reproduces them exactly.
 *
 * <p>Element i of dst (row-major over its shape, whatever its strides) takes number {@code n = offset + i} of
 * stream {@code seed}. Number n lives in Philox block {@code n >>> 2}: counter = (low 32 bits of n>>>2, high 32
 * bits of n>>>2, 0, 0), key = (low 32 bits of seed, high 32 bits of seed); the block's output words are w0..w3.
 * <ul>
 *   <li>Uniform: {@code u = (w[n & 3] >>> 8) · 2^−24}, in [0, 1) exactly as a float (a narrow dtype may round it
 *       up to 1).</li>
 *   <li>Normal (Box–Muller on word pairs): with {@code a = w[n & 2]}, {@code b = w[(n & 2) + 1]},
 *       {@code u1 = ((a >>> 8) + 1) · 2^−24} in (0, 1], {@code u2 = (b >>> 8) · 2^−24},
 *       {@code r = sqrt(−2·ln u1)}, {@code θ = 2π·u2}; even n gives {@code r·cos θ}, odd n gives {@code r·sin θ}.
 *       Computed in float64 (CUDA: {@code sqrt}, {@code log}, {@code cos}, {@code sin} in double) and rounded once
 *       to dst's dtype.</li>
 * </ul>
 */
final class RandomFill {
    private static final double TWO_POW_MINUS_24 = 0x1p-24;

    private RandomFill() {
    }

    static void uniform(Tensor dst, long seed, long offset) {
        fill(dst, seed, offset, false);
    }

    static void normal(Tensor dst, long seed, long offset) {
        fill(dst, seed, offset, true);
    }

    /** The four numbers of Philox block {@code words} (numbers 4b .. 4b+3), as this class defines them. */
    static void numbers(int[] words, boolean normal, double[] out) {
        if (!normal) {
            for (int i = 0; i < 4; i++) {
                out[i] = (words[i] >>> 8) * TWO_POW_MINUS_24;
            }
            return;
        }
        for (int pair = 0; pair < 4; pair += 2) {
            double u1 = ((words[pair] >>> 8) + 1) * TWO_POW_MINUS_24;
            double u2 = (words[pair + 1] >>> 8) * TWO_POW_MINUS_24;
            double r = Math.sqrt(-2.0 * Math.log(u1));
            double theta = 2.0 * Math.PI * u2;
            out[pair] = r * Math.cos(theta);
            out[pair + 1] = r * Math.sin(theta);
        }
    }

    private static void fill(Tensor dst, long seed, long offset, boolean normal) {
        long[] shape = dst.shape().toArray();
        long[][] strides = {dst.strides(), dst.shape().contiguousStrides()};
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        StridedLoop.of(shape, strides, new long[] {dst.offset(), 0}).forEachRun(8, (base, stride, len) -> {
            double[] values = CpuScratch.doubles(0, len);
            int[] words = new int[4];
            double[] four = new double[4];
            long block = -1;
            for (int i = 0; i < len; i++) {
                long n = offset + base[1] + i * stride[1];
                if (n >>> 2 != block) {
                    block = n >>> 2;
                    Philox.block((int) block, (int) (block >>> 32), 0, 0, k0, k1, words);
                    numbers(words, normal, four);
                }
                values[i] = four[(int) (n & 3)];
            }
            Lanes.store(values, 0, len, dst.storage().segment(), dst.dtype(), base[0], stride[0]);
        });
    }
}
