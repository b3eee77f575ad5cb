package dev.loraid.tensor.pth;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

import static dev.loraid.tensor.pth.PthFixtures.bits;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for torch.save files read by {@link PthFile} (zip directory, restricted unpickler, storages). Before
 * the bytes are written, the harness recomputes the CRC-32 of each {@code .pkl} record in the central directory, so
 * mutated pickles reach the unpickler instead of stopping at the checksum. Each input is refused with a
 * {@link PthFormatException} naming the file, or loads and every element of every tensor reads.
 * Seeds and regression inputs: {@code PthFuzzTestInputs/open/} (small fixtures and hostile files of testdata/pth).
 */
class PthFuzzTest {
    private static final Path FILE = tempFile();

    @FuzzTest
    @Timeout(5)
    void open(byte[] input) throws IOException {
        Files.write(FILE, fixPickleCrcs(input));
        try (PthFile f = PthFile.open(FILE)) {
            for (String name : f.names()) {
                bits(f.tensor(name));
            }
        } catch (PthFormatException e) {
            assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
        }
    }

    /** A copy of {@code zip} whose central-directory CRC of every {@code .pkl} record matches its bytes. */
    static byte[] fixPickleCrcs(byte[] zip) {
        byte[] b = zip.clone();
        MemorySegment seg = MemorySegment.ofArray(b);
        if (b.length < 22 || !ZipDirectory.isZip(seg)) {
            return b;
        }
        java.util.Map<String, ZipDirectory.Record> records;
        try {
            records = ZipDirectory.read(seg, "fuzz input");
        } catch (PthFormatException e) {
            return b; // the reader refuses it before any CRC matters
        }
        for (ZipDirectory.Record r : records.values()) {
            if (!r.name().endsWith(".pkl") || r.offset() < 0 || r.offset() + r.size() > b.length) {
                continue;
            }
            CRC32 crc = new CRC32();
            crc.update(b, (int) r.offset(), (int) r.size());
            byte[] n = r.name().getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i + 46 + n.length <= b.length; i++) {
                if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 1 && b[i + 3] == 2
                    && Arrays.equals(b, i + 46, i + 46 + n.length, n, 0, n.length)) {
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(i + 16, (int) crc.getValue());
                }
            }
        }
        return b;
    }

    private static Path tempFile() {
        try {
            Path dir = Files.createTempDirectory("pth-fuzz");
            dir.toFile().deleteOnExit();
            Path f = dir.resolve("fuzz.pth");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
