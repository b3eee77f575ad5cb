package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.autograd.Var;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanWeights;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Training on Fun-Control caches (musubi's latents_control; training.md §1.8): the DiT's input is the noisy latent, the
 * control latents, then the image latents without their 4 mask channels and with every frame after the first zeroed
 * (zeros without an image), assembled here element by element from the cache tensors; a cache without CLIP tokens
 * is refused (upstream reads them for every Fun-Control task), saying why. On a tiny Wan 2.1 I2V-shaped DiT (in_dim 12 = 4 + 4 + 4, the same as I2V's 4 + 4 mask + 4).
 */
class FunControlInputTest {
    private static Tensor random(SplittableRandom r, long... shape) {
        float[] v = new float[(int) Tensor.zeros(DType.F32, shape).shape().numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    @Test
    void theInputIsNoiseThenControlThenTheFirstImageFrame() {
        WanModel model = WanModel.load(WanPresets.TINY_I2V, WanWeights.random(WanPresets.TINY_I2V, 3));
        SplittableRandom r = new SplittableRandom(5);
        Tensor latents = random(r, 4, 3, 4, 6);
        Tensor image = random(r, 8, 3, 4, 6);
        Tensor control = random(r, 4, 3, 4, 6).to(DType.BF16);
        Tensor clip = random(r, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).to(DType.F16);
        Tensor noisy = random(r, 4, 3, 4, 6);
        for (Tensor img : new Tensor[] {image, null}) {
            TrainSample s = new TrainSample("item", latents, random(r, 3, 32), img, clip, control);
            float[] in = TrainStep.modelInput(model, s, Var.constant(noisy)).data().toFloatArray();
            int plane = 3 * 4 * 6;
            int frame = 4 * 6;
            float[] want = new float[12 * plane];
            float[] n = noisy.toFloatArray();
            float[] ctl = control.to(DType.F32).toFloatArray();
            float[] im = image.toFloatArray();
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < plane; i++) {
                    want[c * plane + i] = n[c * plane + i];
                    want[(4 + c) * plane + i] = ctl[c * plane + i];
                    // image channel c is latents_image channel 4 + c; only frame 0 survives
                    want[(8 + c) * plane + i] = img != null && i < frame ? im[(4 + c) * plane + i] : 0f;
                }
            }
            assertArrayEquals(want, in, 0f, img == null ? "no image: zeros" : "with an image");
        }
        TrainSample t2vFc = new TrainSample("t2v", latents, random(r, 3, 32), null, null, control);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TrainStep.modelInput(model, t2vFc, Var.constant(noisy)));
        assertTrue(e.getMessage().contains("a Fun-Control cache without CLIP tokens"), e.getMessage());
        TrainSample mismatched = new TrainSample("m", latents, random(r, 3, 32), random(r, 8, 2, 4, 6), clip, control);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
            () -> TrainStep.modelInput(model, mismatched, Var.constant(noisy)));
        assertTrue(shape.getMessage().contains("does not fit the control latents"), shape.getMessage());
        assertEquals(12, model.config().inDim());
    }
}
