package dev.loraid.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.MaxAbs;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanWeights;
import dev.loraid.wan.sample.SolverKind;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Image-to-video generation ({@link GenerateRequest#imageConditioning}) on a tiny Wan 2.2 i2v DiT with random weights
 * (in_dim 12 = 4 noise + 4 mask + 4 image-latent channels, no CLIP branch, as i2v-A14B's experts), on the device under
 * test: the start image's y steers the result, the same y gives the same video, and the request is refused without y,
 * with a y of the wrong shape, with y for a text-to-video task, with CLIP tokens for a task without the CLIP branch or of
 * the wrong count, and for Fun-Control tasks.
 */
class ImageToVideoTest {
    private static Tensor random(long seed, double scale, long... dims) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (scale * r.nextGaussian());
        }
        return Tensor.of(v, dims);
    }

    private static WanModel model() {
        return WanModel.load(WanPresets.TINY_I2V_V22, WanWeights.random(WanPresets.TINY_I2V_V22, 11));
    }

    /** 5 frames at 32×48: latent [4, 2, 4, 6], y [8, 2, 4, 6]; unipc, 4 steps. */
    private static GenerateRequest request() {
        return GenerateRequest.withTaskDefaults(WanPresets.get("tiny-i2v"), Path.of("random-tiny-i2v.safetensors"), null, 7,
                random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5).withSampling(SolverKind.UNIPC, 4, 5.0, 4.0);
    }

    /**
     * On {@link TestDevice} (the CPU here, cuda:0 in scripts/gpu-check.sh): the same y gives the same video (to the bit on
     * the CPU, within 1e-3 of the CPU's on another device), another y another video.
     */
    @Test
    void theStartImageSteersTheVideo() {
        Device device = TestDevice.get();
        WanModel model = model().to(device);
        GenerateRequest base = request().withDevice(device);
        Tensor y1 = random(3, 1, 8, 2, 4, 6);
        Tensor y2 = random(4, 1, 8, 2, 4, 6);
        Tensor a = Generator.sample(model, base.withImageConditioning(y1), new CollectingReporter()).latent();
        Tensor b = Generator.sample(model, base.withImageConditioning(y2), new CollectingReporter()).latent();
        assertEquals(List.of(4L, 2L, 4L, 6L), List.of(a.size(0), a.size(1), a.size(2), a.size(3)));
        if (device.isCpu()) {
            Tensor again = Generator.sample(model, base.withImageConditioning(y1), new CollectingReporter()).latent();
            assertTrue(Golden.sameBytes(a, again), "the same start image, the same bytes");
        } else {
            Tensor cpu = Generator.sample(model(), request().withImageConditioning(y1), new CollectingReporter()).latent();
            double diff = MaxAbs.ofDifference(cpu.toDoubleArray(), a.toDoubleArray());
            assertTrue(diff < 1e-3 * Math.max(1, MaxAbs.of(cpu.toDoubleArray())), "the CPU's video against " + device + "'s: "
                + diff);
        }
        assertTrue(MaxAbs.ofDifference(a.toDoubleArray(), b.toDoubleArray()) > 1e-2, "another start image, another video");
    }

    @Test
    void requestsThatCannotRunAreRefusedSayingWhy() {
        WanModel model = model();
        GenerateRequest base = request();
        LoraidException none = assertThrows(LoraidException.class, () -> Generator.sample(model, base, new CollectingReporter()));
        assertTrue(none.getMessage().contains("tiny-i2v is an image-to-video task (in_dim 12): give a start image"),
            none.getMessage());
        LoraidException shape = assertThrows(LoraidException.class, () -> Generator.check(
            base.withImageConditioning(random(5, 1, 8, 1, 4, 6))));
        assertTrue(shape.getMessage().contains("expected [8, 2, 4, 6]"), shape.getMessage());
        GenerateRequest t2v = GenerateRequest.withTaskDefaults(WanPresets.get("tiny"), Path.of("t.safetensors"), null, 7,
                random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5);
        LoraidException textOnly = assertThrows(LoraidException.class,
            () -> Generator.check(t2v.withImageConditioning(random(6, 1, 8, 2, 4, 6))));
        assertTrue(textOnly.getMessage().contains("tiny takes no start image"), textOnly.getMessage());
        LoraidException clipHere = assertThrows(LoraidException.class, () -> Generator.check(
            base.withImageConditioning(random(5, 1, 8, 2, 4, 6), random(7, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM))));
        assertTrue(clipHere.getMessage().contains("tiny-i2v has no CLIP image branch"), clipHere.getMessage());
        GenerateRequest flf2v = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-flf2v"), Path.of("f.safetensors"), null, 7,
                random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5);
        LoraidException oneImage = assertThrows(LoraidException.class, () -> Generator.check(flf2v.withImageConditioning(
            random(5, 1, 8, 2, 4, 6), random(7, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM))));
        assertTrue(oneImage.getMessage().contains("expected [514, 1280] (the start and end images' CLIP tokens)"),
            oneImage.getMessage());
        // Fun-Control: I2V needs the start image's CLIP tokens, T2V (upstream's T2V path) runs without them
        GenerateRequest i2vFc = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-i2v-FC"), Path.of("c.safetensors"), null, 7,
                random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5).withImageConditioning(random(5, 1, 8, 2, 4, 6));
        LoraidException noTokens = assertThrows(LoraidException.class, () -> Generator.check(i2vFc));
        assertTrue(noTokens.getMessage().contains("tiny-i2v-FC takes the start image's CLIP tokens too"), noTokens.getMessage());
        GenerateRequest t2vFc = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-t2v-FC"), Path.of("c.safetensors"), null, 7,
                random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5).withImageConditioning(random(5, 1, 8, 2, 4, 6));
        Generator.check(t2vFc);
    }

    /** First-last-frame (tiny-flf2v: emb_pos over two images' 514 tokens): the end image's tokens steer the video too. */
    @Test
    void firstLastFrameTakesBothImagesTokens() {
        WanModel model = WanModel.load(WanPresets.TINY_FLF2V, WanWeights.random(WanPresets.TINY_FLF2V, 13));
        GenerateRequest base = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-flf2v"), Path.of("tiny-flf2v.safetensors"),
                null, 7, random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5).withSampling(SolverKind.UNIPC, 3, 5.0, 4.0);
        Tensor y = random(3, 1, 8, 2, 4, 6);
        float[] a = random(8, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).toFloatArray();
        float[] b = random(9, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).toFloatArray();
        float[] c = random(10, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).toFloatArray();
        Tensor ab = rows(a, b);
        Tensor ac = rows(a, c);
        Tensor one = Generator.sample(model, base.withImageConditioning(y, ab), new CollectingReporter()).latent();
        Tensor other = Generator.sample(model, base.withImageConditioning(y, ac), new CollectingReporter()).latent();
        assertTrue(MaxAbs.ofDifference(one.toDoubleArray(), other.toDoubleArray()) > 1e-3, "another end image, another video");
    }

    private static Tensor rows(float[] top, float[] bottom) {
        float[] both = java.util.Arrays.copyOf(top, top.length + bottom.length);
        System.arraycopy(bottom, 0, both, top.length, bottom.length);
        return Tensor.of(both, 2L * WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM);
    }

    /**
     * Wan 2.1 image-to-video (y and the start image's CLIP tokens, {@link GenerateRequest#clip}) on a tiny DiT with the
     * CLIP branch: the tokens steer the video through img_emb and the k_img/v_img cross-attention, the same tokens give
     * the same bytes; without them the request is refused, and with tokens of the wrong shape.
     */
    @Test
    void wan21StartImagesTakeTheirClipTokens() {
        WanModel model = WanModel.load(WanPresets.TINY_I2V, WanWeights.random(WanPresets.TINY_I2V, 12));
        GenerateRequest base = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-i2v-clip"), Path.of("tiny-i2v-clip.safetensors"),
                null, 7, random(1, 1, 3, 32), random(2, 1, 2, 32)).withSize(32, 48, 5).withSampling(SolverKind.UNIPC, 3, 5.0, 4.0);
        Tensor y = random(3, 1, 8, 2, 4, 6);
        Tensor c1 = random(8, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM);
        Tensor c2 = random(9, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM);
        Tensor a = Generator.sample(model, base.withImageConditioning(y, c1), new CollectingReporter()).latent();
        Tensor again = Generator.sample(model, base.withImageConditioning(y, c1), new CollectingReporter()).latent();
        Tensor b = Generator.sample(model, base.withImageConditioning(y, c2), new CollectingReporter()).latent();
        assertTrue(Golden.sameBytes(a, again), "the same tokens, the same bytes");
        assertTrue(MaxAbs.ofDifference(a.toDoubleArray(), b.toDoubleArray()) > 1e-3, "other CLIP tokens, another video");
        LoraidException none = assertThrows(LoraidException.class, () -> Generator.check(base.withImageConditioning(y)));
        assertTrue(none.getMessage().contains("takes the start image's CLIP tokens too"), none.getMessage());
        LoraidException shape = assertThrows(LoraidException.class, () -> Generator.check(base.withImageConditioning(y,
            random(10, 1, 2 * WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM))));
        assertTrue(shape.getMessage().contains("expected [257, 1280]"), shape.getMessage());
    }
}
