package dev.loraid.tensor;

import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Where the first NaN or ±Inf is in a run of floating-point values as stored (F64, F32, BF16, F16, FP8): the check
 * every safetensors output makes before its bytes are written ({@code SafetensorsWriter}) and every LoRA file gets
 * when it is loaded ({@code core.Floats}). Vectors skip the finite bulk on the sign-and-exponent words; a scalar loop
 * finds the exact index.
 */
public final class NonFinite {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Short> I16S = ShortVector.SPECIES_PREFERRED;
    private static final VectorMask<Short> ODD_WORDS = ShortVector.zero(I16S).addIndex(1).and((short) 1).eq((short) 1);

    private NonFinite() {
    }

    /** Index of the first NaN/±Inf among the {@code dtype} values in {@code seg}, or −1 (−1 for integer dtypes). */
    public static long firstIndex(MemorySegment seg, DType dtype) {
        long n = seg.byteSize() / dtype.byteSize();
        long from = switch (dtype) { // vectors skip the finite bulk; the loops below find the exact index
            case F32 -> firstVectorWithAllOnes(seg, n, 4, (short) 0x7F80);
            case BF16 -> firstVectorWithAllOnes(seg, n, 2, (short) 0x7F80);
            case F16 -> firstVectorWithAllOnes(seg, n, 2, (short) 0x7C00);
            default -> 0;
        };
        switch (dtype) {
            case F32 -> {
                for (long i = from; i < n; i++) {
                    if ((seg.get(I32, i * 4) & 0x7F800000) == 0x7F800000) {
                        return i;
                    }
                }
            }
            case F16, BF16 -> {
                int mask = dtype == DType.F16 ? 0x7C00 : 0x7F80;
                for (long i = from; i < n; i++) {
                    if ((seg.get(I16, i * 2) & mask) == mask) {
                        return i;
                    }
                }
            }
            case F64 -> {
                for (long i = 0; i < n; i++) {
                    if ((seg.get(I64, i * 8) & 0x7FF0000000000000L) == 0x7FF0000000000000L) {
                        return i;
                    }
                }
            }
            case F8_E4M3 -> {
                for (long i = 0; i < n; i++) {
                    if ((seg.get(ValueLayout.JAVA_BYTE, i) & 0x7F) == 0x7F) { // e4m3fn: no Inf, NaN is S.1111.111
                        return i;
                    }
                }
            }
            case F8_E5M2 -> {
                for (long i = 0; i < n; i++) {
                    if ((seg.get(ValueLayout.JAVA_BYTE, i) & 0x7C) == 0x7C) {
                        return i;
                    }
                }
            }
            default -> {
            }
        }
        return -1;
    }

    /**
     * The index of the first element of the first whole vector of {@code seg}'s 16-bit words in which a sign-and-exponent
     * word (the upper one of an fp32, each one of a bf16/fp16) has all the bits of {@code exponent} set (NaN/Inf); or
     * where the scalar tail begins when none has. {@code elementBytes} is 4 or 2.
     */
    private static long firstVectorWithAllOnes(MemorySegment seg, long n, int elementBytes, short exponent) {
        // little-endian: an fp32's sign and exponent are in its odd 16-bit word
        VectorMask<Short> exponentWords = elementBytes == 4 ? ODD_WORDS : I16S.maskAll(true);
        long words = n * elementBytes / 2;
        long w = 0;
        for (long end = words - I16S.length(); w <= end; w += I16S.length()) {
            ShortVector v = ShortVector.fromMemorySegment(I16S, seg, w * 2, ByteOrder.LITTLE_ENDIAN);
            if (v.and(exponent).eq(exponent).and(exponentWords).anyTrue()) {
                break;
            }
        }
        return w * 2 / elementBytes;
    }

    /** "NaN", "Inf" or "-Inf": the value at index {@code i} of {@code seg} (one {@link #firstIndex} found). */
    public static String name(MemorySegment seg, DType dtype, long i) {
        long bits = switch (dtype.byteSize()) {
            case 8 -> seg.get(I64, i * 8);
            case 4 -> seg.get(I32, i * 4);
            case 2 -> seg.get(I16, i * 2);
            default -> seg.get(ValueLayout.JAVA_BYTE, i);
        };
        long mantissa = switch (dtype) {
            case F64 -> bits & 0xFFFFFFFFFFFFFL;
            case F32 -> bits & 0x7FFFFF;
            case F16 -> bits & 0x3FF;
            case BF16 -> bits & 0x7F;
            case F8_E5M2 -> bits & 0x3;
            default -> 1;
        };
        boolean negative = bits < 0;
        return mantissa != 0 ? "NaN" : negative ? "-Inf" : "Inf";
    }
}
