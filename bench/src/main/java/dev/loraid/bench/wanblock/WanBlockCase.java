package dev.loraid.bench.wanblock;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.RopeTables;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The operands of one Wan block call, shared by both implementations: block-relative weights (spec wan.md §3.2 keys
 * without {@code blocks.0.}), the token stream x [L, D], e0 [1, 6, D], the embedded context [text_len, D] and the
 * RoPE angles of the token grid, all F32 with a fixed seed. Weight scales keep activations O(1) as in a trained
 * model (Linear weights N(0, 1/in), norms 1 + N(0, 0.1²)).
 */
public record WanBlockCase(WanConfig config, int[] grid, Map<String, float[]> weights, Map<String, long[]> shapes,
                           float[] x, float[] e0, float[] context, float[] ropeCos, float[] ropeSin) {

    public static WanBlockCase random(WanConfig c, int[] grid, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        String prefix = "blocks.0.";
        WanKeys.expectedShapes(c).forEach((key, shape) -> {
            if (!key.startsWith(prefix)) {
                return;
            }
            String name = key.substring(prefix.length());
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            boolean norm = name.contains("norm");
            double sd = name.endsWith(".weight") && shape.length == 2 ? 1 / Math.sqrt(shape[1]) : 0.1;
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm && name.endsWith(".weight") ? 1 : 0) + sd * rnd.nextGaussian());
            }
            weights.put(name, v);
            shapes.put(name, shape);
        });
        int tokens = grid[0] * grid[1] * grid[2];
        RopeTables rope = RopeTables.of(c.headDim(), grid[0], grid[1], grid[2]);
        return new WanBlockCase(c, grid, weights, shapes, normal(rnd, tokens * c.dim(), 1.0),
                normal(rnd, 6 * c.dim(), 0.1), normal(rnd, c.textLen() * c.dim(), 1.0),
                floats(rope.cos()), floats(rope.sin()));
    }

    public int tokens() {
        return grid[0] * grid[1] * grid[2];
    }

    /** A weight as a contiguous F32 tensor. */
    public Tensor tensor(String name) {
        return Tensor.of(weights.get(name), shapes.get(name));
    }

    private static float[] normal(SplittableRandom rnd, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (sd * rnd.nextGaussian());
        }
        return v;
    }

    private static float[] floats(Tensor t) {
        return t.to(DType.F32).toFloatArray();
    }
}
