package dev.loraid.cli;

import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanPresets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** inspect on a full-size Wan 2.1 1.3B checkpoint: a real header over a sparse (unwritten) 2.8 GB data section. */
class WanInspectTest {
    @TempDir
    Path dir;

    @Test
    void recognisesA13bCheckpointWithItsPrefixAndEstimatesForwardMemory() throws IOException {
        Path file = dir.resolve("wan2.1_t2v_1.3B_bf16.safetensors");
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, long[]> e : WanKeys.expectedShapes(WanPresets.get("t2v-1.3B").config()).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            header.put(WanKeys.COMFY_PREFIX + e.getKey(), Map.of("dtype", "BF16", "shape", List.of(box(e.getValue())),
                    "data_offsets", List.of(offset, offset + 2 * n)));
            offset += 2 * n;
        }
        byte[] json = JsonWriter.compact(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            f.write(json);
            f.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.UTF_8));
            f.setLength(8 + padded + offset);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"inspect", file.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("Wan DiT: t2v-1.3B — Wan 2.1 t2v: dim 1536"), text);
        assertTrue(text.contains("parameters: 1,418,996,800; dtypes: BF16 825 tensors (2.6 GiB)"), text);
        assertTrue(text.contains("forward at 832x480, 81 frames: latent 21 frames, 32,760 tokens"), text);

        out.reset();
        rc = Main.run(new String[] {"inspect", "--json", "--resolution", "1280x720", "--frames", "81", file.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        Map<String, Object> report = dev.loraid.tensor.json.Json.parseObject(out.toString(StandardCharsets.UTF_8));
        @SuppressWarnings("unchecked")
        Map<String, Object> wan = (Map<String, Object>) report.get("wan");
        assertEquals(1_418_996_800L, wan.get("parameters"));
        @SuppressWarnings("unchecked")
        Map<String, Object> mem = (Map<String, Object>) wan.get("forward_memory");
        assertEquals(75_600L, mem.get("tokens"), "spec §6.2: 720p, 81 frames = 21·45·80 tokens");
    }

    private static Long[] box(long[] v) {
        Long[] out = new Long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
