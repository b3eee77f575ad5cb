package dev.loraid.tensor.pth;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forms the fixtures do not cover, in files assembled here: ZIP64 directories (what torch writes past 4 GiB, as for
 * the 11 GB UMT5-XXL checkpoint), the {@code archive/} prefix and {@code byteorder} record of buffers and newer
 * torch, {@code _rebuild_parameter}, and refusals of what torch never writes.
 */
class PthSyntheticTest {
    /** {'w': Parameter(tensor([1.5, -2.0]))} as torch pickles it (protocol 2), storage key '0'. */
    private static final byte[] PARAMETER_PICKLE = pickle(
        "\u0080\u0002}(", str("w"), "ctorch._utils\n_rebuild_parameter\nctorch._utils\n_rebuild_tensor_v2\n((",
        str("storage"), "ctorch\nFloatStorage\n", str("0"), str("cpu"), "K\u0002tQK\u0000K\u0002\u0085K\u0001\u0085\u0089}tR\u0088}\u0087Ru.");
    private static final byte[] TWO_FLOATS = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();

    @Test
    void zip64DirectoryArchivePrefixAndParameterLoad(@TempDir Path tmp) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("archive/data.pkl", PARAMETER_PICKLE);
        records.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        records.put("archive/data/0", TWO_FLOATS);
        records.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Path f = tmp.resolve("param.pth");
        Files.write(f, zip(records, true, 0));
        try (PthFile p = PthFile.open(f)) {
            assertEquals(List.of("w"), p.names());
            Tensor w = p.tensor("w");
            assertEquals(DType.F32, w.dtype());
            assertEquals(Shape.of(2), w.shape());
            assertArrayEquals(new float[] {1.5f, -2f}, w.toFloatArray());
        }
    }

    @Test
    void compressedRecordsAndBigEndianFilesAreRefused(@TempDir Path tmp) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("archive/data.pkl", PARAMETER_PICKLE);
        records.put("archive/data/0", TWO_FLOATS);
        Path f = tmp.resolve("deflated.pth");
        Files.write(f, zip(records, false, 8));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(f)).getMessage()
            .contains("zip record 'archive/data.pkl' is compressed (method 8)"));
        records.put("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        Path g = tmp.resolve("big.pth");
        Files.write(g, zip(records, false, 0));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(g)).getMessage()
            .contains("byteorder record says 'big'"));
    }

    @Test
    void recordsInTwoFoldersAndAMissingStorageAreRefused(@TempDir Path tmp) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        records.put("a/data.pkl", PARAMETER_PICKLE);
        records.put("b/data/0", TWO_FLOATS);
        Path f = tmp.resolve("two.pth");
        Files.write(f, zip(records, false, 0));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(f)).getMessage()
            .contains("two top-level folders, 'a/' and 'b/'"));
        records.remove("b/data/0");
        Files.write(f, zip(records, false, 0));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(f)).getMessage()
            .contains("storage '0' has no record a/data/0"));
    }

    @Test
    void nonTensorValuesAndBuildOnATensorAreRefused(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("x.pth");
        Files.write(f, zip(Map.of("x/data.pkl", pickle("\u0080\u0002}", str("epoch"), "K\u0005s.")), false, 0));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(f)).getMessage()
            .contains("'epoch' is a int, not a tensor"));
        Files.write(f, zip(Map.of("x/data.pkl", pickle("\u0080\u0002]}b.")), false, 0));
        assertTrue(assertThrows(PthFormatException.class, () -> PthFile.open(f)).getMessage()
            .contains("BUILD of a list"));
    }

    // ---- assembling pickles and zips ----

    /** Pickle bytes: each part is Latin-1 opcodes or a pre-encoded string. */
    private static byte[] pickle(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            out.writeBytes(p instanceof byte[] b ? b : ((String) p).getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toByteArray();
    }

    /** BINUNICODE. */
    private static byte[] str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + u.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'X').putInt(u.length).put(u).array();
    }

    /**
     * A zip of stored records (method is written as given, the bytes are never compressed); with {@code zip64},
     * local header offsets and the end record go through ZIP64 fields as they do in files over 4 GiB.
     */
    private static byte[] zip(Map<String, byte[]> records, boolean zip64, int method) {
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer cd = ByteBuffer.allocate(1 << 15).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, byte[]> e : records.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] data = e.getValue();
            CRC32 crc = new CRC32();
            crc.update(data);
            int local = b.position();
            b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) method).putInt(0)
                .putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) name.length).putShort((short) 0).put(name).put(data);
            cd.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) method)
                .putInt(0).putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) name.length).putShort((short) (zip64 ? 12 : 0)).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt(0).putInt(zip64 ? -1 : local).put(name);
            if (zip64) {
                cd.putShort((short) 1).putShort((short) 8).putLong(local);
            }
        }
        int cdOffset = b.position();
        b.put(cd.flip());
        int cdSize = b.position() - cdOffset;
        if (zip64) {
            int z = b.position();
            b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(records.size()).putLong(records.size()).putLong(cdSize).putLong(cdOffset);
            b.putInt(0x07064b50).putInt(0).putLong(z).putInt(1);
            b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        } else {
            b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) records.size())
                .putShort((short) records.size()).putInt(cdSize).putInt(cdOffset).putShort((short) 0);
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }
}
