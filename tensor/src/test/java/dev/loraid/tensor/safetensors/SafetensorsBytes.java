package dev.loraid.tensor.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Test helpers: build safetensors files as bytes and read their headers straight from memory. */
final class SafetensorsBytes {
    static final String SOURCE = "test.safetensors";

    private SafetensorsBytes() {
    }

    /** {@code u64 len | header | dataBytes bytes of data}, the header taken verbatim. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h, h.length, dataBytes);
    }

    static byte[] file(byte[] header, long declaredLength, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    /** Parses and validates the header of an in-memory file. */
    static SafetensorsHeader read(byte[] file) throws IOException {
        return SafetensorsHeader.read(SOURCE, file.length, (offset, length) -> {
            int from = (int) Math.min(offset, file.length);
            int to = (int) Math.min(offset + length, file.length);
            return ByteBuffer.wrap(file, from, to - from).slice();
        });
    }
}
