package dev.loraid.cli;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loraid t5-forward} on the tiny UMT5 golden files (testdata/golden/README.md "UMT5 encoder (tiny)"). */
class T5ForwardCommandTest {
    @TempDir
    Path dir;

    private static Path testdata(String folder, String name) {
        return Path.of(System.getProperty("loraid.testdata"), folder, name);
    }

    private static void assertClose(Tensor expected, Tensor actual, double atol, double rtol, String what) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what + " shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], atol + rtol * Math.abs(e[i]), what + "[" + i + "]");
        }
    }

    @Test
    void writesTheTrimmedHiddenStatesOfTheGoldenFile() throws IOException {
        Path out = dir.resolve("te.safetensors");
        CliRun r = CliRun.run("t5-forward", "--device", "cpu", "--t5", testdata("golden", "umt5_tiny_weights.safetensors").toString(),
                "--inputs", testdata("golden", "umt5_tiny_forward.safetensors").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("UMT5 encoder: vocab 64, dim 32") && r.out().contains("seq_len 29"), r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(testdata("golden", "umt5_tiny_forward.safetensors"))) {
            assertEquals(java.util.List.of("hidden_states"), got.names());
            assertClose(ref.tensor("hidden_states_trimmed"), got.tensor("hidden_states"), 1e-4, 1e-4, "hidden_states");
            assertEquals("29", got.metadata().get("seq_len"));
        }
    }

    @Test
    void bf16PthWithAllRowsAndIntermediates() throws IOException {
        Path out = dir.resolve("all.safetensors");
        CliRun r = CliRun.run("t5-forward", "--all-rows", "--intermediates", "--t5", testdata("pth", "umt5_tiny_bf16.pth").toString(),
                "--inputs", testdata("golden", "umt5_tiny_forward.safetensors").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(testdata("golden", "umt5_tiny_forward.safetensors"))) {
            assertArrayEquals(new long[] {40, 32}, got.tensor("hidden_states").shape().toArray());
            Tensor buckets = got.tensor("relative_bucket");
            for (int i = 0; i < 40 * 40; i++) {
                assertEquals(ref.tensor("relative_bucket").getLong(i / 40, i % 40), buckets.getLong(i / 40, i % 40));
            }
            // bf16 weights: within the bound Umt5EncoderGoldenTest justifies (3% of the largest value)
            assertClose(ref.tensor("block1_out"), got.tensor("block1_out"), 0.15, 0, "block1_out");
            assertTrue(got.contains("pos_bias_layer1"), got.names().toString());
        }
    }

    @Test
    void missingInputTensorsAndTheWrongModelAreNamed() throws IOException {
        Path in = dir.resolve("in.safetensors");
        SafetensorsWriter.write(in, Map.of("input_ids", Tensor.ofLongs(new long[] {3, 1}, 2)), Map.of());
        CliRun r = CliRun.run("t5-forward", "--t5", testdata("golden", "umt5_tiny_weights.safetensors").toString(),
                "--inputs", in.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no tensor 'attention_mask'"), r.err());

        r = CliRun.run("t5-forward", "--t5", testdata("golden", "wan_tiny_weights.safetensors").toString(),
                "--inputs", in.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("wan_tiny_weights.safetensors is a Wan DiT checkpoint, not a UMT5 text encoder"), r.err());

        r = CliRun.run("t5-forward", "--inputs", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing --t5"), r.err());
        assertTrue(Arrays.asList(CliRun.run("--help").out().split("\n")).stream().anyMatch(l -> l.contains("t5-forward")));
    }
}
