package dev.loraid.wan;

import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Wan DiT state dict: stripped key → tensor, in the file's dtype (views of the mapped file, never copies),
 * including the {@code .scale_weight} tensors of fp8-scaled weights (spec wan.md §3.3).
 */
public final class WanWeights {
    private final Map<String, Tensor> tensors;
    private final String source;

    public WanWeights(Map<String, Tensor> tensors, String source) {
        this.tensors = new LinkedHashMap<>(tensors);
        this.source = source;
    }

    /**
     * Random F32 weights of a workable scale for every key of {@code config} (no checkpoint needed: tests, demos of a
     * config): 2-D weights N(0, 1/in), norm weights 1 + N(0, 0.01), everything else N(0, 0.01); the same for a seed.
     */
    public static WanWeights random(WanConfig config, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        WanKeys.expectedShapes(config).forEach((k, shape) -> {
            boolean norm = k.contains("norm") && k.endsWith(".weight");
            double sd = shape.length == 2 && !norm ? 1 / Math.sqrt(shape[1]) : 0.1;
            float[] v = new float[Math.toIntExact(Shape.of(shape).numel())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm ? 1 : 0) + sd * r.nextGaussian());
            }
            w.put(k, Tensor.of(v, shape));
        });
        return new WanWeights(w, "random weights (seed " + seed + ")");
    }

    /** The tensor under {@code key}; throws naming the key and the file if it is absent. */
    public Tensor get(String key) {
        Tensor t = tensors.get(key);
        if (t == null) {
            throw new IllegalArgumentException(source + ": missing key " + key);
        }
        return t;
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    /** Key → shape, as {@link WanConfigInference} and {@link WanKeyCheck} read them. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.shape().toArray()));
        return m;
    }

    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    /** Where the weights came from (a file name), for messages. */
    public String source() {
        return source;
    }
}
