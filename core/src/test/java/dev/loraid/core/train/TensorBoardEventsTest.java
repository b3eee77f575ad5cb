package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TensorBoardEvents} against the formats written out here by hand: TFRecord framing checked with a bitwise
 * CRC-32C (itself checked on the standard "123456789" value) and TFRecord's mask, the first event's file_version, and
 * a scalar event's bytes assembled field by field from event.proto and summary.proto.
 */
class TensorBoardEventsTest {
    /** CRC-32C, bit by bit (reflected Castagnoli polynomial 0x82F63B78). */
    private static int crc32c(byte[] data) {
        int crc = ~0;
        for (byte b : data) {
            crc ^= b & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
            }
        }
        return ~crc;
    }

    private static int masked(byte[] data) {
        int c = crc32c(data);
        return Integer.rotateRight(c, 15) + 0xa282ead8;
    }

    /** The records of a TFRecord file, each frame's two CRCs checked. */
    private static List<byte[]> records(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] length = new byte[8];
            b.get(length);
            assertEquals(masked(length), b.getInt(), "length CRC");
            byte[] data = new byte[Math.toIntExact(ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong())];
            b.get(data);
            assertEquals(masked(data), b.getInt(), "data CRC");
            out.add(data);
        }
        return out;
    }

    /** Two writers of one process in one folder within a second: two files, neither overwritten. */
    @Test
    void writersNeverShareAFile(@TempDir Path dir) throws Exception {
        try (TensorBoardEvents a = TensorBoardEvents.create(dir); TensorBoardEvents b = TensorBoardEvents.create(dir)) {
            a.scalar("x", 1, 1);
            b.scalar("x", 2, 1);
            assertTrue(!a.file().equals(b.file()), a.file() + " " + b.file());
            assertEquals(2, records(a.file()).size());
            assertEquals(2, records(b.file()).size());
        }
    }

    @Test
    void theBitwiseCrcIsCrc32c() {
        assertEquals(0xE3069283, crc32c("123456789".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void scalarsAreFramedSummaryEvents(@TempDir Path dir) throws Exception {
        Path file;
        try (TensorBoardEvents events = TensorBoardEvents.create(dir.resolve("run/network_train"))) {
            events.scalar("loss/current", 0.25, 300);
            file = events.file();
        }
        assertTrue(file.getFileName().toString().matches("events\\.out\\.tfevents\\.\\d{10}\\..+\\.\\d+\\.\\d+"), file.toString());
        List<byte[]> records = records(file);
        assertEquals(2, records.size());

        byte[] first = records.get(0);
        assertEquals(0x09, first[0], "wall_time, field 1, 64-bit");
        double wall = ByteBuffer.wrap(first, 1, 8).order(ByteOrder.LITTLE_ENDIAN).getDouble();
        assertTrue(Math.abs(wall - System.currentTimeMillis() / 1000.0) < 60, "wall time " + wall);
        byte[] version = "brain.Event:2".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.write(0x1A); // file_version, field 3, length-delimited
        want.write(version.length);
        want.writeBytes(version);
        assertArrayEquals(want.toByteArray(), java.util.Arrays.copyOfRange(first, 9, first.length));

        byte[] second = records.get(1);
        assertEquals(0x09, second[0]);
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        byte[] tag = "loss/current".getBytes(StandardCharsets.UTF_8);
        value.write(0x0A); // Summary.Value.tag, field 1
        value.write(tag.length);
        value.writeBytes(tag);
        value.write(0x15); // simple_value, field 2, 32-bit
        value.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.25f).array());
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        rest.write(0x10); // step, field 2, varint: 300 = 0b10_0101100
        rest.write(0xAC);
        rest.write(0x02);
        rest.write(0x2A); // summary, field 5
        rest.write(value.size() + 2);
        rest.write(0x0A); // Summary.value, field 1
        rest.write(value.size());
        rest.writeBytes(value.toByteArray());
        assertArrayEquals(rest.toByteArray(), java.util.Arrays.copyOfRange(second, 9, second.length));
    }
}
