package dev.loraid.core.lora;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One Linear module of a LyCORIS file (KohakuBlueleaf/LyCORIS, what upstream's {@code --lycoris} loads), by its
 * algorithm's tensors: LoRA/LoCon ({@code lora_up}, {@code lora_down}), LoHa ({@code hada_w1_a/b}, {@code hada_w2_a/b}),
 * LoKr ({@code lokr_w1} or {@code lokr_w1_a/b}, {@code lokr_w2} or {@code lokr_w2_a/b}) and full ({@code diff}). Its
 * update, as LyCORIS's modules compute it in their forward:
 * <ul>
 *   <li>LoRA: {@code (α/r)·up·down}, r = down's rows;</li>
 *   <li>LoHa: {@code (α/r)·(w1a·w1b) ⊙ (w2a·w2b)}, r = w1b's rows;</li>
 *   <li>LoKr: {@code s·kron(w1, w2)} with w1 = w1a·w1b and w2 = w2a·w2b when factored; s = α/r with r the factors' rank,
 *       but 1 when both w1 and w2 are whole matrices (LyCORIS then sets α = r);</li>
 *   <li>full: {@code diff}.</li>
 * </ul>
 * α defaults to r when absent or 0. Departure: LyCORIS's own {@code merge_to} (what upstream's generation calls) applies
 * the scale twice for LoHa and LoKr ({@code get_diff_weight} scales {@code get_weight}'s already scaled result); we apply
 * it once, as its forward and other loaders (ComfyUI) do; the two agree whenever α = r or both LoKr factors are whole.
 * Tucker factors (conv), DoRA ({@code dora_scale}) and the other algorithms (IA3, OFT, BOFT, GLoRA) are refused naming
 * the tensor.
 */
public final class LycorisModule {
    private static final Set<String> SUFFIXES = Set.of("lora_up.weight", "lora_down.weight", "hada_w1_a", "hada_w1_b",
            "hada_w2_a", "hada_w2_b", "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "diff");

    private final String name;
    private final Map<String, Tensor> parts;
    private final Double alpha;
    private final String source;

    private LycorisModule(String name, Map<String, Tensor> parts, Double alpha, String source) {
        this.name = name;
        this.parts = parts;
        this.alpha = alpha;
        this.source = source;
    }

    /** The modules of {@code file}, by name ({@code lora_unet_blocks_0_self_attn_q}), each checked to be complete. */
    public static Map<String, LycorisModule> read(LoraFile file) {
        Map<String, Map<String, Tensor>> byModule = new TreeMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
            String key = e.getKey();
            // kohya names (lora_unet_blocks_0_self_attn_q.lokr_w1) or dotted ones (diffusion_model.blocks.0.self_attn.q.…)
            String part = partOf(key);
            if (part == null) {
                throw new LoraidException(file.source() + ": " + key + ": not a LyCORIS module tensor (<module>.<part>)");
            }
            String module = key.substring(0, key.length() - part.length() - 1);
            if (part.equals("alpha")) {
                if (e.getValue().numel() != 1) {
                    throw new LoraidException(file.source() + ": " + key + ": alpha must be one number, got shape "
                        + e.getValue().shape());
                }
                Floats.requireFinite(file.source(), key, e.getValue());
                alphas.put(module, e.getValue().to(Device.CPU).toDoubleArray()[0]);
            } else if (SUFFIXES.contains(part)) {
                Floats.requireFinite(file.source(), key, e.getValue());
                byModule.computeIfAbsent(module, k -> new LinkedHashMap<>()).put(part, e.getValue());
            } else {
                throw new LoraidException(file.source() + ": " + key + ": " + refusal(part));
            }
        }
        Map<String, LycorisModule> out = new LinkedHashMap<>();
        byModule.forEach((module, parts) -> {
            LycorisModule m = new LycorisModule(module, parts, alphas.get(module), file.source());
            m.algorithm(); // complete?
            out.put(module, m);
        });
        return out;
    }

    /**
     * Whether {@code file} holds LoHa, LoKr or full tensors, which only a merge applies and only LyCORIS readers take
     * (upstream's {@code detect_network_type}).
     */
    public static boolean holdsLycoris(LoraFile file) {
        return holdsLycoris(file.tensors().keySet());
    }

    /** {@link #holdsLycoris(LoraFile)} from the tensor names alone (e.g. a header). */
    public static boolean holdsLycoris(Collection<String> keys) {
        for (String key : keys) {
            String part = partOf(key);
            String algorithm = part == null ? null : algorithmOf(part);
            if (algorithm != null && !algorithm.equals("lora")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The part a tensor name ends in: one of LyCORIS's ({@code lokr_w1}, {@code lora_up.weight}, {@code alpha}, …, the
     * refused ones too), else the text after the last dot; null without a dot.
     */
    public static String partOf(String key) {
        for (String known : List.of("lora_up.weight", "lora_down.weight", "lora_mid.weight")) {
            if (key.endsWith("." + known)) {
                return known;
            }
        }
        int dot = key.lastIndexOf('.');
        return dot <= 0 ? null : key.substring(dot + 1);
    }

    /**
     * The algorithm a module part belongs to: lora, loha, lokr or full; null for any other part (alpha, DoRA, other
     * algorithms' tensors).
     */
    public static String algorithmOf(String part) {
        if (part.equals("lora_up.weight") || part.equals("lora_down.weight")) {
            return "lora";
        }
        return part.startsWith("hada_w") ? "loha" : part.startsWith("lokr_w") ? "lokr" : part.equals("diff") ? "full" : null;
    }

    private static String refusal(String part) {
        if (part.equals("dora_scale")) {
            return "DoRA (weight decomposition) is not supported";
        }
        if (part.startsWith("lokr_t") || part.startsWith("hada_t") || part.startsWith("lora_mid")) {
            return "Tucker factors (conv layers) are not supported: the Wan DiT's adapted layers are Linear";
        }
        if (part.equals("diff_b") || part.equals("bias")) {
            return "bias updates are not supported";
        }
        return "not a tensor of LyCORIS's LoRA, LoHa, LoKr or full algorithms (IA3, OFT, BOFT and GLoRA are not supported)";
    }

    public String name() {
        return name;
    }

    /** The dotted module path, e.g. {@code blocks.3.self_attn.q} (from a kohya or a dotted diffusers/ComfyUI name). */
    public String modulePath() {
        return LoraKeys.anyModulePath(name);
    }

    /** lora, loha, lokr or full, from the tensors present. */
    public String algorithm() {
        // read() keeps only the four algorithms' parts; should a module have several, the first of this order wins
        String algorithm = Stream.of("lora", "loha", "lokr", "full")
            .filter(a -> parts.keySet().stream().anyMatch(p -> a.equals(algorithmOf(p)))).findFirst().orElseThrow();
        switch (algorithm) {
            case "lora" -> require("lora_up.weight", "lora_down.weight");
            case "loha" -> require("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b");
            case "lokr" -> {
                if (!has("lokr_w1")) {
                    require("lokr_w1_a", "lokr_w1_b");
                }
                if (!has("lokr_w2")) {
                    require("lokr_w2_a", "lokr_w2_b");
                }
            }
            default -> { }
        }
        return algorithm;
    }

    /**
     * {@code w ← w + factor · ΔW}, with {@code w} the layer's fp32 weight [out, in] on the host.
     *
     * @throws LoraidException naming the module when ΔW's shape is not the layer's
     */
    public void addTo(Tensor w, double factor) {
        // the shape from the factors' shapes first: a file must not make us form a product the weight cannot take
        long[] expected = updateDims();
        if (expected != null && !Shape.of(expected).equals(w.shape())) {
            throw new LoraidException(source + ": " + name + ": its " + algorithm() + " update has shape "
                    + Shape.of(expected) + " but the layer's weight is " + w.shape());
        }
        Delta d = switch (algorithm()) {
            case "lora" -> new Delta(product(f32("lora_up.weight"), f32("lora_down.weight")), scale(f32("lora_down.weight").size(0)));
            case "loha" -> hadamard();
            case "lokr" -> kron();
            default -> new Delta(f32("diff"), 1.0);
        };
        if (!d.unscaled().shape().equals(w.shape())) {
            throw new LoraidException(source + ": " + name + ": its " + algorithm() + " update has shape "
                    + d.unscaled().shape() + " but the layer's weight is " + w.shape());
        }
        // the scale joins the factor: one pass over the weight for the whole update
        w.backend().addScaled(w, 1.0, d.unscaled(), factor * d.scale(), w);
    }

    /**
     * ΔW's [rows, columns] from the parts' shapes alone (1×1 conv shapes read as matrices), or null when the factors are
     * not matrices that multiply (the update's own computation then says which).
     */
    private long[] updateDims() {
        try {
            return switch (algorithm()) {
                case "lora" -> productDims("lora_up.weight", "lora_down.weight");
                case "loha" -> {
                    long[] a = productDims("hada_w1_a", "hada_w1_b");
                    yield a != null && java.util.Arrays.equals(a, productDims("hada_w2_a", "hada_w2_b")) ? a : null;
                }
                case "lokr" -> {
                    long[] w1 = has("lokr_w1") ? matrixDims("lokr_w1") : productDims("lokr_w1_a", "lokr_w1_b");
                    long[] w2 = has("lokr_w2") ? matrixDims("lokr_w2") : productDims("lokr_w2_a", "lokr_w2_b");
                    yield w1 == null || w2 == null ? null
                            : new long[] {Math.multiplyExact(w1[0], w2[0]), Math.multiplyExact(w1[1], w2[1])};
                }
                default -> matrixDims("diff");
            };
        } catch (ArithmeticException e) {
            throw new LoraidException(source + ": " + name + ": its " + algorithm() + " factors make an update too large "
                    + "to form", e);
        }
    }

    /** A part's [rows, columns] (a [r, c, 1, 1] conv shape read as [r, c]), or null when it is no matrix. */
    private long[] matrixDims(String part) {
        Shape s = parts.get(part).shape();
        if (s.rank() == 4 && s.dim(2) == 1 && s.dim(3) == 1) {
            return new long[] {s.dim(0), s.dim(1)};
        }
        return s.rank() == 2 ? new long[] {s.dim(0), s.dim(1)} : null;
    }

    /** The [rows, columns] of left·right from their shapes, or null when they do not multiply. */
    private long[] productDims(String left, String right) {
        long[] l = matrixDims(left);
        long[] r = matrixDims(right);
        return l == null || r == null || l[1] != r[0] ? null : new long[] {l[0], r[1]};
    }

    /** ΔW = scale · unscaled. */
    private record Delta(Tensor unscaled, double scale) {
    }

    private Delta hadamard() {
        Tensor a = product(f32("hada_w1_a"), f32("hada_w1_b"));
        Tensor b = product(f32("hada_w2_a"), f32("hada_w2_b"));
        if (!a.shape().equals(b.shape())) {
            throw new LoraidException(source + ": " + name + ": hada_w1 gives " + a.shape() + ", hada_w2 " + b.shape());
        }
        a.backend().binary(BinaryOp.MUL, a, b, a);
        return new Delta(a, scale(f32("hada_w1_b").size(0)));
    }

    private Delta kron() {
        boolean wholeW1 = has("lokr_w1");
        boolean wholeW2 = has("lokr_w2");
        Tensor w1 = wholeW1 ? f32("lokr_w1") : product(f32("lokr_w1_a"), f32("lokr_w1_b"));
        Tensor w2 = wholeW2 ? f32("lokr_w2") : product(f32("lokr_w2_a"), f32("lokr_w2_b"));
        if (w1.rank() != 2 || w2.rank() != 2) {
            throw new LoraidException(source + ": " + name + ": LoKr factors " + w1.shape() + " and " + w2.shape()
                    + " are not matrices (conv LoKr is not supported)");
        }
        long rank = !wholeW1 ? f32("lokr_w1_a").size(1) : !wholeW2 ? f32("lokr_w2_a").size(1) : 1;
        long a = w1.size(0);
        long c = w1.size(1);
        long b = w2.size(0);
        long d = w2.size(1);
        // kron(w1, w2)[i·b + k, j·d + l] = w1[i, j] · w2[k, l]: a broadcast product [a, 1, c, 1] · [1, b, 1, d]
        Tensor out = Tensor.empty(DType.F32, a, b, c, d);
        out.backend().binary(BinaryOp.MUL, w1.reshape(a, 1, c, 1), w2.reshape(1, b, 1, d), out);
        return new Delta(out.reshape(a * b, c * d), wholeW1 && wholeW2 ? 1.0 : scale(rank));
    }

    /** α/r, α defaulting to r when absent or 0. */
    private double scale(long rank) {
        double a = alpha == null || alpha == 0 ? rank : alpha;
        return a / rank;
    }

    private Tensor product(Tensor left, Tensor right) {
        if (left.rank() != 2 || right.rank() != 2 || left.size(1) != right.size(0)) {
            throw new LoraidException(source + ": " + name + ": factors " + left.shape() + " and " + right.shape()
                + " do not multiply");
        }
        Tensor out = Tensor.empty(DType.F32, left.size(0), right.size(1));
        out.backend().matmul(left, right, out, 1.0, 0.0, null); // beta 0: out is written, not read
        return out;
    }

    private Tensor f32(String part) {
        Tensor t = parts.get(part).to(Device.CPU).to(DType.F32);
        return t.rank() == 4 && t.size(2) == 1 && t.size(3) == 1 ? t.reshape(t.size(0), t.size(1)) : t.contiguous();
    }

    private boolean has(String part) {
        return parts.containsKey(part);
    }

    private void require(String... names) {
        for (String n : names) {
            if (!has(n)) {
                throw new LoraidException(source + ": " + name + " has " + parts.keySet() + " but no " + n);
            }
        }
    }
}
