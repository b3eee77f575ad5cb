package dev.loraid.core.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-MERGE-2, test cases T-24 and T-25, against float64 references of the stated formulas. */
class LoraDeltaTest {

    /** Runs {@link LoraDelta#addTo} on copies of the arrays and returns the new weight. */
    static float[] apply(float[] w, long[] wShape, float[] up, long[] upShape, float[] down, long[] downShape, double factor) {
        LoraModule m = new LoraModule("lora_unet_x", Tensor.of(down, downShape), Tensor.of(up, upShape), downShape[0], true);
        Tensor t = Tensor.of(w.clone(), wShape);
        LoraDelta.addTo(t, m, factor);
        return Floats.read(t);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void t24_merge_linear_math() {
        // W = 0 (4×4), U = ones (4×2), D = ones (2×4); factor = m · alpha / r
        double[][] cases = {{1, 1, 1.0}, {2, 1, 2.0}, {1, 0.5, 0.5}}; // {alpha (2 = absent → rank), m, expected}
        for (double[] c : cases) {
            float[] w = apply(new float[16], new long[] {4, 4}, filled(8, 1), new long[] {4, 2}, filled(8, 1), new long[] {2, 4},
                    c[1] * c[0] / 2);
            for (float x : w) {
                assertEquals(c[2], x, 0.0);
            }
        }
    }

    private static float[] random(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    @Test
    void t25_merge_conv() {
        Random rng = new Random(25);
        // conv 1×1: U [4,2,1,1], D [2,3,1,1] → ΔW [4,3,1,1] = U₂ @ D₂
        float[] u = random(rng, 8);
        float[] d = random(rng, 6);
        float[] w = random(rng, 12);
        float[] w0 = w.clone();
        LoraDelta.checkShapes(Shape.of(4, 3, 1, 1), Shape.of(4, 2, 1, 1), Shape.of(2, 3, 1, 1), "k", "f");
        w = apply(w, new long[] {4, 3, 1, 1}, u, new long[] {4, 2, 1, 1}, d, new long[] {2, 3, 1, 1}, 0.7);
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 3; i++) {
                double ref = w0[o * 3 + i];
                for (int c = 0; c < 2; c++) {
                    ref += 0.7 * u[o * 2 + c] * (double) d[c * 3 + i];
                }
                assertEquals(ref, w[o * 3 + i], 1e-5);
            }
        }
        // conv 3×3: D [2,3,3,3], U [4,2,1,1] → ΔW[o,i,y,x] = Σ_c U[o,c] D[c,i,y,x]
        float[] d3 = random(rng, 2 * 27);
        float[] w3 = random(rng, 4 * 27);
        float[] w30 = w3.clone();
        LoraDelta.checkShapes(Shape.of(4, 3, 3, 3), Shape.of(4, 2, 1, 1), Shape.of(2, 3, 3, 3), "k", "f");
        w3 = apply(w3, new long[] {4, 3, 3, 3}, u, new long[] {4, 2, 1, 1}, d3, new long[] {2, 3, 3, 3}, -1.3);
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 3; i++) {
                for (int y = 0; y < 3; y++) {
                    for (int x = 0; x < 3; x++) {
                        int idx = ((o * 3 + i) * 3 + y) * 3 + x;
                        double ref = w30[idx];
                        for (int c = 0; c < 2; c++) {
                            ref += -1.3 * u[o * 2 + c] * (double) d3[((c * 3 + i) * 3 + y) * 3 + x];
                        }
                        assertEquals(ref, w3[idx], 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void odd_shape_against_reference() {
        Random rng = new Random(7);
        int out = 37;
        int k = 53;
        int r = 5;
        float[] u = random(rng, out * r);
        float[] d = random(rng, r * k);
        float[] w = random(rng, out * k);
        float[] w0 = w.clone();
        w = apply(w, new long[] {out, k}, u, new long[] {out, r}, d, new long[] {r, k}, 0.25);
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < k; j++) {
                double ref = w0[o * k + j];
                for (int c = 0; c < r; c++) {
                    ref += 0.25 * u[o * r + c] * (double) d[c * k + j];
                }
                assertEquals(ref, w[o * k + j], 1e-5 * (1 + Math.abs(ref)));
            }
        }
    }

    @Test
    void shape_mismatch_names_key_file_and_shapes() {
        LoraidException e = assertThrows(LoraidException.class,
                () -> LoraDelta.checkShapes(Shape.of(8, 16), Shape.of(8, 2), Shape.of(2, 8), "blocks.0.ffn.2.weight", "x.safetensors"));
        assertTrue(e.getMessage().contains("x.safetensors") && e.getMessage().contains("blocks.0.ffn.2.weight")
                && e.getMessage().contains("[8, 8]") && e.getMessage().contains("[8, 16]"), e.getMessage());
        assertThrows(LoraidException.class, () -> LoraDelta.checkShapes(Shape.of(8, 8), Shape.of(8, 3), Shape.of(2, 8), "k", "f"));
        // 1×1-conv-shaped factors on a Linear weight
        LoraDelta.checkShapes(Shape.of(8, 8), Shape.of(8, 2, 1, 1), Shape.of(2, 8, 1, 1), "k", "f");
    }
}
