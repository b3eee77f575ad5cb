package dev.loraid.cli;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WanForwardCommandTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    private static Path golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    private int run(String... args) {
        try (PrintStream o = new PrintStream(stdout, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
            return Main.run(args, o, e);
        }
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    @Test
    void forwardOnTheGoldenFilesWritesTheReferenceOutput() throws IOException {
        Path out = dir.resolve("out.safetensors");
        int rc = run("wan-forward", "--device", "cpu", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--inputs", golden("wan_tiny_forward.safetensors").toString(), "--out", out.toString());
        assertEquals(0, rc, err());
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains("Wan 2.1 t2v: dim 64"), stdout.toString());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = SafetensorsFile.open(
                golden("wan_tiny_forward.safetensors"))) {
            double[] a = got.tensor("out").toDoubleArray();
            double[] b = ref.tensor("output").toDoubleArray();
            assertEquals(b.length, a.length);
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-4 + 1e-4 * Math.abs(b[i]), "out[" + i + "]");
            }
        }
    }

    @Test
    void intermediatesAreWrittenUnderTheGoldenNames() throws IOException {
        Path out = dir.resolve("taps.safetensors");
        assertEquals(0, run("wan-forward", "--intermediates", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--inputs", golden("wan_tiny_forward.safetensors").toString(), "--out", out.toString()), err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = SafetensorsFile.open(
                golden("wan_tiny_forward.safetensors"))) {
            for (String name : new String[] {"tokens", "e0", "context_emb", "block0.ffn_out", "block3.out", "head_out"}) {
                double[] a = got.tensor(name).toDoubleArray();
                double[] b = ref.tensor(name).toDoubleArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(b[i], a[i], 1e-4 + 1e-4 * Math.abs(b[i]), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void usageErrorsExitWith2() {
        assertEquals(2, run("wan-forward", "--dit", "m.safetensors"));
        assertTrue(err().contains("missing --inputs"), err());
        assertEquals(2, run("wan-forward", "--bogus"));
        assertEquals(2, run("wan-forward", "--dit", "a", "--inputs", "b", "--out", "c", "--variant", "t2v-2B"));
    }

    @Test
    void aLoraGivenAsTheModelIsNamedAndExitsWith1() {
        assertEquals(1, run("wan-forward", "--dit", golden("lora_tiny.safetensors").toString(),
                "--inputs", golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("LoRA file, not a model"), err());
    }

    @Test
    void aTruncatedModelFileIsNamedAndExitsWith1() throws IOException {
        Path cut = dir.resolve("cut.safetensors");
        byte[] all = Files.readAllBytes(golden("wan_tiny_weights.safetensors"));
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        assertEquals(1, run("wan-forward", "--dit", cut.toString(), "--inputs",
                golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("cut.safetensors"), err());
    }

    @Test
    void aModelMissingABlockIsNamedAndExitsWith1() throws IOException {
        Path partial = dir.resolve("partial.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("wan_tiny_weights.safetensors"))) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            for (String n : f.names()) {
                if (!n.startsWith("blocks.2.")) {
                    m.put(n, f.tensor(n));
                }
            }
            SafetensorsWriter.write(partial, m, f.metadata());
        }
        assertEquals(1, run("wan-forward", "--dit", partial.toString(), "--inputs",
                golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("blocks [2] are missing"), err());
    }

    @Test
    void anInputThatDoesNotFitThePatchSizeIsNamedAndExitsWith1() throws IOException {
        Path in = dir.resolve("in.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("wan_tiny_forward.safetensors"))) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("x", f.tensor("x").narrow(2, 0, 3).copy());
            m.put("t", f.tensor("t"));
            m.put("context", f.tensor("context"));
            SafetensorsWriter.write(in, m, Map.of());
        }
        assertEquals(1, run("wan-forward", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--inputs", in.toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("in.safetensors: x has shape [4, 2, 3, 6]: latent height 3 is not a multiple of the patch size 2"),
                err());
        assertTrue(Files.notExists(dir.resolve("o")), "nothing written on failure");
    }

    @Test
    void aFileThatIsNotSafetensorsIsNamedAndExitsWith1() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.safetensors"), "these are notes, not tensors\n");
        assertEquals(1, run("wan-forward", "--dit", text.toString(), "--inputs",
                golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("notes.safetensors") && err().contains("not a safetensors file"), err());
    }

    @Test
    void anUnknownDtypeIsNamedAndExitsWith1() throws IOException {
        String header = "{\"patch_embedding.weight\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}";
        while ((8 + header.length()) % 8 != 0) {
            header += " ";
        }
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + 1).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put((byte) 0);
        Path odd = Files.write(dir.resolve("odd.safetensors"), b.array());
        assertEquals(1, run("wan-forward", "--dit", odd.toString(), "--inputs",
                golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("odd.safetensors") && err().contains("F4"), err());
    }

    @Test
    void inputsWithoutXAreNamed() {
        assertEquals(1, run("wan-forward", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--inputs", golden("lora_tiny.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("lora_tiny.safetensors: no tensor 'x'"), err());
    }

    @Test
    void deviceNamesAreCheckedBeforeAnythingIsLoaded() {
        String model = golden("wan_tiny_weights.safetensors").toString();
        String inputs = golden("wan_tiny_forward.safetensors").toString();
        String out = dir.resolve("o").toString();
        assertEquals(2, run("wan-forward", "--device", "gpu", "--dit", model, "--inputs", inputs, "--out", out));
        assertTrue(err().contains("--device: unknown device 'gpu' (expected cpu, cuda or cuda:N)"), err());
        assertEquals(2, run("demo", "--device", "cuda:x"));
        assertEquals(2, run("demo", "extra"));
        assertTrue(err().contains("unexpected argument 'extra'"), err());
    }

    @Test
    void anUnusableGpuExitsWith1SayingWhy() {
        String problem = Backends.problem(Device.cuda(0));
        assumeTrue(problem != null, "cuda:0 is usable here");
        assertEquals(1, run("wan-forward", "--device", "cuda", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--inputs", golden("wan_tiny_forward.safetensors").toString(), "--out", dir.resolve("o").toString()));
        assertTrue(err().contains("--device cuda:0 cannot be used: " + problem), err());
        assertTrue(Files.notExists(dir.resolve("o")), "nothing written");
    }

    @Test
    void demoRunsAndPasses() {
        assertEquals(0, run("demo", "--check"), err());
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains("demo: OK"), stdout.toString());
    }
}
