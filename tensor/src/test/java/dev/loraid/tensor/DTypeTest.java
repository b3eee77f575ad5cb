package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Element access of the non-narrow types and the integer casts (the narrow floats: MiniFloatsTest). */
class DTypeTest {
    private static double roundTrip(DType t, double v) {
        MemorySegment s = MemorySegment.ofArray(new byte[8]);
        t.write(s, 0, v);
        return t.read(s, 0);
    }

    @Test
    void safetensorsNamesRoundTrip() {
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromSafetensorsName(t.safetensorsName()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.fromSafetensorsName("F8_E4M3FNUZ"));
        assertTrue(e.getMessage().contains("'F8_E4M3FNUZ'"), e.getMessage());
    }

    @Test
    void wideTypesAreExactAndLittleEndian() {
        assertEquals(Math.PI, roundTrip(DType.F64, Math.PI));
        assertEquals((double) (float) Math.PI, roundTrip(DType.F32, Math.PI));
        MemorySegment s = MemorySegment.ofArray(new byte[8]);
        DType.I64.writeLong(s, 0, (1L << 62) + 1);
        assertEquals((1L << 62) + 1, DType.I64.readLong(s, 0));
        assertEquals(1, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)); // least significant byte first
        DType.I32.writeLong(s, 0, -123456789);
        assertEquals(-123456789, DType.I32.readLong(s, 0));
    }

    @Test
    void integerCastsTruncateAndSaturate() {
        assertEquals(-2, roundTrip(DType.I8, -2.9));
        assertEquals(127, roundTrip(DType.I8, 300));
        assertEquals(-128, roundTrip(DType.I8, -1e9));
        assertEquals(255, roundTrip(DType.U8, 300));
        assertEquals(0, roundTrip(DType.U8, -5));
        assertEquals(200, roundTrip(DType.U8, 200.7));
        assertEquals(32767, roundTrip(DType.I16, 1e6));
        assertEquals(-32768, roundTrip(DType.I16, Double.NEGATIVE_INFINITY));
        assertEquals(Integer.MAX_VALUE, roundTrip(DType.I32, 1e300));
        for (DType t : new DType[] {DType.I8, DType.U8, DType.I16, DType.I32, DType.I64}) {
            assertEquals(0, roundTrip(t, Double.NaN), t.name());
        }
        assertEquals(1, roundTrip(DType.BOOL, -0.5));
        assertEquals(0, roundTrip(DType.BOOL, -0.0));
    }
}
