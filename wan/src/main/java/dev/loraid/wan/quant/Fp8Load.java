package dev.loraid.wan.quant;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * musubi's fp8 at load time (spec training.md §3.4 {@code --fp8_base} / {@code --fp8_scaled}, wan_generate_video.py's
 * {@code --fp8} / {@code --fp8_scaled}; wan.md §3.3): the Linear weights inside the blocks are stored as float8_e4m3fn
 * on the device, everything else as in the file. The model then runs them as it runs an fp8 or fp8-scaled file
 * ({@code WanLinear}: the weight up-cast per call, the scale applied).
 */
public enum Fp8Load {
    /** Weights as stored. */
    NONE,
    /** {@code --fp8_base} / {@code --fp8}: cast to E4M3 without a scale (values beyond ±448 saturate). */
    CAST,
    /**
     * With {@code --fp8_scaled}: block-wise, {@code scale[o, j] = max|W[o, 64j .. 64j+63]| / 448} (at least 1e-8, in
     * fp32), {@code Wq = e4m3(clamp(W / scale, ±448))}; one scale per output row when the input width is not a
     * multiple of 64. The scale is stored under {@code <module>.scale_weight} [out, in/64, 1] (or [out, 1]) in the
     * weight's dtype, as upstream.
     */
    SCALED;

    /** Largest finite E4M3 value. */
    static final float E4M3_MAX = 448f;
    /** Whether {@code key} (prefix stripped) is a weight these modes store in fp8: a 2-D {@link Fp8Scales#isTarget}. */
    public static boolean isTarget(String key, long[] shape) {
        return shape.length == 2 && Fp8Scales.isTarget(key);
    }

    /**
     * {@code tensors} with every target weight replaced by its fp8 form (and, for {@link #SCALED}, its scale added); the
     * new tensors are owned (outside any memory scope), the others are the given ones. {@code where} names the file in
     * errors.
     *
     * @throws IllegalArgumentException for {@link #SCALED} on a file whose weights are already fp8 (upstream refuses
     *                                  it too), naming the first such weight
     */
    public Map<String, Tensor> apply(Map<String, Tensor> tensors, String where) {
        return apply(tensors, where, null);
    }

    /**
     * As {@link #apply(Map, String)}, each tensor first passed through {@code atLoad} (key, tensor → the tensor to
     * keep; null: none), so that an update merged at load (upstream's LoRA/LyCORIS merge before its fp8 optimisation)
     * is quantised with the weight. The transformed tensors are owned too.
     */
    public Map<String, Tensor> apply(Map<String, Tensor> tensors, String where, BiFunction<String, Tensor, Tensor> atLoad) {
        if (this == NONE && atLoad == null) {
            return tensors;
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (MemoryScope outside = MemoryScope.suspend()) {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String key = e.getKey();
                Tensor w = atLoad == null ? e.getValue() : atLoad.apply(key, e.getValue());
                if (this == NONE) {
                    out.put(key, w);
                    continue;
                }
                if (!isTarget(key, w.shape().toArray())) {
                    out.put(key, w);
                    continue;
                }
                boolean fp8 = w.dtype() == DType.F8_E4M3 || w.dtype() == DType.F8_E5M2;
                if (this == SCALED && (fp8 || tensors.containsKey(scaleKey(key)))) {
                    throw new IllegalArgumentException(where + ": " + key + " is already " + (fp8 ? w.dtype().safetensorsName()
                            : "fp8-scaled") + ": fp8 scaling at load needs a bf16, fp16 or fp32 checkpoint");
                }
                if (this == CAST) {
                    out.put(key, fp8 ? w : w.to(DType.F8_E4M3));
                } else {
                    Quantized q = quantize(w);
                    out.put(key, q.weight());
                    out.put(scaleKey(key), q.scale().to(w.dtype()));
                }
            }
        }
        return out;
    }

    private static String scaleKey(String weightKey) {
        return weightKey.substring(0, weightKey.length() - ".weight".length()) + Fp8Scales.SCALE_SUFFIX;
    }

    /** An E4M3 weight and its F32 scale ([out, in/64, 1] or [out, 1]). */
    record Quantized(Tensor weight, Tensor scale) {
    }

    /** The block-wise (or per-row) quantisation of one 2-D weight, as described on {@link #SCALED}. */
    static Quantized quantize(Tensor w) {
        int rows = Math.toIntExact(w.size(0));
        int cols = Math.toIntExact(w.size(1));
        int block = cols % Fp8Scales.BLOCK == 0 ? Fp8Scales.BLOCK : cols;
        int blocks = cols / block;
        float[] v = w.contiguous().toFloatArray();
        float[] scales = new float[rows * blocks];
        byte[] q = new byte[v.length];
        for (int o = 0; o < rows; o++) {
            for (int j = 0; j < blocks; j++) {
                int from = o * cols + j * block;
                float max = 0;
                for (int i = from; i < from + block; i++) {
                    max = Math.max(max, Math.abs(v[i]));
                }
                float s = Math.max(max / E4M3_MAX, 1e-8f);
                scales[o * blocks + j] = s;
                for (int i = from; i < from + block; i++) {
                    q[i] = MiniFloats.floatToE4m3(Math.clamp(v[i] / s, -E4M3_MAX, E4M3_MAX));
                }
            }
        }
        Tensor weight = Tensor.empty(DType.F8_E4M3, rows, cols);
        MemorySegment.copy(q, 0, weight.storage().segment(), ValueLayout.JAVA_BYTE, 0, q.length);
        Tensor scale = block == cols ? Tensor.of(scales, rows, 1) : Tensor.of(scales, rows, blocks, 1);
        return new Quantized(weight, scale);
    }
}
