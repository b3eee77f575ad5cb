package dev.loraid.core;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.NonFinite;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Bulk float32 conversion of host tensors, for the file-level tools (merge, EMA, blending) that work on one tensor
 * at a time in fp32 (spec loraid.md REQ-MERGE-3, REQ-EMA-7): decode any floating dtype to {@code float[]} and encode
 * back with round-to-nearest-even. Decoding is {@link Tensor#toFloatArray}'s; encoding of contiguous F32/BF16/F16
 * takes a straight loop, other dtypes go element-wise.
 */
public final class Floats {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Floats() {
    }

    /**
     * The elements of a tensor in row-major order as float32 (a device tensor is copied through the host):
     * {@link Tensor#toFloatArray}, which decodes with the tensor module's one vectorised decoder.
     */
    public static float[] read(Tensor t) {
        return t.toFloatArray();
    }

    /** A new contiguous CPU tensor of {@code shape} holding {@code data} cast to {@code dtype}. */
    public static Tensor write(float[] data, Shape shape, DType dtype) {
        if (shape.numel() != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + shape);
        }
        Tensor t = Tensor.empty(dtype, shape.toArray());
        MemorySegment seg = t.storage().segment();
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, 0, seg, F32, 0, data.length);
            case BF16 -> {
                for (int i = 0; i < data.length; i++) {
                    seg.set(I16, 2L * i, MiniFloats.floatToBf16(data[i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < data.length; i++) {
                    seg.set(I16, 2L * i, Float.floatToFloat16(data[i]));
                }
            }
            default -> {
                for (int i = 0; i < data.length; i++) {
                    dtype.write(seg, (long) i * dtype.byteSize(), data[i]);
                }
            }
        }
        return t;
    }

    /** Flat index of the first NaN or infinity, or −1; reads contiguous floating-point CPU tensors in place. */
    public static long firstNonFinite(Tensor t) {
        if (!t.isContiguous() || !t.device().isCpu() || !t.dtype().isFloatingPoint()) {
            return firstNonFinite(read(t));
        }
        long bytes = t.dtype().byteSize();
        return NonFinite.firstIndex(t.storage().segment().asSlice(t.offset() * bytes, t.numel() * bytes), t.dtype());
    }

    /**
     * Throws naming {@code source}, {@code key}, the value and where it is when {@code t} holds a NaN or an infinity (a
     * corrupt or hostile file must not reach a model silently).
     */
    public static void requireFinite(String source, String key, Tensor t) {
        long i = firstNonFinite(t);
        if (i >= 0) {
            float v = read(t.reshape(t.numel()).narrow(0, i, 1))[0];
            throw new LoraidException(source + ": " + key + " contains " + v + " at flat index " + i + " (shape " + t.shape() + ")");
        }
    }

    /** Index of the first NaN or infinity, or −1. */
    public static int firstNonFinite(float[] data) {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                return i;
            }
        }
        return -1;
    }
}
