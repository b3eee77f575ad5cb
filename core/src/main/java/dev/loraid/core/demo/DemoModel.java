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
     * biases 0, norm weights 1, modulations N(0, 1/dim) as upstream; the head is random too (upstream zeroes it,
     * which would leave a LoRA on the blocks without a gradient).
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
        SafetensorsWriter.write(file, w, metadata("seeded random weights, seed " + seed));
        return file;
    }

    static long numel(long[] s) {
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        return n;
    }
}
