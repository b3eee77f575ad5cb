package dev.loraid.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * One vector of bf16 values to and from fp32 ({@link FloatVector#SPECIES_PREFERRED} lanes), for the kernels that
 * convert as they go ({@link FloatRuns}' decoder, {@link Lanes}' stores, the GEMM's bf16 output tiles). Bit for
 * bit the scalar {@link dev.loraid.tensor.MiniFloats#bf16ToFloat} and {@link dev.loraid.tensor.MiniFloats#floatToBf16}.
 */
public final class Bf16Vectors {
    /** The float lanes of one conversion. */
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Bf16Vectors() {
    }

    /** {@link #F}'s lane count of bf16 values at {@code byteOff}, widened (bf16 is the top half of an fp32). */
    public static FloatVector load(MemorySegment seg, long byteOff) {
        ShortVector s = ShortVector.fromMemorySegment(S, seg, byteOff, LE);
        IntVector bits = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@code f} rounded to bf16 (to nearest, ties to even; NaNs stay quiet NaNs) and stored at {@code byteOff}. */
    public static void store(FloatVector f, MemorySegment seg, long byteOff) {
        IntVector bits = f.reinterpretAsInts();
        IntVector lsb = bits.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.AND, 1);
        IntVector rounded = bits.add(lsb).add(0x7FFF).lanewise(VectorOperators.LSHR, 16);
        VectorMask<Integer> nan = f.test(VectorOperators.IS_NAN).cast(I);
        IntVector quiet = bits.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.OR, 0x0040);
        IntVector r = rounded.blend(quiet, nan);
        ((ShortVector) r.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(seg, byteOff, LE);
    }
}
