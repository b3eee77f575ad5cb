package dev.loraid.core;

import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Small in-memory LoRA files for tests (spec loraid.md §8: dim 8, ffn 16, rank 2). */
public final class LoraFixtures {
    public static final int DIM = 8;
    public static final int FFN = 16;

    private LoraFixtures() {
    }

    public static Tensor tensor(DType dtype, Shape shape, float... values) {
        return Floats.write(values, shape, dtype);
    }

    public static Tensor random(Random rng, DType dtype, long... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[Math.toIntExact(s.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * 0.1);
        }
        return Floats.write(v, s, dtype);
    }

    public static Tensor constant(float value, long... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[Math.toIntExact(s.numel())];
        java.util.Arrays.fill(v, value);
        return Floats.write(v, s, DType.F32);
    }

    /** [out, in] of a Wan Linear in the tiny fixture. */
    public static long[] linearShape(String module) {
        if (module.endsWith("ffn.0")) {
            return new long[] {FFN, DIM};
        }
        if (module.endsWith("ffn.2")) {
            return new long[] {DIM, FFN};
        }
        return new long[] {DIM, DIM};
    }

    /** Random musubi LoRA over every T2V Linear of blocks first..last, rank r, alpha, dtype F32. */
    public static LoraFile randomLora(String source, long seed, int first, int last, int rank, float alpha, Map<String, String> metadata) {
        Random rng = new Random(seed);
        TreeMap<String, Tensor> t = new TreeMap<>();
        for (int b = first; b <= last; b++) {
            for (String m : WanModuleFixture.T2V_LINEARS) {
                String path = "blocks." + b + "." + m;
                long[] s = linearShape(path);
                t.put(LoraKeys.key(path, LoraKeys.Part.DOWN), random(rng, DType.F32, rank, s[1]));
                t.put(LoraKeys.key(path, LoraKeys.Part.UP), random(rng, DType.F32, s[0], rank));
                t.put(LoraKeys.key(path, LoraKeys.Part.ALPHA), Tensor.scalar(alpha));
            }
        }
        return new LoraFile(source, t, metadata);
    }
}
