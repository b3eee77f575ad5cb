package dev.loraid.wan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.TestDevice;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Latent frames at chosen RoPE positions (upstream's {@code f_indices}, one-frame inference, musubi docs/wan_1f.md):
 * the tables' rows are those of the plain grid at the named frames, and since RoPE only sees position differences, a
 * model call with every frame shifted by the same amount gives the same output while a changed gap does not.
 */
class FramePositionsTest {
    @Test
    void tableRowsAreThoseOfThePlainGridAtTheNamedFrames() {
        int headDim = 16;
        int h = 2;
        int w = 3;
        RopeTables plain = RopeTables.of(headDim, 6, h, w);
        RopeTables chosen = RopeTables.of(headDim, new int[] {0, 5, 2}, h, w);
        int frame = h * w;
        int[] from = {0, 5, 2};
        for (int f = 0; f < 3; f++) {
            for (Tensor[] pair : new Tensor[][] {{plain.cos(), chosen.cos()}, {plain.sin(), chosen.sin()}}) {
                assertArrayEquals(pair[0].narrow(0, (long) from[f] * frame, frame).toDoubleArray(),
                        pair[1].narrow(0, (long) f * frame, frame).toDoubleArray(), "frame " + f);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> RopeTables.of(headDim, new int[] {0, 1024}, h, w));
    }

    @Test
    void onlyTheGapsBetweenPositionsMatter() {
        WanModel model = WanModel.load(WanPresets.TINY, WanWeights.random(WanPresets.TINY, 3)).to(TestDevice.get());
        Random rng = new Random(4);
        WanInputs in = WanInputs.of(random(rng, 4, 2, 4, 6), Tensor.of(new float[] {600f}, 1), random(rng, 5, 32));
        Tensor at01 = model.forward(in.withFramePositions(new int[] {0, 1}));
        Golden.assertClose("positions 0, 1 are the default", model.forward(in), at01, 0, 0);
        Tensor at78 = model.forward(in.withFramePositions(new int[] {7, 8}));
        Golden.assertClose("positions 7, 8 against 0, 1", at01, at78, 2e-5, 2e-5);
        Tensor at09 = model.forward(in.withFramePositions(new int[] {0, 9}));
        double diff = 0;
        double[] a = at01.toDoubleArray();
        double[] b = at09.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertTrue(diff > 1e-3, "a gap of 9 frames instead of 1 changes the output: " + diff);
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class,
                () -> model.forward(in.withFramePositions(new int[] {0, 1, 2})));
        assertTrue(wrongCount.getMessage().contains("3 frame positions [0, 1, 2] for 2 latent frames"), wrongCount.getMessage());
    }

    private static Tensor random(Random rng, long... dims) {
        double[] v = new double[Math.toIntExact(dev.loraid.tensor.Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Tensor.ofDoubles(v, dims).to(DType.F32);
    }
}
