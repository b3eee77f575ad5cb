package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.TestDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The VAE against testdata/golden/README.md "VAE (Wan 2.1 structure, tiny)": encode, decode and the intermediates,
 * chunked (the model's definition) and whole-clip, within the README's 1e-4 + 1e-4·|b|, on the device under test
 * ({@link TestDevice}: the CPU, or cuda:0 from scripts/gpu-check.sh). Prints the max errors.
 */
class VaeGoldenTest {
    static final double ATOL = 1e-4;
    static final double RTOL = 1e-4;

    static VaeCheckpoint ck;
    static SafetensorsFile golden;

    static Path golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    static Path pth(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "pth", name);
    }

    @BeforeAll
    static void open() throws IOException {
        ck = VaeCheckpoint.open(golden("vae_tiny_weights.safetensors"));
        golden = SafetensorsFile.open(golden("vae_tiny_forward.safetensors"));
    }

    @AfterAll
    static void close() {
        ck.close();
        golden.close();
    }

    static Tensor g(String name) {
        return golden.tensor(name);
    }

    static LatentStats stats() {
        return LatentStats.of(g("latents_mean"), g("latents_std"));
    }

    /** |a − b| ≤ atol + rtol·|b| element-wise; the failure names the tensor, first bad index and max error. */
    static double assertClose(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what + ": shape");
        double[] e = expected.toDoubleArray();
        double[] a = TestDevice.host(actual).toDoubleArray();
        double max = 0;
        int bad = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(a[i] - e[i]);
            if (!(err <= atol + rtol * Math.abs(e[i])) && bad < 0) {
                bad = i;
            }
            max = Math.max(max, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
        }
        if (bad >= 0) {
            fail(what + " differs at flat index " + bad + " of " + expected.shape() + ": expected " + e[bad] + ", got "
                + a[bad] + " (max abs error " + max + ")");
        }
        System.out.printf("VAE golden %-28s max abs error %.3g (%s)%n", what, max, actual.device());
        return max;
    }

    static double close(String what, String goldenName, Tensor actual) {
        return assertClose(what, g(goldenName), actual, ATOL, RTOL);
    }

    @Test
    void configIsReadOffTheShapes() {
        assertEquals(VaeConfig.wan21(8, 4, List.of(1, 2, 2, 2), 1, List.of(false, true, true)), ck.config());
    }

    @Test
    void encodeMatchesGolden() {
        for (boolean whole : new boolean[] {false, true}) {
            String mode = whole ? " (whole clip)" : "";
            VaeTaps taps = new VaeTaps();
            WanVae vae = ck.model(TestDevice.get());
            WanVae.Encoded e = whole ? vae.encodeWholeClip(g("input_video"), taps) : vae.encode(g("input_video"), taps);
            close("mu_raw" + mode, "mu_raw", e.mu());
            close("log_var" + mode, "log_var", e.logVar());
            close("latent" + mode, "latent", stats().normalize(e.mu()));
            close("enc_conv1_out" + mode, "enc_conv1_out", taps.get("enc_conv1_out"));
            close("enc_resblock0_out" + mode, "enc_resblock0_out", taps.get("enc_resblock0_out"));
            close("enc_middle_out" + mode, "enc_middle_out", taps.get("enc_middle_out"));
        }
    }

    @Test
    void longClipUsesTheTwoFrameCache() {
        WanVae vae = ck.model(TestDevice.get());
        close("latent_long", "latent_long", stats().normalize(vae.encode(g("input_video_long")).mu()));
        close("latent_long (whole clip)", "latent_long", stats().normalize(vae.encodeWholeClip(g("input_video_long"), null).mu()));
    }

    @Test
    void decodeMatchesGolden() {
        for (boolean whole : new boolean[] {false, true}) {
            String mode = whole ? " (whole clip)" : "";
            VaeTaps taps = new VaeTaps();
            WanVae vae = ck.model(TestDevice.get());
            Tensor z = stats().denormalize(g("dec_input_latent"));
            Tensor raw = whole ? vae.decodeWholeClip(z, taps) : vae.decode(z, taps);
            close("decoded_raw" + mode, "decoded_raw", raw);
            close("decoded" + mode, "decoded", WanVae.clamp(raw));
            close("dec_conv1_out" + mode, "dec_conv1_out", taps.get("dec_conv1_out"));
            close("dec_middle_out" + mode, "dec_middle_out", taps.get("dec_middle_out"));
        }
    }
}
