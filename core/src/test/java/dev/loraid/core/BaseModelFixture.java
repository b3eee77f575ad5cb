package dev.loraid.core;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A synthetic Wan-like DiT state dict (spec loraid.md §8): per block the ten Linear layers with biases, norm3 and
 * modulation, plus patch_embedding and head.head; dim 8, ffn 16, written by the Java writer.
 */
public final class BaseModelFixture {
    private BaseModelFixture() {
    }

    public static Map<String, Tensor> tensors(int blocks, DType dtype, long seed) {
        Random rng = new Random(seed);
        TreeMap<String, Tensor> t = new TreeMap<>();
        t.put("patch_embedding.weight", LoraFixtures.random(rng, dtype, LoraFixtures.DIM, 4, 1, 2, 2));
        t.put("head.head.weight", LoraFixtures.random(rng, dtype, 16, LoraFixtures.DIM));
        for (int b = 0; b < blocks; b++) {
            for (String m : WanModuleFixture.T2V_LINEARS) {
                String p = "blocks." + b + "." + m;
                long[] s = LoraFixtures.linearShape(p);
                t.put(p + ".weight", LoraFixtures.random(rng, dtype, s));
                t.put(p + ".bias", LoraFixtures.random(rng, dtype, s[0]));
            }
            t.put("blocks." + b + ".norm3.weight", LoraFixtures.random(rng, dtype, LoraFixtures.DIM));
            t.put("blocks." + b + ".modulation", LoraFixtures.random(rng, dtype, 1, 6, LoraFixtures.DIM));
        }
        return t;
    }

    public static Path write(Path file, int blocks, DType dtype, long seed) throws IOException {
        SafetensorsWriter.write(file, tensors(blocks, dtype, seed), Map.of("fixture", "wan-like " + blocks + " blocks"));
        return file;
    }
}
