package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The one decoder of tensor memory into fp32 work buffers: a run of elements of any dtype (any stride, in
 * elements) into a {@code float[]}, widening BF16, F16 and FP8 with vector code. Used by the CPU kernels (through
 * {@link Lanes} and the GEMM's packing: this is where weights in their file dtype become fp32, one packed panel at
 * a time), by {@link dev.loraid.tensor.Tensor#toFloatArray} and by core's {@code Floats}.
 * The narrow formats are decoded with integer arithmetic: the magnitude bits shifted into fp32 position and
 * scaled by 2^(127 - bias) give normals and subnormals exactly; the all-ones exponent (Inf/NaN) is patched.
 * Results equal {@code (float) dtype.read(...)} bit for bit (NaNs stay NaNs); integer dtypes are converted
 * element by element, as {@link DType#read} does.
 */
public final class FloatRuns {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(LE);

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    /** Byte loads of L lanes need a 64-bit vector at least; narrower machines (NEON, 4 lanes) widen FP8 scalarly. */
    private static final VectorSpecies<Byte> BS = L * 8 >= 64 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;

    private FloatRuns() {
    }

    /**
     * {@code dst[dstOff + i] = (float) element(elemOffset + i*stride)} for i in [0, len); offsets and stride in
     * elements of {@code dtype}; a stride of 0 broadcasts one element.
     */
    public static void read(MemorySegment seg, DType dtype, long elemOffset, long stride, float[] dst, int dstOff,
                            int len) {
        if (len == 0) {
            return;
        }
        if (stride == 0 && len > 1) {
            float v = readOne(seg, dtype, elemOffset);
            java.util.Arrays.fill(dst, dstOff, dstOff + len, v);
            return;
        }
        if (stride != 1 && len > 1) {
            readStrided(seg, dtype, elemOffset, stride, dst, dstOff, len);
            return;
        }
        long byteOff = elemOffset * dtype.byteSize();
        switch (dtype) {
            case F32 -> MemorySegment.copy(seg, F32, byteOff, dst, dstOff, len);
            case BF16 -> readBf16(seg, byteOff, dst, dstOff, len);
            case F16 -> readNarrow16(NarrowFloat.F16, seg, byteOff, dst, dstOff, len);
            case F8_E4M3 -> readNarrow8(NarrowFloat.E4M3, seg, byteOff, dst, dstOff, len);
            case F8_E5M2 -> readNarrow8(NarrowFloat.E5M2, seg, byteOff, dst, dstOff, len);
            default -> readStrided(seg, dtype, elemOffset, 1, dst, dstOff, len);
        }
    }

    /** Element-wise, with the narrow formats widened by the same integer arithmetic as the vector code. */
    private static void readStrided(MemorySegment seg, DType dtype, long elemOffset, long stride, float[] dst,
                                    int dstOff, int len) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = readOne(seg, dtype, elemOffset + i * stride);
        }
    }

    private static float readOne(MemorySegment seg, DType dtype, long elem) {
        return switch (dtype) {
            case F32 -> seg.get(F32, elem * 4);
            case BF16 -> Float.intBitsToFloat(seg.get(I16, elem * 2) << 16);
            case F16 -> NarrowFloat.F16.widen(seg.get(I16, elem * 2));
            case F8_E4M3 -> NarrowFloat.E4M3.widen(seg.get(ValueLayout.JAVA_BYTE, elem));
            case F8_E5M2 -> NarrowFloat.E5M2.widen(seg.get(ValueLayout.JAVA_BYTE, elem));
            case F64 -> (float) seg.get(F64, elem * 8);
            default -> (float) dtype.read(seg, elem * dtype.byteSize()); // integers: exact up to 2^24, as before
        };
    }

    /** bf16 is the top half of an fp32: widening is a 16-bit shift. */
    private static void readBf16(MemorySegment seg, long byteOff, float[] dst, int dstOff, int len) {
        int i = 0;
        for (; i <= len - L; i += L) {
            Bf16Vectors.load(seg, byteOff + 2L * i).intoArray(dst, dstOff + i);
        }
        for (; i < len; i++) {
            dst[dstOff + i] = Float.intBitsToFloat(seg.get(I16, byteOff + 2L * i) << 16);
        }
    }

    private static void readNarrow16(NarrowFloat f, MemorySegment seg, long byteOff, float[] dst, int dstOff, int len) {
        int i = 0;
        for (; i <= len - L; i += L) {
            ShortVector s = ShortVector.fromMemorySegment(SS, seg, byteOff + 2L * i, LE);
            f.widen((IntVector) s.convertShape(VectorOperators.S2I, IS, 0)).intoArray(dst, dstOff + i);
        }
        for (; i < len; i++) {
            dst[dstOff + i] = f.widen(seg.get(I16, byteOff + 2L * i));
        }
    }

    private static void readNarrow8(NarrowFloat f, MemorySegment seg, long byteOff, float[] dst, int dstOff, int len) {
        int i = 0;
        if (BS != null) {
            for (; i <= len - L; i += L) {
                ByteVector s = ByteVector.fromMemorySegment(BS, seg, byteOff + i, LE);
                f.widen((IntVector) s.convertShape(VectorOperators.B2I, IS, 0)).intoArray(dst, dstOff + i);
            }
        }
        for (; i < len; i++) {
            dst[dstOff + i] = f.widen(seg.get(ValueLayout.JAVA_BYTE, byteOff + i));
        }
    }

    /** The sub-fp32 formats other than bf16, by exponent and mantissa width (bits as a sign-extended int). */
    enum NarrowFloat {
        F16(5, 10, true),
        E5M2(5, 2, true),
        /** fn variant: no infinities, only S.1111.111 is NaN. */
        E4M3(4, 3, false);

        private final int shift;
        private final int magnitudeMask;
        private final int signBit;
        private final int expMask;
        private final boolean hasInfinity;
        private final float scale;

        NarrowFloat(int expBits, int manBits, boolean hasInfinity) {
            this.shift = 23 - manBits;
            this.magnitudeMask = (1 << (expBits + manBits)) - 1;
            this.signBit = 1 << (expBits + manBits);
            this.expMask = ((1 << expBits) - 1) << manBits;
            this.hasInfinity = hasInfinity;
            int bias = (1 << (expBits - 1)) - 1;
            this.scale = Math.scalb(1f, 127 - bias);
        }

        FloatVector widen(IntVector bits) {
            IntVector mag = bits.and(magnitudeMask);
            IntVector shifted = mag.lanewise(VectorOperators.LSHL, shift);
            FloatVector v = shifted.reinterpretAsFloats().mul(scale);
            VectorMask<Integer> special = hasInfinity
                ? mag.and(expMask).compare(VectorOperators.EQ, expMask)
                : mag.compare(VectorOperators.EQ, magnitudeMask);
            IntVector specialBits = hasInfinity ? shifted.or(0x7F800000) : IntVector.broadcast(IS, 0x7FC00000);
            IntVector out = v.reinterpretAsInts().blend(specialBits, special);
            IntVector sign = bits.and(signBit).lanewise(VectorOperators.LSHL, 31 - Integer.numberOfTrailingZeros(signBit));
            return out.or(sign).reinterpretAsFloats();
        }

        float widen(int bits) {
            int mag = bits & magnitudeMask;
            int shifted = mag << shift;
            int out;
            if (hasInfinity ? (mag & expMask) == expMask : mag == magnitudeMask) {
                out = hasInfinity ? shifted | 0x7F800000 : 0x7FC00000;
            } else {
                out = Float.floatToRawIntBits(Float.intBitsToFloat(shifted) * scale);
            }
            int sign = (bits & signBit) << (31 - Integer.numberOfTrailingZeros(signBit));
            return Float.intBitsToFloat(out | sign);
        }
    }
}
