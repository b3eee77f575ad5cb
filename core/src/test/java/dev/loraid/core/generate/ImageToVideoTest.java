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
 * with a y of the wrong shape, with y for a text-to-video task, and for a task that needs CLIP features.
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
        GenerateRequest clip = GenerateRequest.withTaskDefaults(WanPresets.get("i2v-14B"), Path.of("i.safetensors"), null, 7,
                random(1, 1, 3, 4096), random(2, 1, 2, 4096)).withSize(480, 832, 81);
        LoraidException needsClip = assertThrows(LoraidException.class, () -> Generator.check(clip));
        assertTrue(needsClip.getMessage().contains("needs CLIP image features"), needsClip.getMessage());
    }
}
