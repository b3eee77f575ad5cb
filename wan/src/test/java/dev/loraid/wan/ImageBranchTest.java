package dev.loraid.wan;

import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 2.1 I2V/FLF2V image branch (spec wan.md §2.6, §2.7) on a tiny random model: img_emb against a plain float64
 * MLPProj, the text/image split of the context (image tokens first, text_len text rows last), and FLF2V's
 * positions. The models run on {@link TestDevice}.
 */
class ImageBranchTest {
    private static final WanConfig I2V = WanPresets.TINY_I2V;
    private static final WanConfig FLF2V = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6, true, true);

    /** Random weights of the right scale for every key of {@code c} (norm weights near 1). */
    static Map<String, Tensor> randomWeights(WanConfig c, long seed) {
        Random rng = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        WanKeys.expectedShapes(c).forEach((k, shape) -> {
            int n = Math.toIntExact(dev.loraid.tensor.Shape.of(shape).numel());
            double[] v = new double[n];
            boolean ones = k.contains("norm") && k.endsWith(".weight") || k.startsWith("img_emb.proj.0.weight")
                    || k.startsWith("img_emb.proj.4.weight");
            double sd = shape.length == 2 && k.endsWith(".weight") ? 1 / Math.sqrt(shape[1]) : 0.1;
            for (int i = 0; i < n; i++) {
                v[i] = (ones ? 1 : 0) + sd * rng.nextGaussian();
            }
            m.put(k, Tensor.ofDoubles(v, shape).to(DType.F32));
        });
        return m;
    }

    private static Tensor random(Random rng, long... dims) {
        double[] v = new double[Math.toIntExact(dev.loraid.tensor.Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Tensor.ofDoubles(v, dims).to(DType.F32);
    }

    private static WanInputs inputs(WanConfig c, long seed) {
        Random rng = new Random(seed);
        long clipTokens = (c.imagePositions() ? 2L : 1L) * WanConfig.CLIP_TOKENS;
        return new WanInputs(random(rng, 4, 2, 4, 6), Tensor.of(new float[] {700f}, 1), random(rng, 5, 32),
                random(rng, 8, 2, 4, 6), random(rng, clipTokens, WanConfig.CLIP_DIM));
    }

    @Test
    void imageEmbeddingMatchesAPlainMlpProj() {
        Map<String, Tensor> w = randomWeights(I2V, 1);
        WanInputs in = inputs(I2V, 2);
        Map<String, Tensor> taps = new LinkedHashMap<>();
        model(I2V, w, "random i2v").forward(in, (name, t) -> {
            if (name.equals("clip_emb")) {
                try (MemoryScope keep = MemoryScope.suspend()) {
                    taps.put(name, t.copy());
                }
            }
        });
        Tensor want = Tensor.ofDoubles(mlpProj(in.clip(), w), WanConfig.CLIP_TOKENS, I2V.dim());
        Golden.assertClose("img_emb output", want, taps.get("clip_emb"), 1e-5, 1e-5);
    }

    /** With k_img = v_img = 0 the image attention adds exactly 0: the model is its text-only twin. */
    @Test
    void textBranchReadsTheLastTextLenRowsOfTheContext() {
        Map<String, Tensor> w = randomWeights(I2V, 3);
        WanInputs in = inputs(I2V, 4);
        Tensor full = model(I2V, w, "random i2v").forward(in);
        Map<String, Tensor> silenced = new LinkedHashMap<>(w);
        silenced.replaceAll((k, v) -> k.contains("_img.") && !k.contains("norm") ? Tensor.zeros(DType.F32,
                v.shape().toArray()) : v);
        Tensor noImage = model(I2V, silenced, "silenced").forward(in);
        WanConfig textOnly = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6, false, false);
        Map<String, Tensor> textWeights = new LinkedHashMap<>(w);
        textWeights.keySet().removeIf(k -> k.startsWith("img_emb.") || k.contains("_img"));
        Tensor twin = model(textOnly, textWeights, "text-only twin")
                .forward(new WanInputs(in.x(), in.t(), in.context(), in.y(), null));
        Golden.assertClose("i2v with a silent image branch vs its t2v twin", twin, noImage, 1e-5, 1e-5);
        assertTrue(maxDiff(full, noImage) > 1e-3, "the image branch changes the output");
    }

    /**
     * T2V Fun-Control without CLIP tokens (upstream's T2V-FC path): the text context's first 257 rows feed the image
     * attention and only the rest the text attention. With the image attention silenced the output equals a text-only
     * twin's that sees just padding, whatever the prompt (its rows never reach the text attention); with it, the prompt
     * changes the output.
     */
    @Test
    void funControlWithoutClipSplitsTheTextAt257() {
        WanConfig fc = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 264, 1e-6, true, false);
        assertTrue(fc.funControl());
        Map<String, Tensor> w = randomWeights(fc, 11);
        Random rng = new Random(12);
        Tensor x = random(rng, 4, 2, 4, 6);
        Tensor y = random(rng, 8, 2, 4, 6);
        Tensor t = Tensor.of(new float[] {500f}, 1);
        Tensor promptA = random(rng, 5, 32);
        Tensor promptB = random(rng, 9, 32);
        Map<String, Tensor> silenced = new LinkedHashMap<>(w);
        silenced.replaceAll((k, v) -> k.contains("_img.") && !k.contains("norm") ? Tensor.zeros(DType.F32,
                v.shape().toArray()) : v);
        WanModel quiet = model(fc, silenced, "silenced fc");
        Tensor a = quiet.forward(new WanInputs(x, t, promptA, y, null));
        Tensor b = quiet.forward(new WanInputs(x, t, promptB, y, null));
        Golden.assertClose("the prompt's rows never reach the text attention", a, b, 0, 0);
        WanConfig twin = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6, false, false);
        Map<String, Tensor> twinWeights = new LinkedHashMap<>(w);
        twinWeights.keySet().removeIf(k -> k.startsWith("img_emb.") || k.contains("_img"));
        Tensor padding = model(twin, twinWeights, "text-only twin").forward(new WanInputs(x, t, Tensor.zeros(DType.F32, 1, 32),
                y, null));
        Golden.assertClose("text attention over padding rows only", padding, a, 1e-5, 1e-5);
        WanModel full = model(fc, w, "fc");
        assertTrue(maxDiff(full.forward(new WanInputs(x, t, promptA, y, null)), full.forward(new WanInputs(x, t, promptB, y,
                null))) > 1e-4, "the prompt reaches the model through the image attention");
    }

    @Test
    void flf2vAddsItsPositionsTo514ClipTokens() {
        Map<String, Tensor> w = randomWeights(FLF2V, 5);
        WanInputs in = inputs(FLF2V, 6);
        Tensor out = model(FLF2V, w, "random flf2v").forward(in);
        Map<String, Tensor> noPos = new LinkedHashMap<>(w);
        noPos.put("img_emb.emb_pos", Tensor.zeros(DType.F32, 1, 514, 1280));
        Tensor without = model(FLF2V, noPos, "no positions").forward(in);
        assertTrue(maxDiff(out, without) > 1e-4, "emb_pos changes the output");
    }

    /** The model over {@code w} on {@link TestDevice}. */
    private static WanModel model(WanConfig c, Map<String, Tensor> w, String source) {
        return WanModel.load(c, new WanWeights(w, source)).to(TestDevice.get());
    }

    private static double maxDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /** LayerNorm(1e-5) → Linear → exact GELU → Linear → LayerNorm(1e-5), in float64 (spec §2.6). */
    private static double[] mlpProj(Tensor clip, Map<String, Tensor> w) {
        int n = (int) clip.size(0);
        double[] x = clip.toDoubleArray();
        x = layerNorm(x, n, w.get("img_emb.proj.0.weight").toDoubleArray(), w.get("img_emb.proj.0.bias").toDoubleArray());
        x = linear(x, n, w.get("img_emb.proj.1.weight"), w.get("img_emb.proj.1.bias").toDoubleArray());
        for (int i = 0; i < x.length; i++) {
            x[i] = ErfGeluTest.gelu(x[i]);
        }
        x = linear(x, n, w.get("img_emb.proj.3.weight"), w.get("img_emb.proj.3.bias").toDoubleArray());
        return layerNorm(x, n, w.get("img_emb.proj.4.weight").toDoubleArray(), w.get("img_emb.proj.4.bias").toDoubleArray());
    }

    private static double[] linear(double[] x, int n, Tensor weight, double[] b) {
        int out = (int) weight.size(0);
        int in = (int) weight.size(1);
        double[] wv = weight.toDoubleArray();
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * wv[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    private static double[] layerNorm(double[] x, int n, double[] g, double[] b) {
        int d = x.length / n;
        double[] y = new double[x.length];
        for (int r = 0; r < n; r++) {
            double mean = 0;
            for (int i = 0; i < d; i++) {
                mean += x[r * d + i] / d;
            }
            double var = 0;
            for (int i = 0; i < d; i++) {
                var += (x[r * d + i] - mean) * (x[r * d + i] - mean) / d;
            }
            for (int i = 0; i < d; i++) {
                y[r * d + i] = (x[r * d + i] - mean) / Math.sqrt(var + 1e-5) * g[i] + b[i];
            }
        }
        return y;
    }
}
