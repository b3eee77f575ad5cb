package dev.loraid.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element types, with their safetensors names. All multi-byte values are little-endian in storage,
 * as in safetensors files.
 */
public enum DType {
    F64(8, "F64", true),
    F32(4, "F32", true),
    F16(2, "F16", true),
    BF16(2, "BF16", true),
    /** OCP FP8 E4M3 "fn": no infinities, one NaN pattern per sign, max 448; casts saturate. */
    F8_E4M3(1, "F8_E4M3", true),
    /** OCP FP8 E5M2: IEEE-like, with infinities; overflow rounds to infinity. */
    F8_E5M2(1, "F8_E5M2", true),
    I64(8, "I64", false),
    I32(4, "I32", false),
    I16(2, "I16", false),
    I8(1, "I8", false),
    U8(1, "U8", false),
    BOOL(1, "BOOL", false);

    static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int byteSize;
    private final String safetensorsName;
    private final boolean floatingPoint;

    DType(int byteSize, String safetensorsName, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.floatingPoint = floatingPoint;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The dtype string used in safetensors headers, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** Parses a safetensors dtype string; throws naming the string if it is unknown. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "' (known: F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I64 I32 I16 I8 U8 BOOL)");
    }

    /** Reads the element at {@code byteOffset} as a double (exact for every dtype except I64 beyond 2^53). */
    public double read(MemorySegment seg, long byteOffset) {
        return switch (this) {
            case F64 -> seg.get(LE_F64, byteOffset);
            case F32 -> seg.get(LE_F32, byteOffset);
            case F16 -> Float.float16ToFloat(seg.get(LE_I16, byteOffset));
            case BF16 -> MiniFloats.bf16ToFloat(seg.get(LE_I16, byteOffset));
            case F8_E4M3 -> MiniFloats.e4m3ToFloat(seg.get(ValueLayout.JAVA_BYTE, byteOffset));
            case F8_E5M2 -> MiniFloats.e5m2ToFloat(seg.get(ValueLayout.JAVA_BYTE, byteOffset));
            case I64 -> seg.get(LE_I64, byteOffset);
            case I32 -> seg.get(LE_I32, byteOffset);
            case I16 -> seg.get(LE_I16, byteOffset);
            case I8 -> seg.get(ValueLayout.JAVA_BYTE, byteOffset);
            case U8 -> seg.get(ValueLayout.JAVA_BYTE, byteOffset) & 0xFF;
            case BOOL -> seg.get(ValueLayout.JAVA_BYTE, byteOffset) != 0 ? 1 : 0;
        };
    }

    /** Reads an integer element exactly (I64 included); floating values are truncated toward zero. */
    public long readLong(MemorySegment seg, long byteOffset) {
        return this == I64 ? seg.get(LE_I64, byteOffset) : (long) read(seg, byteOffset);
    }

    /**
     * Writes {@code value} at {@code byteOffset}, rounding to nearest-even (once, from the double) for the float
     * types; see {@link MiniFloats} for overflow, NaN and fp8 saturation. Integer types truncate toward zero and
     * saturate at their range (as Java's double-to-int cast does for I32/I64, for every width alike); NaN becomes 0.
     * BOOL is 1 for any non-zero value (NaN included).
     */
    public void write(MemorySegment seg, long byteOffset, double value) {
        switch (this) {
            case F64 -> seg.set(LE_F64, byteOffset, value);
            case F32 -> seg.set(LE_F32, byteOffset, (float) value);
            case F16 -> seg.set(LE_I16, byteOffset, MiniFloats.doubleToF16(value));
            case BF16 -> seg.set(LE_I16, byteOffset, MiniFloats.doubleToBf16(value));
            case F8_E4M3 -> seg.set(ValueLayout.JAVA_BYTE, byteOffset, MiniFloats.doubleToE4m3(value));
            case F8_E5M2 -> seg.set(ValueLayout.JAVA_BYTE, byteOffset, MiniFloats.doubleToE5m2(value));
            case I64 -> seg.set(LE_I64, byteOffset, (long) value);
            case I32 -> seg.set(LE_I32, byteOffset, (int) value);
            case I16 -> seg.set(LE_I16, byteOffset, (short) saturate(value, Short.MIN_VALUE, Short.MAX_VALUE));
            case I8 -> seg.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) saturate(value, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case U8 -> seg.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) saturate(value, 0, 255));
            case BOOL -> seg.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) (value != 0 ? 1 : 0));
        }
    }

    private static int saturate(double value, int min, int max) {
        return (int) Math.max(min, Math.min(max, (int) value)); // (int) NaN == 0
    }

    /** Writes an integer exactly (I64 included; narrower integer types saturate). */
    public void writeLong(MemorySegment seg, long byteOffset, long value) {
        if (this == I64) {
            seg.set(LE_I64, byteOffset, value);
        } else {
            write(seg, byteOffset, value);
        }
    }
}
