package dev.loraid.wan.vae;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static dev.loraid.wan.vae.VaeGoldenTest.assertClose;
import static dev.loraid.wan.vae.VaeGoldenTest.golden;
import static dev.loraid.wan.vae.VaeGoldenTest.pth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading: the .pth files (zip f32, bf16, legacy) give the safetensors results; other models are refused by name. */
class VaeCheckpointTest {
    static Tensor encodeMu(Path file) throws IOException {
        try (VaeCheckpoint ck = VaeCheckpoint.open(file);
             var g = dev.loraid.tensor.safetensors.SafetensorsFile.open(golden("vae_tiny_forward.safetensors"))) {
            return ck.model().encode(g.tensor("input_video")).mu();
        }
    }

    @Test
    void pthFilesMatchTheSafetensors() throws IOException {
        Tensor ref = encodeMu(golden("vae_tiny_weights.safetensors"));
        assertClose("mu_raw from vae_tiny_f32.pth", ref, encodeMu(pth("vae_tiny_f32.pth")), 0, 0);
        assertClose("mu_raw from vae_tiny_f32_legacy.pth", ref, encodeMu(pth("vae_tiny_f32_legacy.pth")), 0, 0);
        // bf16 weights, fp32 math: the weights' rounding (2^-9 relative) shows, no more
        double err = assertClose("mu_raw from vae_tiny_bf16.pth", ref, encodeMu(pth("vae_tiny_bf16.pth")), 3e-2, 3e-2);
        assertTrue(err > 0);
        try (VaeCheckpoint ck = VaeCheckpoint.open(pth("vae_tiny_bf16.pth"))) {
            assertEquals(4, ck.config().zDim());
        }
    }

    @Test
    void ditAndTextEncoderAreRefusedByName() {
        var dit = assertThrows(IllegalArgumentException.class, () -> VaeCheckpoint.open(golden("wan_tiny_weights.safetensors")));
        assertTrue(dit.getMessage().contains("not a Wan VAE") && dit.getMessage().contains("Wan DiT")
            && dit.getMessage().contains("wan_tiny_weights"), dit.getMessage());
        var t5 = assertThrows(IllegalArgumentException.class, () -> VaeCheckpoint.open(golden("umt5_tiny_weights.safetensors")));
        assertTrue(t5.getMessage().contains("UMT5 text encoder"), t5.getMessage());
        var t5pth = assertThrows(IllegalArgumentException.class, () -> VaeCheckpoint.open(pth("umt5_tiny_bf16.pth")));
        assertTrue(t5pth.getMessage().contains("UMT5 text encoder"), t5pth.getMessage());
    }

    @Test
    void wrongInputsAreRefused() throws IOException {
        try (VaeCheckpoint ck = VaeCheckpoint.open(golden("vae_tiny_weights.safetensors"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> ck.model().encode(Tensor.zeros(DType.F32, 3, 5, 12, 16)));
            assertTrue(e.getMessage().contains("multiples of 8"), e.getMessage());
            var d = assertThrows(IllegalArgumentException.class, () -> ck.model().decode(Tensor.zeros(DType.F32, 16, 2, 2, 2), null));
            assertTrue(d.getMessage().contains("[4, F ≥ 1, h, w]"), d.getMessage());
        }
    }
}
