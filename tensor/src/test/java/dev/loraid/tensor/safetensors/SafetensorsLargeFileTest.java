package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Offsets beyond 2^32: a sparse 5 GiB file whose second tensor starts past 4 GiB (no int overflow anywhere). */
class SafetensorsLargeFileTest {
    @Test
    void tensorsPastFourGibibytesAreAddressedExactly(@TempDir Path tmp) throws IOException {
        long big = 1L << 32; // first tensor: 4 GiB of U8, never touched
        String json = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
            + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + big + "," + (big + 16) + "]}}";
        byte[] h = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        Path p = tmp.resolve("sparse.safetensors");
        long dataStart = 8 + h.length;
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.seek(dataStart + big);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(1e-3f);
            f.write(tail.array());
            f.seek(dataStart + big - 1);
            f.write(7);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Tensor tail = f.tensor("tail");
            assertEquals(1.5f, tail.getFloat(0, 0));
            assertEquals(1e-3f, tail.getFloat(1, 1));
            Tensor head = f.tensor("big");
            assertEquals(7, head.getLong(big - 1));
            assertEquals(0, head.getLong(12345));
            assertEquals(big, f.info("tail").begin());
        }
    }
}
