package dev.loraid.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Vector math shared by the kernels: exp and sigmoid written out in plain vector arithmetic (so their speed does
 * not depend on whether the JDK has a native math library for this CPU: x86 SVML, aarch64 SLEEF, or a slow
 * scalar fallback), and sums/dots/max over padded work buffers.
 */
final class VecMath {
    private VecMath() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude < 2^22 to the nearest integer. */
    private static final float ROUND_MAGIC = 12582912f;
    /**
     * Inputs are clamped to [EXP_LO, EXP_HI], chosen so the clamped ends come out of the arithmetic below as
     * exactly 0 (n = −127: the 2^n factor has exponent bits 0) and +∞ (n = 128: exponent bits 255) with no
     * blend afterwards.
     */
    private static final float EXP_HI = 89f;
    private static final float EXP_LO = -88f;

    /**
     * e^x to about 1 ulp (Cephes expf: range reduction by ln 2, degree-6 polynomial). Below about −87.7 the result
     * is 0, above 88.38 it is +∞; NaN stays NaN. The clamp is two compare-and-blends rather than max/min, whose
     * Java NaN semantics cost C2 several more instructions on x86 (with the fused range reduction, the attention
     * backward's exp pass runs 30% faster).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.blend(EXP_LO, x.lt(EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
        FloatVector t = xc.fma(c(LOG2E), c(ROUND_MAGIC));
        FloatVector n = t.sub(ROUND_MAGIC);
        IntVector ni = t.reinterpretAsInts().sub(0x4B400000);
        FloatVector r = n.fma(c(-LN2_HI), xc);
        r = n.fma(c(-LN2_LO), r);
        FloatVector p = r.fma(c(1.9875691500E-4f), c(1.3981999507E-3f));
        p = p.fma(r, c(8.3334519073E-3f));
        p = p.fma(r, c(4.1665795894E-2f));
        p = p.fma(r, c(1.6666665459E-1f));
        p = p.fma(r, c(5.0000001201E-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale);
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(Lanes.F, v);
    }

    /** 1 / (1 + e^−x). */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(x.species(), 1f).div(exp(x.neg()).add(1f));
    }

    /** Shuffles that fold the upper half of the live lanes onto the lower half: VL/2, VL/4, …, 1 lanes apart. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] FOLDS = new VectorShuffle[Integer.numberOfTrailingZeros(Lanes.VL)];

    static {
        for (int f = 0, step = Lanes.VL / 2; step >= 1; f++, step /= 2) {
            int s = step;
            FOLDS[f] = VectorShuffle.fromOp(Lanes.F, i -> (i + s) & (Lanes.VL - 1));
        }
    }

    /**
     * Σ of the lanes in a fixed pairwise order. {@code reduceLanes(ADD)} leaves the order unspecified, and the
     * interpreter and the JIT-compiled intrinsic do differ in the last bit: a run would then depend on when a
     * method got compiled, breaking bit-for-bit reproducible training (design.md, "Determinism").
     */
    static float sumLanes(FloatVector v) {
        FloatVector acc = v;
        for (VectorShuffle<Float> fold : FOLDS) {
            acc = acc.add(acc.rearrange(fold));
        }
        return acc.lane(0);
    }

    /** Σ a[0..p), p a multiple of the vector length. */
    static float sum(float[] a, int p) {
        FloatVector acc = FloatVector.zero(Lanes.F);
        for (int i = 0; i < p; i += Lanes.VL) {
            acc = acc.add(FloatVector.fromArray(Lanes.F, a, i));
        }
        return sumLanes(acc);
    }

    /** Σ a[i]·b[i] over [0, p), p a multiple of the vector length. */
    static float dot(float[] a, float[] b, int p) {
        FloatVector acc = FloatVector.zero(Lanes.F);
        for (int i = 0; i < p; i += Lanes.VL) {
            acc = FloatVector.fromArray(Lanes.F, a, i).fma(FloatVector.fromArray(Lanes.F, b, i), acc);
        }
        return sumLanes(acc);
    }

    /** max a[0..p), p a multiple of the vector length. */
    static float max(float[] a, int p) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < p; i += Lanes.VL) {
            acc = acc.max(FloatVector.fromArray(Lanes.F, a, i));
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }
}
