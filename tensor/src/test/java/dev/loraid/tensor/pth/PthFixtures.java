package dev.loraid.tensor.pth;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Where the fixtures are (testdata/pth, testdata/golden) and bit-level comparison of tensors. */
final class PthFixtures {
    static final Path PTH = Path.of(System.getProperty("loraid.testdata"), "pth");
    static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    private PthFixtures() {
    }

    static Path pth(String name) {
        return PTH.resolve(name);
    }

    /** Every element's raw bits in row-major order, honouring offset and strides. */
    static long[] bits(Tensor t) {
        MemorySegment seg = t.storage().segment();
        long[] out = new long[Math.toIntExact(t.numel())];
        long[] idx = new long[t.rank()];
        for (int i = 0; i < out.length; i++) {
            long at = t.byteOffsetOf(idx);
            out[i] = switch (t.dtype().byteSize()) {
                case 1 -> seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
                case 2 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at) & 0xFFFF;
                case 4 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at) & 0xFFFFFFFFL;
                default -> seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
            };
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < t.size(d)) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    /** float32 bits rounded to bfloat16 bits, nearest with ties to even (NaN stays a quiet NaN). */
    static long bf16(long f32) {
        int b = (int) f32;
        if (Float.isNaN(Float.intBitsToFloat(b))) {
            return ((b >>> 16) | 0x40) & 0xFFFF;
        }
        return ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    /**
     * Every tensor of {@code actual} equals {@code expected}'s tensor of the same name, bit for bit, with
     * {@code expected} first rounded to bfloat16 when {@code toBf16}; both hold the same names.
     */
    static void assertSameTensors(TensorSource expected, TensorSource actual, boolean toBf16) {
        assertEquals(expected.names().stream().sorted().toList(), actual.names().stream().sorted().toList(),
            actual.describe() + ": tensor names");
        for (String name : expected.names()) {
            Tensor e = expected.tensor(name);
            Tensor a = actual.tensor(name);
            DType want = toBf16 && e.dtype() == DType.F32 ? DType.BF16 : e.dtype();
            assertEquals(want, a.dtype(), name + ": dtype");
            assertEquals(e.shape(), a.shape(), name + ": shape");
            long[] eb = bits(e);
            long[] ab = bits(a);
            if (want != e.dtype()) {
                eb = Arrays.stream(eb).map(PthFixtures::bf16).toArray();
            }
            for (int i = 0; i < eb.length; i++) {
                if (eb[i] != ab[i]) {
                    fail(actual.describe() + ": " + name + " element " + i + ": bits 0x" + Long.toHexString(ab[i])
                        + ", expected 0x" + Long.toHexString(eb[i]));
                }
            }
        }
    }
}
