package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link LycorisModule}'s updates against sums written out here element by element from LyCORIS's definitions (LoRA,
 * LoHa's Hadamard product, LoKr's Kronecker product with whole or factored matrices and its scale rule, full diff), on a
 * 6×4 layer, and its refusals.
 */
class LycorisModuleTest {
    private static final String M = "lora_unet_blocks_0_self_attn_q";
    private final SplittableRandom rng = new SplittableRandom(5);

    private double[][] matrix(int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] r : m) {
            for (int j = 0; j < cols; j++) {
                r[j] = rng.nextDouble(-1, 1);
            }
        }
        return m;
    }

    private static Tensor tensor(double[][] m) {
        double[] flat = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, flat, i * m[0].length, m[0].length);
        }
        return Tensor.ofDoubles(flat, m.length, m[0].length).to(DType.F32);
    }

    private static double[][] times(double[][] a, double[][] b) {
        double[][] out = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b[0].length; j++) {
                for (int k = 0; k < b.length; k++) {
                    out[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return out;
    }

    /** The module's update of a zero 6×4 weight at factor 0.7, against {@code want} (already scaled). */
    private static void check(Map<String, Tensor> tensors, double[][] want) {
        LycorisModule m = LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(tensors), Map.of())).get(M);
        Tensor w = Tensor.zeros(DType.F32, 6, 4);
        m.addTo(w, 0.7);
        double[] got = w.toDoubleArray();
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(0.7 * want[i][j], got[i * 4 + j], 1e-5, m.algorithm() + " [" + i + "][" + j + "]");
            }
        }
    }

    private static Tensor scalar(double v) {
        return Tensor.ofDoubles(new double[] {v}).to(DType.F32);
    }

    @Test
    void loraAndLoHa() {
        double[][] up = matrix(6, 2);
        double[][] down = matrix(2, 4);
        double[][] lora = times(up, down);
        for (double[] r : lora) {
            for (int j = 0; j < 4; j++) {
                r[j] *= 3.0 / 2; // alpha 3, rank 2
            }
        }
        check(Map.of(M + ".lora_up.weight", tensor(up), M + ".lora_down.weight", tensor(down), M + ".alpha", scalar(3)), lora);

        double[][] w1a = matrix(6, 2);
        double[][] w1b = matrix(2, 4);
        double[][] w2a = matrix(6, 2);
        double[][] w2b = matrix(2, 4);
        double[][] p = times(w1a, w1b);
        double[][] q = times(w2a, w2b);
        double[][] loha = new double[6][4];
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 4; j++) {
                loha[i][j] = p[i][j] * q[i][j] * 1.0 / 2; // alpha 1, rank 2
            }
        }
        check(Map.of(M + ".hada_w1_a", tensor(w1a), M + ".hada_w1_b", tensor(w1b), M + ".hada_w2_a", tensor(w2a),
                M + ".hada_w2_b", tensor(w2b), M + ".alpha", scalar(1)), loha);
    }

    /** kron(w1 [2, 2], w2 [3, 2]) = [6, 4]: element (i·3 + k, j·2 + l) = w1[i][j] · w2[k][l]. */
    private static double[][] kron(double[][] w1, double[][] w2, double scale) {
        double[][] out = new double[6][4];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 3; k++) {
                    for (int l = 0; l < 2; l++) {
                        out[i * 3 + k][j * 2 + l] = w1[i][j] * w2[k][l] * scale;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void lokrWholeAndFactoredAndFull() {
        double[][] w1 = matrix(2, 2);
        double[][] w2 = matrix(3, 2);
        // both factors whole: LyCORIS sets alpha = rank, the scale is 1 whatever the file's alpha
        check(Map.of(M + ".lokr_w1", tensor(w1), M + ".lokr_w2", tensor(w2), M + ".alpha", scalar(4)), kron(w1, w2, 1));
        double[][] w2a = matrix(3, 1);
        double[][] w2b = matrix(1, 2);
        // w2 factored at rank 1 with alpha 0.5: scale 0.5
        check(Map.of(M + ".lokr_w1", tensor(w1), M + ".lokr_w2_a", tensor(w2a), M + ".lokr_w2_b", tensor(w2b), M + ".alpha",
                scalar(0.5)), kron(w1, times(w2a, w2b), 0.5));
        double[][] diff = matrix(6, 4);
        check(Map.of(M + ".diff", tensor(diff)), diff);
    }

    /** ComfyUI/diffusers-style dotted names find their module as kohya names do. */
    @Test
    void dottedNames() {
        double[][] diff = matrix(6, 4);
        Map<String, LycorisModule> m = LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(Map.of(
                "diffusion_model.blocks.7.cross_attn.k.diff", tensor(diff))), Map.of()));
        assertEquals("blocks.7.cross_attn.k", m.get("diffusion_model.blocks.7.cross_attn.k").modulePath());
        assertEquals("blocks.0.self_attn.q", LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(Map.of(
                M + ".diff", tensor(diff))), Map.of())).get(M).modulePath());
    }

    /** A LyCORIS file given where LoRA files go is refused saying how to use it. */
    @Test
    void aLycorisFileAmongLorasPointsToTheLycorisFlag() {
        LoraidException e = assertThrows(LoraidException.class, () -> LoraWeights.of(new LoraFile("lokr.safetensors",
                new TreeMap<>(Map.of(M + ".lokr_w1", tensor(matrix(2, 2)), M + ".lokr_w2", tensor(matrix(3, 2)))), Map.of()), dev.loraid.core.Reporter.SILENT));
        assertTrue(e.getMessage().contains("LyCORIS LoKr/LoHa/full tensors") && e.getMessage().contains("LoraSelection.lycoris"),
                e.getMessage());
    }

    @Test
    void refusals() {
        for (String[] c : new String[][] {{"dora_scale", "DoRA"}, {"lokr_t2", "Tucker"}, {"oft_blocks", "OFT"}}) {
            LoraidException e = assertThrows(LoraidException.class, () -> LycorisModule.read(new LoraFile("t.safetensors",
                    new TreeMap<>(Map.of(M + "." + c[0], scalar(1))), Map.of())));
            assertTrue(e.getMessage().contains(M + "." + c[0]) && e.getMessage().contains(c[1]), e.getMessage());
        }
        LoraidException half = assertThrows(LoraidException.class, () -> LycorisModule.read(new LoraFile("t.safetensors",
                new TreeMap<>(Map.of(M + ".hada_w1_a", tensor(matrix(6, 2)))), Map.of())));
        assertTrue(half.getMessage().contains("but no hada_w1_b"), half.getMessage());
        LycorisModule mismatched = LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(Map.of(M + ".lora_up.weight",
                tensor(matrix(6, 2)), M + ".lora_down.weight", tensor(matrix(3, 4)))), Map.of())).get(M);
        LoraidException factors = assertThrows(LoraidException.class, () -> mismatched.addTo(Tensor.zeros(DType.F32, 6, 4), 1));
        assertTrue(factors.getMessage().contains("factors [6, 2] and [3, 4] do not multiply"), factors.getMessage());
        LycorisModule wrong = LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(Map.of(M + ".diff",
                tensor(matrix(4, 6)))), Map.of())).get(M);
        LoraidException shape = assertThrows(LoraidException.class, () -> wrong.addTo(Tensor.zeros(DType.F32, 6, 4), 1));
        assertTrue(shape.getMessage().contains("its full update has shape [4, 6] but the layer's weight is [6, 4]"),
                shape.getMessage());
        // a hostile LoHa whose factors multiply out to 10^10 elements is refused from its shapes, before any product
        LycorisModule huge = LycorisModule.read(new LoraFile("t.safetensors", new TreeMap<>(Map.of(
                M + ".hada_w1_a", Tensor.zeros(DType.F32, 100_000, 1), M + ".hada_w1_b", Tensor.zeros(DType.F32, 1, 100_000),
                M + ".hada_w2_a", Tensor.zeros(DType.F32, 100_000, 1), M + ".hada_w2_b", Tensor.zeros(DType.F32, 1, 100_000))),
                Map.of())).get(M);
        LoraidException big = assertThrows(LoraidException.class, () -> huge.addTo(Tensor.zeros(DType.F32, 6, 4), 1));
        assertTrue(big.getMessage().contains("its loha update has shape [100000, 100000] but the layer's weight is [6, 4]"),
                big.getMessage());
        double[][] nan = matrix(2, 4);
        nan[1][2] = Double.NaN;
        LoraidException nonFinite = assertThrows(LoraidException.class, () -> LycorisModule.read(new LoraFile("t.safetensors",
                new TreeMap<>(Map.of(M + ".hada_w1_a", tensor(matrix(6, 2)), M + ".hada_w1_b", tensor(matrix(2, 4)),
                        M + ".hada_w2_a", tensor(matrix(6, 2)), M + ".hada_w2_b", tensor(nan))), Map.of())));
        assertTrue(nonFinite.getMessage().contains(M + ".hada_w2_b contains NaN at flat index 6"), nonFinite.getMessage());
        LoraidException badAlpha = assertThrows(LoraidException.class, () -> LycorisModule.read(new LoraFile("t.safetensors",
                new TreeMap<>(Map.of(M + ".diff", tensor(matrix(6, 4)), M + ".alpha", scalar(Double.POSITIVE_INFINITY))),
                Map.of())));
        assertTrue(badAlpha.getMessage().contains(M + ".alpha contains Infinity"), badAlpha.getMessage());
    }
}
