package dev.loraid.core.train;

import dev.loraid.core.LoraidException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file of scalars, as PyTorch's {@code SummaryWriter.add_scalar} writes it (what upstream's trackers
 * use, training.md §5.5): TFRecord framing (little-endian length, masked CRC-32C of the length, the record, masked
 * CRC-32C of the record) around {@code Event} protocol buffers, the first carrying {@code file_version
 * "brain.Event:2"}, each later one a {@code Summary} of one {@code simple_value}. The few fields are encoded here by hand:
 * TensorFlow's Java packages bring its native runtime, and protobuf-java without generated classes would need the
 * message descriptors built by hand, which is more code than these fields. Each scalar is flushed as written, so a
 * killed run leaves at most one torn record, which TensorBoard skips.
 */
public final class TensorBoardEvents implements AutoCloseable {
    /** PyTorch's {@code _global_uid}: the writers of one process never share a file name. */
    private static final java.util.concurrent.atomic.AtomicInteger UID = new java.util.concurrent.atomic.AtomicInteger();
    private final Path file;
    private final OutputStream out;

    private TensorBoardEvents(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /**
     * A new event file in {@code dir} (created if needed), named as PyTorch names it:
     * {@code events.out.tfevents.<seconds>.<host>.<pid>.<n>}, n counting this process's writers; an existing file is never
     * overwritten.
     */
    public static TensorBoardEvents create(Path dir) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        long seconds = System.currentTimeMillis() / 1000;
        Path file = dir.resolve(String.format("events.out.tfevents.%010d.%s.%d.%d", seconds, host, ProcessHandle.current().pid(),
                UID.getAndIncrement()));
        try {
            Files.createDirectories(dir);
            TensorBoardEvents events = new TensorBoardEvents(file, Files.newOutputStream(file,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE));
            events.record(event(wallTime(), 0, 3, "brain.Event:2".getBytes(StandardCharsets.UTF_8)));
            return events;
        } catch (IOException e) {
            throw new LoraidException("cannot create the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** One scalar {@code tag} = {@code value} (stored as float32, as add_scalar does) at {@code step}. */
    public void scalar(String tag, double value, long step) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        bytesField(v, 1, tag.getBytes(StandardCharsets.UTF_8)); // Summary.Value.tag
        tag(v, 2, 5); // Summary.Value.simple_value, fixed32
        v.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat((float) value).array());
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        bytesField(summary, 1, v.toByteArray()); // Summary.value
        try {
            record(event(wallTime(), step, 5, summary.toByteArray())); // Event.summary
        } catch (IOException e) {
            throw new LoraidException("cannot write the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new LoraidException("cannot close the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    private static double wallTime() {
        return System.currentTimeMillis() / 1000.0;
    }

    /** An Event: wall_time (1, double), step (2, int64), then field {@code what} holding {@code payload}. */
    static byte[] event(double wallTime, long step, int what, byte[] payload) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        tag(e, 1, 1);
        e.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(wallTime).array());
        if (step != 0) { // proto3 leaves a default value out
            tag(e, 2, 0);
            varint(e, step);
        }
        bytesField(e, what, payload);
        return e.toByteArray();
    }

    /** A TFRecord: length, its masked CRC, the data, its masked CRC. */
    private void record(byte[] data) throws IOException {
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
        ByteBuffer r = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        r.put(length).putInt(maskedCrc(length)).put(data).putInt(maskedCrc(data));
        out.write(r.array());
        out.flush();
    }

    /** TFRecord's masked CRC-32C: rotated right by 15 bits, plus 0xa282ead8. */
    static int maskedCrc(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    private static void tag(ByteArrayOutputStream out, int field, int wireType) {
        varint(out, (long) field << 3 | wireType);
    }

    private static void bytesField(ByteArrayOutputStream out, int field, byte[] bytes) {
        tag(out, field, 2);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
