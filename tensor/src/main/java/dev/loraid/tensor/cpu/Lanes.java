package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Moves runs of elements between tensor memory (any dtype, any stride, in elements) and the float/double work
 * buffers the kernels compute on. Float loads are {@link FloatRuns}' (vector widening of BF16, F16 and FP8);
 * contiguous F32 stores are a bulk copy and contiguous BF16 ones are narrowed with the Vector API; other stores
 * and the double buffers of the fp64 kernels go element by element through {@link DType}.
 */
final class Lanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int VL = F.length();

    static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Lanes() {
    }

    /** {@code n} rounded up to a whole number of float vectors: work buffers are padded so kernels need no tails. */
    static int padded(int n) {
        return (n + VL - 1) / VL * VL;
    }

    /** {@code dst[pos .. pos+n) = seg[elem + i·stride]} as floats: {@link FloatRuns}, the one decoder. */
    static void load(MemorySegment seg, DType t, long elem, long stride, float[] dst, int pos, int n) {
        FloatRuns.read(seg, t, elem, stride, dst, pos, n);
    }

    /** {@code seg[elem + i·stride] = src[pos + i]} rounded to the dtype. */
    static void store(float[] src, int pos, int n, MemorySegment seg, DType t, long elem, long stride) {
        if (stride == 1 && t == DType.F32) {
            MemorySegment.copy(src, pos, seg, LE_F32, elem * 4, n);
        } else if (stride == 1 && t == DType.BF16) {
            storeBf16(src, pos, n, seg, elem * 2);
        } else if (t == DType.F32) {
            for (int i = 0; i < n; i++) {
                seg.set(LE_F32, (elem + i * stride) * 4, src[pos + i]);
            }
        } else {
            int b = t.byteSize();
            for (int i = 0; i < n; i++) {
                t.write(seg, (elem + i * stride) * b, src[pos + i]);
            }
        }
    }

    static void load(MemorySegment seg, DType t, long elem, long stride, double[] dst, int pos, int n) {
        if (stride == 1 && t == DType.F64) {
            MemorySegment.copy(seg, LE_F64, elem * 8, dst, pos, n);
            return;
        }
        if (t == DType.F32) {
            for (int i = 0; i < n; i++) {
                dst[pos + i] = seg.get(LE_F32, (elem + i * stride) * 4);
            }
            return;
        }
        int b = t.byteSize();
        for (int i = 0; i < n; i++) {
            dst[pos + i] = t.read(seg, (elem + i * stride) * b);
        }
    }

    static void store(double[] src, int pos, int n, MemorySegment seg, DType t, long elem, long stride) {
        if (stride == 1 && t == DType.F64) {
            MemorySegment.copy(src, pos, seg, LE_F64, elem * 8, n);
            return;
        }
        if (t == DType.F32) {
            for (int i = 0; i < n; i++) {
                seg.set(LE_F32, (elem + i * stride) * 4, (float) src[pos + i]);
            }
            return;
        }
        int b = t.byteSize();
        for (int i = 0; i < n; i++) {
            t.write(seg, (elem + i * stride) * b, src[pos + i]);
        }
    }

    /** f32 → bf16 rounding to nearest even; NaNs stay (quiet) NaNs, as {@link MiniFloats#floatToBf16}. */
    private static void storeBf16(float[] src, int pos, int n, MemorySegment seg, long byteOff) {
        int i = 0;
        for (int end = n - VL; i <= end; i += VL) {
            Bf16Vectors.store(FloatVector.fromArray(F, src, pos + i), seg, byteOff + 2L * i);
        }
        for (; i < n; i++) {
            seg.set(LE_I16, byteOff + 2L * i, MiniFloats.floatToBf16(src[pos + i]));
        }
    }
}
