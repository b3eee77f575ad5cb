package dev.loraid.wan.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.testing.TestDevice;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClipVisionEncoder} against an fp64 forward of upstream's {@code VisionTransformer(..., use_31_block=True)}
 * written here with plain loops (patch convolution, class token, positions, pre-norm, pre-norm blocks with fused qkv,
 * softmax attention, exact GELU by Abramowitz–Stegun 7.1.26, the last block skipped), on random weights of a small
 * tower (on the device under test as well); and {@link ClipCheckpoint} reading the same weights from a file in Wan's
 * layout.
 */
class ClipVisionEncoderTest {
    /** dim 160 = 2 heads of ViT-H's 80, 3 blocks (2 used), MLP 64, patch 14 on 28×28: 5 tokens. */
    static final ClipVisionConfig SMALL = new ClipVisionConfig(160, 3, 2, 64, 14, 28);

    /** Half-precision Linears (a converted file): the GEMMs read F16 weights; the checkpoint test reads Wan's F32. */
    static Map<String, Tensor> weights(ClipVisionConfig c, long seed) {
        return ClipWeights.random(c, seed, DType.F16);
    }

    private static double[] d(Map<String, Tensor> w, String key) {
        return w.get(key).toDoubleArray();
    }

    /** Upstream's tower in doubles: pixels [3, S, S] → [tokens, dim] after the first layers − 1 blocks. */
    static double[][] reference(ClipVisionConfig c, Map<String, Tensor> w, float[] pixels) {
        int dim = c.dim();
        int p = c.patch();
        int side = c.imageSize() / p;
        int s = c.imageSize();
        int n = c.tokens();
        double[] pw = d(w, "patch_embedding.weight");
        double[] cls = d(w, "cls_embedding");
        double[] pos = d(w, "pos_embedding");
        double[][] x = new double[n][dim];
        for (int o = 0; o < dim; o++) {
            x[0][o] = cls[o] + pos[o];
            for (int py = 0; py < side; py++) {
                for (int px = 0; px < side; px++) {
                    double acc = 0;
                    for (int ch = 0; ch < 3; ch++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                acc += pw[((o * 3 + ch) * p + ky) * p + kx] * pixels[(ch * s + py * p + ky) * s + px * p + kx];
                            }
                        }
                    }
                    int tok = 1 + py * side + px;
                    x[tok][o] = acc + pos[tok * dim + o];
                }
            }
        }
        x = layerNorm(x, d(w, "pre_norm.weight"), d(w, "pre_norm.bias"));
        int heads = c.heads();
        int hd = dim / heads;
        for (int l = 0; l < c.layers() - 1; l++) { // use_31_block: all but the last, independently of usedLayers()
            String b = "transformer." + l + ".";
            double[][] qkv = linear(layerNorm(x, d(w, b + "norm1.weight"), d(w, b + "norm1.bias")), d(w, b + "attn.to_qkv.weight"),
                d(w, b + "attn.to_qkv.bias"), 3 * dim);
            double[][] att = new double[n][dim];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    double[] score = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        for (int e = 0; e < hd; e++) {
                            score[j] += qkv[i][h * hd + e] * qkv[j][dim + h * hd + e];
                        }
                        score[j] /= Math.sqrt(hd);
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        score[j] = Math.exp(score[j] - max);
                        sum += score[j];
                    }
                    for (int j = 0; j < n; j++) {
                        for (int e = 0; e < hd; e++) {
                            att[i][h * hd + e] += score[j] / sum * qkv[j][2 * dim + h * hd + e];
                        }
                    }
                }
            }
            double[][] proj = linear(att, d(w, b + "attn.proj.weight"), d(w, b + "attn.proj.bias"), dim);
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < dim; o++) {
                    x[i][o] += proj[i][o];
                }
            }
            double[][] hid = linear(layerNorm(x, d(w, b + "norm2.weight"), d(w, b + "norm2.bias")), d(w, b + "mlp.0.weight"),
                d(w, b + "mlp.0.bias"), c.mlpDim());
            for (double[] row : hid) {
                for (int k = 0; k < row.length; k++) {
                    row[k] = 0.5 * row[k] * (1 + erf(row[k] / Math.sqrt(2)));
                }
            }
            double[][] out = linear(hid, d(w, b + "mlp.2.weight"), d(w, b + "mlp.2.bias"), dim);
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < dim; o++) {
                    x[i][o] += out[i][o];
                }
            }
        }
        return x;
    }

    private static double[][] linear(double[][] x, double[] weight, double[] bias, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double acc = bias[o];
                for (int k = 0; k < in; k++) {
                    acc += weight[o * in + k] * x[i][k];
                }
                y[i][o] = acc;
            }
        }
        return y;
    }

    private static double[][] layerNorm(double[][] x, double[] g, double[] b) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double mean = 0;
            for (double v : x[i]) {
                mean += v / x[i].length;
            }
            double var = 0;
            for (double v : x[i]) {
                var += (v - mean) * (v - mean) / x[i].length;
            }
            y[i] = new double[x[i].length];
            for (int k = 0; k < x[i].length; k++) {
                y[i][k] = (x[i][k] - mean) / Math.sqrt(var + ClipVisionConfig.EPS) * g[k] + b[k];
            }
        }
        return y;
    }

    /** Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
    private static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
            * Math.exp(-x * x);
        return Math.signum(x) * y;
    }

    static float[] pixels(ClipVisionConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[3 * c.imageSize() * c.imageSize()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return v;
    }

    static void assertClose(double[][] expected, Tensor actual) {
        assertClose(expected, actual, 2e-4);
    }

    static void assertClose(double[][] expected, Tensor actual, double tolerance) {
        float[] got = actual.toFloatArray();
        int dim = expected[0].length;
        assertEquals(expected.length * dim, got.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int k = 0; k < dim; k++) {
                worst = Math.max(worst, Math.abs(expected[i][k] - got[i * dim + k]));
            }
        }
        assertTrue(worst < tolerance, "worst gap " + worst);
    }

    /** On {@link TestDevice} (the CPU here, cuda:0 in scripts/gpu-check.sh: head width 80 and the patch convolution there). */
    @Test
    void runsAllButTheLastBlockAsUpstream() {
        Map<String, Tensor> w = weights(SMALL, 1);
        dev.loraid.tensor.Device device = TestDevice.get();
        ClipVisionEncoder enc = ClipVisionEncoder.load(SMALL, w, "test").to(device);
        float[] px = pixels(SMALL, 2);
        Tensor out = enc.forward(Tensor.of(px, 3, 28, 28)).to(dev.loraid.tensor.Device.CPU);
        assertArrayEquals(new long[] {5, 160}, out.shape().toArray());
        // a GPU's GEMMs may round their fp32 inputs to TF32 (10-bit mantissa): outputs of size ~5 move by ~1e-3
        assertClose(reference(SMALL, w, px), out, device.isCpu() ? 2e-4 : 2e-2);
        // the skipped block matters: the full tower (layers − 1 = 3 used) differs
        ClipVisionConfig all = new ClipVisionConfig(160, 4, 2, 64, 14, 28);
        Map<String, Tensor> more = weights(all, 1);
        double[][] withThird = reference(all, more, px);
        double[][] withoutThird = reference(SMALL, more, px);
        assertTrue(Math.abs(withThird[0][0] - withoutThird[0][0]) > 1e-3, "the reference tells the block counts apart");
    }

    @Test
    void encodeResizesAndNormalisesFirst() {
        Map<String, Tensor> w = weights(SMALL, 3);
        ClipVisionEncoder enc = ClipVisionEncoder.load(SMALL, w, "test");
        SplittableRandom r = new SplittableRandom(4);
        float[] img = new float[3 * 40 * 50];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (r.nextDouble() * 2 - 1);
        }
        Tensor image = Tensor.of(img, 3, 40, 50);
        assertArrayEquals(enc.forward(ClipImage.of(image, 28)).toFloatArray(), enc.encode(image).toFloatArray());
    }

    @Test
    void aCheckpointInWansLayoutGivesTheSameTower(@TempDir Path dir) throws Exception {
        Map<String, Tensor> w = ClipWeights.random(SMALL, 5); // F32, as Wan's file
        Map<String, Tensor> file = new LinkedHashMap<>();
        w.forEach((k, t) -> file.put("visual." + k, t));
        file.put("textual.token_embedding.weight", Tensor.zeros(DType.F16, 10, 4));
        file.put("log_scale", Tensor.zeros(DType.F32));
        Path path = dir.resolve("clip.safetensors");
        SafetensorsWriter.write(path, file, Map.of());
        float[] px = pixels(SMALL, 6);
        try (ClipCheckpoint ck = ClipCheckpoint.open(path)) {
            assertEquals(SMALL, ck.config());
            assertClose(reference(SMALL, w, px), ck.model().forward(Tensor.of(px, 3, 28, 28)));
        }
        Path hf = dir.resolve("hf.safetensors");
        SafetensorsWriter.write(hf, Map.of("vision_model.embeddings.patch_embedding.weight", Tensor.zeros(DType.F16, 160, 3, 14, 14)),
            Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipCheckpoint.open(hf));
        assertTrue(e.getMessage().contains("vision_model.embeddings.patch_embedding.weight"), e.getMessage());
        Map<String, Tensor> broken = new LinkedHashMap<>(file);
        broken.remove("visual.transformer.1.attn.proj.bias");
        Path bad = dir.resolve("bad.safetensors");
        SafetensorsWriter.write(bad, broken, Map.of());
        try (ClipCheckpoint ck = ClipCheckpoint.open(bad)) {
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, ck::model);
            assertTrue(missing.getMessage().contains("transformer.1.attn.proj.bias"), missing.getMessage());
        }
    }

    /** Shapes that are no CLIP tower are refused with an IllegalArgumentException naming the tensor, never another error. */
    @Test
    void inconsistentShapesAreRefusedNamingTheTensor() {
        java.util.function.Function<Map<String, long[]>, String> refusal = shapes -> assertThrows(IllegalArgumentException.class,
            () -> ClipVisionConfig.infer(shapes, "f")).getMessage();
        Map<String, long[]> good = new LinkedHashMap<>();
        good.put("patch_embedding.weight", new long[] {160, 3, 14, 14});
        good.put("pos_embedding", new long[] {1, 5, 160});
        good.put("transformer.0.mlp.0.weight", new long[] {64, 160});
        good.put("transformer.0.attn.to_qkv.weight", new long[] {480, 160});
        good.put("transformer.1.attn.to_qkv.weight", new long[] {480, 160});
        assertEquals(new ClipVisionConfig(160, 2, 2, 64, 14, 28), ClipVisionConfig.infer(good, "f"));
        Map<String, long[]> notSquare = new LinkedHashMap<>(good);
        notSquare.put("pos_embedding", new long[] {1, 6, 160});
        assertTrue(refusal.apply(notSquare).contains("pos_embedding"));
        Map<String, long[]> rgba = new LinkedHashMap<>(good);
        rgba.put("patch_embedding.weight", new long[] {160, 4, 14, 14});
        assertTrue(refusal.apply(rgba).contains("patch_embedding.weight"));
        Map<String, long[]> flat = new LinkedHashMap<>(good);
        flat.put("patch_embedding.weight", new long[] {160, 588});
        assertTrue(refusal.apply(flat).contains("patch_embedding.weight has rank 2"));
        Map<String, long[]> narrow = new LinkedHashMap<>(good);
        narrow.put("patch_embedding.weight", new long[] {100, 3, 14, 14});
        narrow.put("pos_embedding", new long[] {1, 5, 100});
        assertTrue(refusal.apply(narrow).contains("head count"));
        Map<String, long[]> zero = new LinkedHashMap<>(good);
        zero.put("patch_embedding.weight", new long[] {160, 3, 0, 0});
        assertTrue(refusal.apply(zero).contains("patch"));
        Map<String, long[]> oneBlock = new LinkedHashMap<>(good);
        oneBlock.remove("transformer.1.attn.to_qkv.weight");
        assertTrue(refusal.apply(oneBlock).contains("at least 2 layers"));
    }
}
