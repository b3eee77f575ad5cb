package dev.loraid.core.demo;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanVariant;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The demo's DiT: the Wan 2.1 T2V architecture at toy size (dim 64, 4 heads, 6 blocks, FFN 128, patch 1×2×2,
 * 4 latent channels = {@link PatchLatents}, text_dim 32 = {@link DemoText}, text_len 16), and the generation
 * task that goes with it (latent stride 4 = the patch transform, one frame, unipc, shift 2, guidance 3).
 */
public final class DemoModel {
    public static final WanConfig CONFIG = new WanConfig("2.1", 1, 2, 2, PatchLatents.CHANNELS, PatchLatents.CHANNELS, 64, 128,
            4, 6, DemoText.DIM, 32, 16, 1e-6, false, false);
    /** The identity path's bias norm and head gain ({@link #identityPath}). */
    private static final double PATH_BIAS = 4;
    private static final double PATH_GAIN = 0.7;
    /** Blocks per LORAID: three characters on blocks 0–1, 2–3, 4–5. */
    public static final int BLOCKS_PER_LORAID = 2;
    public static final WanVariant TASK = new WanVariant("loraid-demo", CONFIG, List.of(), 0, 2.0, 20, 3.0, 3.0,
            PatchLatents.CHANNELS, new int[] {4, PatchLatents.STRIDE, PatchLatents.STRIDE}, 1, 16);

    private DemoModel() {
    }

    /** The file metadata every demo DiT carries: the config (so the loader needs no preset) and what made it. */
    static Map<String, String> metadata(String note) {
        Map<String, Object> config = new LinkedHashMap<>(CONFIG.toMap());
        Map<String, String> m = new LinkedHashMap<>();
        m.put("config", JsonWriter.compact(config));
        m.put("loraid_demo_text", DemoText.FINGERPRINT);
        m.put("note", note);
        return m;
    }

    /**
     * Seeded random weights for {@link #CONFIG}, Wan's initialisation where it matters: linear weights N(0, 1/fan_in),
     * biases 0, norm weights 1, modulations N(0, 1/dim) as upstream; except the patch embedding and the head, which
     * form an identity path ({@link #identityPath}).
     */
    public static Path writeRandom(Path file, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : WanKeys.expectedShapes(CONFIG).entrySet()) {
            String k = e.getKey();
            long[] s = e.getValue();
            Tensor t;
            if (k.endsWith(".bias")) {
                t = Tensor.of(new float[Math.toIntExact(numel(s))], s);
            } else if (k.contains("norm")) {
                t = Tensor.of(DemoText.ones(Math.toIntExact(numel(s))), s);
            } else if (k.endsWith("modulation")) {
                t = DemoText.gaussian(r, 1 / Math.sqrt(CONFIG.dim()), s);
            } else {
                t = DemoText.gaussian(r, 1 / Math.sqrt(numel(s) / s[0]), s);
            }
            w.put(k, t);
        }
        identityPath(w, r);
        SafetensorsWriter.write(file, w, metadata("seeded random weights, seed " + seed));
        return file;
    }

    /**
     * The trainer trains LoRAs on the blocks only, so the patch embedding and the head keep their initial values for
     * good (upstream zeroes the head, which would leave the blocks without a gradient; a random one makes the blocks
     * learn to undo a random map first). Here they are each other's transpose: the patch embedding puts a token's 16
     * latent values on 16 orthonormal directions (zero-mean, so the head's LayerNorm does not shift them), its bias
     * is a constant of norm {@value #PATH_BIAS} along a 17th, and the head reads the 16 directions back scaled by
     * {@value #PATH_GAIN}; the bias dominates the LayerNorm's scale, so a model whose blocks add nothing outputs about
     * its input. Measured on the base (32 epochs, 2 cores): velocity MSE at σ = 0.3 went 0.18 → 0.14 with this, the
     * latents centred on the background ({@link PatchLatents}) and AdamW at 6e-3 instead of 2e-3.
     */
    private static void identityPath(Map<String, Tensor> w, SplittableRandom r) {
        int d = CONFIG.dim();
        int p = CONFIG.inDim() * CONFIG.patchVolume();
        double[][] dirs = orthonormal(p + 1, d, r);
        float[] embed = new float[d * p];
        float[] head = new float[p * d];
        float[] bias = new float[d];
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < p; k++) {
                embed[i * p + k] = (float) dirs[k][i];
                // the conv weight's inputs run (channel, ph, pw), the head's outputs (ph, pw, channel): wan.md §2.10
                int c = k / CONFIG.patchVolume();
                int s = k % CONFIG.patchVolume();
                head[(s * CONFIG.inDim() + c) * d + i] = (float) (PATH_GAIN * dirs[k][i]);
            }
            bias[i] = (float) (PATH_BIAS * dirs[p][i]);
        }
        w.put("patch_embedding.weight", Tensor.of(embed, d, CONFIG.inDim(), CONFIG.patchT(), CONFIG.patchH(), CONFIG.patchW()));
        w.put("patch_embedding.bias", Tensor.of(bias, d));
        w.put("head.head.weight", Tensor.of(head, p, d));
    }

    /** {@code n} random orthonormal vectors of length {@code d}, each orthogonal to the all-ones vector (Gram-Schmidt). */
    private static double[][] orthonormal(int n, int d, SplittableRandom r) {
        double[][] v = new double[n + 1][d];
        java.util.Arrays.fill(v[0], 1 / Math.sqrt(d));
        for (int k = 1; k <= n; k++) {
            for (int i = 0; i < d; i++) {
                v[k][i] = r.nextDouble() - 0.5;
            }
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += v[k][i] * v[j][i];
                }
                for (int i = 0; i < d; i++) {
                    v[k][i] -= dot * v[j][i];
                }
            }
            double norm = 0;
            for (int i = 0; i < d; i++) {
                norm += v[k][i] * v[k][i];
            }
            for (int i = 0; i < d; i++) {
                v[k][i] /= Math.sqrt(norm);
            }
        }
        return java.util.Arrays.copyOfRange(v, 1, n + 1);
    }

    static long numel(long[] s) {
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        return n;
    }
}
