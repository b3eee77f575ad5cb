package dev.loraid.cli;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loraid vae-forward} on the tiny VAE golden files (testdata/golden/README.md "VAE (Wan 2.1 structure, tiny)"). */
class VaeForwardCommandTest {
    @TempDir
    Path dir;

    private static Path testdata(String folder, String name) {
        return Path.of(System.getProperty("loraid.testdata"), folder, name);
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what + " shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], 1e-4 + 1e-4 * Math.abs(e[i]), what + "[" + i + "]");
        }
    }

    @Test
    void encodesAndDecodesTheGoldenInputs() throws IOException {
        Path out = dir.resolve("vae.safetensors");
        Path golden = testdata("golden", "vae_tiny_forward.safetensors");
        CliRun r = CliRun.run("vae-forward", "--device", "cpu", "--vae", testdata("pth", "vae_tiny_f32.pth").toString(),
                "--inputs", golden.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("dim 8, z_dim 4, dim_mult [1, 2, 2, 2]"), r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = SafetensorsFile.open(golden)) {
            assertEquals(List.of("decoded", "decoded_raw", "latent", "log_var", "mu_raw"),
                    got.names().stream().sorted().toList());
            for (String name : got.names()) {
                assertClose(ref.tensor(name), got.tensor(name), name);
            }
        }
    }

    /**
     * A Wan 2.2-layout file (random weights, z_dim 48) is recognised by its keys: 16× spatial, 4× temporal stride, and
     * the built-in 48-channel statistics normalise the latent.
     */
    @Test
    void aWan22FileIsReadByItsLayout() throws IOException {
        var config = new dev.loraid.wan.vae.VaeConfig(dev.loraid.wan.vae.VaeConfig.Layout.WAN22, 4, 6, 48,
                List.of(1, 2, 4, 4), 1, List.of(false, true, true));
        Path vae = dir.resolve("wan22.safetensors");
        SafetensorsWriter.write(vae, dev.loraid.wan.vae.VaeRandomWeights.of(config, 3), Map.of());
        Path in = dir.resolve("in22.safetensors");
        Tensor video = Tensor.full(dev.loraid.tensor.DType.F32, 0.25, 3, 5, 16, 32);
        Tensor z = Tensor.full(dev.loraid.tensor.DType.F32, 0.5, 48, 2, 1, 2);
        SafetensorsWriter.write(in, Map.of("input_video", video, "dec_input_latent", z), Map.of());
        Path out = dir.resolve("out22.safetensors");
        CliRun r = CliRun.run("vae-forward", "--vae", vae.toString(), "--inputs", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("WAN22"), r.out());
        var stats = dev.loraid.wan.vae.LatentStats.WAN22;
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            assertArrayEquals(new long[] {48, 2, 1, 2}, got.tensor("latent").shape().toArray());
            assertArrayEquals(new long[] {3, 5, 16, 32}, got.tensor("decoded").shape().toArray());
            Tensor mu = got.tensor("mu_raw");
            Tensor latent = got.tensor("latent");
            for (int c : new int[] {0, 19, 47}) {
                assertEquals((mu.getDouble(c, 1, 0, 1) - stats.mean()[c]) / stats.std()[c], latent.getDouble(c, 1, 0, 1), 1e-5);
            }
        }
    }

    @Test
    void builtInStatsNeedSixteenChannelsAndInputsAreNamed() throws IOException {
        Path in = dir.resolve("in.safetensors");
        SafetensorsWriter.write(in, Map.of("dec_input_latent", Tensor.zeros(dev.loraid.tensor.DType.F32, 4, 1, 2, 2)), Map.of());
        String vae = testdata("golden", "vae_tiny_weights.safetensors").toString();
        CliRun r = CliRun.run("vae-forward", "--vae", vae, "--inputs", in.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("4 channels") || r.err().contains("z_dim is 4"), r.err());

        Path empty = dir.resolve("empty.safetensors");
        SafetensorsWriter.write(empty, Map.of("x", Tensor.zeros(dev.loraid.tensor.DType.F32, 1)), Map.of());
        r = CliRun.run("vae-forward", "--vae", vae, "--inputs", empty.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("neither 'input_video'"), r.err());

        r = CliRun.run("vae-forward", "--vae", testdata("golden", "wan_tiny_weights.safetensors").toString(),
                "--inputs", empty.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not a Wan VAE") && r.err().contains("Wan DiT"), r.err());
    }
}
