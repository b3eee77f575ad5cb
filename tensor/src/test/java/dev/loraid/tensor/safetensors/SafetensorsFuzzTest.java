package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Throws thousands of mutated files at the reader (seeded, so a failure reproduces): byte flips, truncations,
 * bogus length fields, spliced JSON tokens. Each must either be rejected with a SafetensorsFormatException or
 * be accepted with spans that really tile the data section; nothing else may escape, and the whole run is
 * bounded in time. Memory is bounded by construction (nothing is allocated beyond the file's own size).
 */
class SafetensorsFuzzTest {
    private static final int CASES = 6000;
    private static final String[] TOKENS = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "0", "-1",
        "1e999", "18446744073709551616", "9223372036854775807", "1.5", "null", "true", "\"F32\"", "\"BF16\"",
        "\"F8_E4M3\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "[0,0]", "[]", "{}",
        "[[[[[[[[[[", " ", "\u0000", "é", "\uD83D\uDE00"};

    private static byte[] seed() {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
            + "\"c\":{\"dtype\":\"F8_E4M3\",\"shape\":[],\"data_offsets\":[32,33]},"
            + "\"d\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[33,33]}}";
        return SafetensorsBytes.file(header, 33);
    }

    static byte[] mutate(byte[] base, Random r) {
        byte[] f = base.clone();
        int rounds = 1 + r.nextInt(3);
        for (int k = 0; k < rounds; k++) {
            if (f.length < 8) {
                return f;
            }
            long headerLen = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            int hEnd = (int) Math.max(8, Math.min(8 + Math.max(headerLen, 0), f.length)); // header end, within the array
            switch (r.nextInt(6)) {
                case 0 -> { // flip bytes anywhere in the header
                    for (int i = 0, n = 1 + r.nextInt(4); i < n && hEnd > 8; i++) {
                        f[8 + r.nextInt(hEnd - 8)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 1 -> f = Arrays.copyOf(f, r.nextInt(f.length + 1)); // truncate
                case 2 -> { // bogus length field
                    long[] choices = {r.nextLong(), r.nextInt(f.length + 16), headerLen + r.nextInt(17) - 8, -1L, 100_000_001L};
                    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, choices[r.nextInt(choices.length)]);
                }
                case 3 -> f = splice(f, hEnd, TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8), r);
                case 4 -> { // a digit inside the header becomes another digit: offsets and shapes go wrong
                    for (int tries = 0; tries < 20 && hEnd > 8; tries++) {
                        int i = 8 + r.nextInt(hEnd - 8);
                        if (f[i] >= '0' && f[i] <= '9') {
                            f[i] = (byte) ('0' + r.nextInt(10));
                            break;
                        }
                    }
                }
                default -> { // random garbage appended or a random byte overwritten in the data section
                    int extra = r.nextInt(4);
                    f = Arrays.copyOf(f, f.length + extra);
                    if (f.length > hEnd) {
                        f[hEnd + r.nextInt(f.length - hEnd)] = (byte) r.nextInt(256);
                    }
                }
            }
        }
        return f;
    }

    /** Inserts {@code token} into the header at a random place, fixing up the length field to stay consistent. */
    private static byte[] splice(byte[] f, int hEnd, byte[] token, Random r) {
        if (hEnd <= 8) {
            return f;
        }
        int at = 8 + r.nextInt(hEnd - 8);
        int cut = r.nextInt(3);
        cut = Math.min(cut, hEnd - at);
        byte[] out = new byte[f.length + token.length - cut];
        System.arraycopy(f, 0, out, 0, at);
        System.arraycopy(token, 0, out, at, token.length);
        System.arraycopy(f, at + cut, out, at + token.length, f.length - at - cut);
        long len = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len + token.length - cut);
        return out;
    }

    @Test
    void mutatedHeadersAreRejectedCleanlyOrTileTheData() {
        byte[] base = seed();
        Random r = new Random(20261126);
        int[] outcome = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < CASES; i++) {
                byte[] f = mutate(base, r);
                try {
                    SafetensorsHeader h = SafetensorsBytes.read(f);
                    checkTiles(h, f.length);
                    outcome[0]++;
                } catch (SafetensorsFormatException e) {
                    assertTrue(e.getMessage().startsWith(SafetensorsBytes.SOURCE + ": "), e.getMessage());
                    outcome[1]++;
                } catch (Throwable t) {
                    fail("case " + i + ": " + t + " escaped for input " + Arrays.toString(f), t);
                }
            }
        });
        // the mutations must exercise both paths, or the test proves nothing
        assertTrue(outcome[0] > 100 && outcome[1] > 1000, "accepted " + outcome[0] + ", rejected " + outcome[1]);
    }

    @Test
    void mutatedFilesOnDiskOpenOrFailCleanly(@TempDir Path tmp) throws IOException {
        byte[] base = seed();
        Random r = new Random(7);
        Path p = tmp.resolve("fuzz.safetensors");
        for (int i = 0; i < 300; i++) {
            byte[] f = mutate(base, r);
            Files.write(p, f);
            try (SafetensorsFile sf = SafetensorsFile.open(p)) {
                for (String n : sf.names()) {
                    Tensor t = sf.tensor(n);
                    assertEquals(t.numel(), t.toDoubleArray().length); // touches every mapped byte
                }
            } catch (SafetensorsFormatException e) {
                assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            }
        }
    }

    private static void checkTiles(SafetensorsHeader h, long fileSize) {
        long at = 0;
        List<TensorInfo> ts = h.tensors();
        for (TensorInfo t : ts) {
            assertEquals(at, t.begin(), t.name());
            assertEquals(t.shape().numel() * t.dtype().byteSize(), t.byteSize(), t.name());
            at = t.end();
        }
        assertEquals(h.dataSize(), at);
        assertEquals(fileSize, h.dataStart() + h.dataSize());
    }
}
