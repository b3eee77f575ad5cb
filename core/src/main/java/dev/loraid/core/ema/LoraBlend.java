package dev.loraid.core.ema;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Stage 2 of {@code loraid ema}: cross-LoRA blending (spec loraid.md §5.3, REQ-AVG-1..4). Every output is computed
 * from the unblended inputs. By default only keys shared by at least two inputs take part, alpha is never blended
 * and no key is created, so disjoint LORAID LoRAs pass through unchanged (D-30); {@code referenceCompat} restores the
 * reference (zero-filled key union, alpha blended, per-tensor democratic decisions).
 */
public final class LoraBlend {
    public enum Mode {
        INTELLIGENT, DEMOCRATIC;

        public String metadataName() {
            return name().toLowerCase();
        }
    }

    /** @param factor b ∈ [0, 1]; @param conflictThreshold T of intelligent mode (reference: 0.1) */
    public record Options(double factor, Mode mode, double conflictThreshold, boolean referenceCompat) {
    }

    /** Layer types of democratic mode, by key substring, first match wins (REQ-AVG-3). */
    enum LayerType {
        TEXT_TO_IMAGE, SPATIAL, FEATURE_PROCESSING, NORMALIZATION, GENERAL;

        static LayerType of(String key) {
            if (key.contains("cross_attn")) {
                return TEXT_TO_IMAGE;
            } else if (key.contains("self_attn")) {
                return SPATIAL;
            } else if (key.contains("ffn") || key.contains("mlp")) {
                return FEATURE_PROCESSING;
            } else if (key.contains("norm")) {
                return NORMALIZATION;
            }
            return GENERAL;
        }
    }

    // the reference's constants (REQ-AVG-3, verified)
    static final double GATE = 0.1;
    static final double SPATIAL_GATE = 0.2;
    static final double LEADER_FACTOR = 1.5;
    static final double CONCEPT_RATIO_CAP = 0.5;
    static final double SPATIAL_FACTOR = 0.5;
    static final double FFN_FACTOR = 0.7;

    private final List<LoraFile> inputs;
    private final List<String> names;
    private final Options options;
    private final Reporter reporter;
    private final List<Map<String, float[]>> values = new ArrayList<>();
    private final Map<String, Integer> leaderCache = new HashMap<>();

    private LoraBlend(List<LoraFile> inputs, List<String> names, Options options, Reporter reporter) {
        this.inputs = inputs;
        this.names = names;
        this.options = options;
        this.reporter = reporter;
        for (int i = 0; i < inputs.size(); i++) {
            values.add(new HashMap<>());
        }
    }

    /** One blended copy per input, in input order, with {@code ss_loraid_blend_mode}/{@code _factor} metadata. */
    public static List<LoraFile> blend(List<LoraFile> inputs, List<String> names, Options options, Reporter reporter) {
        double b = options.factor();
        if (!(b >= 0 && b <= 1)) {
            throw new LoraidException(named(param("EmaRequest.average"), " must be in [0, 1], got " + b));
        }
        if (inputs.size() < 2 || b == 0) {
            if (b > 0) {
                reporter.warn(named(param("EmaRequest.average"), " " + b
                        + " ignored: blending needs at least two LoRA series"));
            }
            return inputs;
        }
        if (b > 0.5) {
            reporter.warn(named(param("EmaRequest.average"), " " + b
                    + " > 0.5 mixes in more of the other LoRAs' mean than of each LoRA itself "
                    + "(with two LoRAs 1.0 swaps them; 0.5 is the plain average)"));
        }
        warnGates(options, reporter);
        return new LoraBlend(inputs, names, options, reporter).run();
    }

    private static void warnGates(Options o, Reporter reporter) {
        double b = o.factor();
        if (o.mode() == Mode.INTELLIGENT && b < GATE) {
            reporter.warn(named("intelligent blending does nothing below ", param("EmaRequest.average"), " " + GATE
                    + " (got " + b + ")"));
        } else if (o.mode() == Mode.DEMOCRATIC && b < GATE) {
            reporter.warn(named("democratic blending does nothing below ", param("EmaRequest.average"), " " + GATE
                    + " (got " + b + ")"));
        } else if (o.mode() == Mode.DEMOCRATIC && b < SPATIAL_GATE) {
            reporter.warn(named("democratic blending leaves self-attention unchanged below ",
                    param("EmaRequest.average"), " " + SPATIAL_GATE + " (got " + b + ")"));
        }
    }

    private List<LoraFile> run() {
        TreeSet<String> universe = new TreeSet<>();
        inputs.forEach(f -> universe.addAll(f.tensors().keySet()));
        List<Map<String, Tensor>> outs = new ArrayList<>();
        inputs.forEach(f -> outs.add(new TreeMap<>(f.tensors())));
        int shared = 0;
        for (String key : universe) {
            List<Integer> holders = holders(key);
            boolean alpha = key.endsWith(LoraKeys.Part.ALPHA.musubiSuffix());
            if (options.referenceCompat()) {
                shared += blendKey(key, allIndices(), outs) ? 1 : 0;
            } else if (holders.size() >= 2 && !alpha && consistentModule(key, holders)) {
                shared += blendKey(key, holders, outs) ? 1 : 0;
            }
        }
        if (shared == 0 && !options.referenceCompat()) {
            reporter.warn(named("inputs share no modules; ", param("EmaRequest.average"),
                    " has no effect on disjoint LORAID LoRAs"));
        }
        List<LoraFile> result = new ArrayList<>();
        long changedAll = 0;
        long totalAll = 0;
        for (int i = 0; i < inputs.size(); i++) {
            int changed = 0;
            for (var e : outs.get(i).entrySet()) {
                Tensor before = inputs.get(i).tensors().get(e.getKey());
                changed += before == null || !sameValues(before, e.getValue()) ? 1 : 0;
            }
            int total = outs.get(i).size();
            reporter.info(names.get(i) + ": " + changed + " tensors changed, " + (total - changed) + " unchanged");
            changedAll += changed;
            totalAll += total;
            Map<String, String> meta = new LinkedHashMap<>(inputs.get(i).metadata());
            meta.put("ss_loraid_blend_mode", options.mode().metadataName());
            meta.put("ss_loraid_blend_factor", Double.toString(options.factor()));
            result.add(new LoraFile(inputs.get(i).source(), new TreeMap<>(outs.get(i)), meta));
        }
        reporter.info(String.format("blending changed %.1f%% of %d tensors", totalAll == 0 ? 0 : 100.0 * changedAll / totalAll, totalAll));
        return result;
    }

    private List<Integer> holders(String key) {
        List<Integer> h = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).tensors().containsKey(key)) {
                h.add(i);
            }
        }
        return h;
    }

    private List<Integer> allIndices() {
        List<Integer> h = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            h.add(i);
        }
        return h;
    }

    /** Same shapes for this key and the same alpha for its module in every holder (REQ-AVG-1, D-25); else warns. */
    private boolean consistentModule(String key, List<Integer> holders) {
        Tensor first = inputs.get(holders.getFirst()).tensors().get(key);
        LoraKeys.Key parsed = LoraKeys.parse(key);
        String alphaKey = parsed == null ? null : parsed.loraName() + LoraKeys.Part.ALPHA.musubiSuffix();
        Double alpha0 = alphaOf(holders.getFirst(), alphaKey);
        for (int i : holders) {
            Tensor t = inputs.get(i).tensors().get(key);
            Double a = alphaOf(i, alphaKey);
            boolean alphaSame = alpha0 == null ? a == null : a != null && Math.abs(a - alpha0) <= 1e-8 + 1e-5 * Math.abs(alpha0);
            if (!t.shape().equals(first.shape()) || !alphaSame) {
                reporter.warn(key + " differs in shape or alpha between " + names.get(holders.getFirst()) + " and " + names.get(i)
                        + " (" + first.shape() + " alpha " + alpha0 + " vs " + t.shape() + " alpha " + a + "): copied unchanged");
                return false;
            }
        }
        return true;
    }

    private Double alphaOf(int input, String alphaKey) {
        Tensor t = alphaKey == null ? null : inputs.get(input).tensors().get(alphaKey);
        return t == null ? null : (double) Floats.read(t)[0];
    }

    /** Writes the blended value of {@code key} for every holder; returns whether any rule applied. */
    private boolean blendKey(String key, List<Integer> holders, List<Map<String, Tensor>> outs) {
        boolean any = false;
        for (int i : holders) {
            List<Integer> others = new ArrayList<>(holders);
            others.remove(Integer.valueOf(i));
            float[] p = value(i, key);
            float[] out = switch (options.mode()) {
                case INTELLIGENT -> intelligent(p, mean(others, key), options.factor(), options.conflictThreshold());
                case DEMOCRATIC -> democratic(key, i, others, p);
            };
            if (out != null) {
                Tensor like = tensorOrTemplate(i, key);
                outs.get(i).put(key, Floats.write(out, like.shape(), like.dtype()));
                any = true;
            }
        }
        return any;
    }

    /** REQ-AVG-2: element-wise, keep P where |P − A| > T (a conflict), else (1 − b)·P + b·A. Null when b < 0.1. */
    static float[] intelligent(float[] p, float[] a, double b, double threshold) {
        if (b < GATE) {
            return null;
        }
        float[] out = new float[p.length];
        for (int j = 0; j < p.length; j++) {
            out[j] = Math.abs(p[j] - a[j]) > threshold ? p[j] : (float) ((1 - b) * p[j] + b * a[j]);
        }
        return out;
    }

    /** REQ-AVG-3; null when the layer type's gate leaves the tensor unchanged. */
    private float[] democratic(String key, int i, List<Integer> others, float[] p) {
        double b = options.factor();
        return switch (LayerType.of(key)) {
            case TEXT_TO_IMAGE -> {
                if (b < GATE) {
                    yield null;
                }
                int leader = leader(key, i, others);
                yield leader >= 0 ? mix(p, value(leader, key), Math.min(2 * b, CONCEPT_RATIO_CAP)) : mix(p, mean(others, key), b);
            }
            case SPATIAL -> b < SPATIAL_GATE ? null : mix(p, mean(others, key), b * SPATIAL_FACTOR);
            case FEATURE_PROCESSING -> b < GATE ? null : mix(p, mean(others, key), b * FFN_FACTOR);
            case NORMALIZATION, GENERAL -> null;
        };
    }

    /**
     * The "concept leader" for input {@code i}: the other with the largest magnitude strictly above i's (first wins
     * ties), kept only if it exceeds 1.5× i's magnitude; −1 if none. Decided once per module from
     * ‖U‖·‖D‖·alpha/rank so up and down follow the same branch (D-33); per tensor under reference compatibility.
     */
    private int leader(String key, int i, List<Integer> others) {
        LoraKeys.Key parsed = LoraKeys.parse(key);
        boolean perModule = !options.referenceCompat() && parsed != null;
        String unit = perModule ? parsed.loraName() : key;
        return leaderCache.computeIfAbsent(i + "|" + unit, k -> {
            double own = perModule ? moduleMagnitude(i, parsed.loraName(), key) : norm(value(i, key));
            int best = -1;
            double bestMag = own;
            for (int j : others) {
                double m = perModule ? moduleMagnitude(j, parsed.loraName(), key) : norm(value(j, key));
                if (m > bestMag) {
                    best = j;
                    bestMag = m;
                }
            }
            return best >= 0 && bestMag > LEADER_FACTOR * own ? best : -1;
        });
    }

    private double moduleMagnitude(int input, String loraName, String key) {
        Map<String, Tensor> t = inputs.get(input).tensors();
        String down = loraName + LoraKeys.Part.DOWN.musubiSuffix();
        String up = loraName + LoraKeys.Part.UP.musubiSuffix();
        if (!t.containsKey(down) || !t.containsKey(up)) {
            return norm(value(input, key));
        }
        Tensor alpha = t.get(loraName + LoraKeys.Part.ALPHA.musubiSuffix());
        double rank = t.get(down).size(0);
        double scale = alpha == null ? 1 : Floats.read(alpha)[0] / rank;
        return norm(value(input, up)) * norm(value(input, down)) * scale;
    }

    private static float[] mix(float[] p, float[] o, double r) {
        float[] out = new float[p.length];
        for (int j = 0; j < p.length; j++) {
            out[j] = (float) ((1 - r) * p[j] + r * o[j]);
        }
        return out;
    }

    private float[] mean(List<Integer> others, String key) {
        float[] first = value(others.getFirst(), key);
        double[] acc = new double[first.length];
        for (int j : others) {
            float[] v = value(j, key);
            for (int e = 0; e < acc.length; e++) {
                acc[e] += v[e];
            }
        }
        float[] out = new float[acc.length];
        for (int e = 0; e < acc.length; e++) {
            out[e] = (float) (acc[e] / others.size());
        }
        return out;
    }

    /** Frobenius norm, accumulated in float32 as the reference does. */
    static double norm(float[] v) {
        float s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** Input i's value for key as fp32; zeros of another input's shape if i lacks it (reference zero-fill). */
    private float[] value(int i, String key) {
        return values.get(i).computeIfAbsent(key, k -> {
            Tensor t = inputs.get(i).tensors().get(k);
            return t != null ? Floats.read(t) : new float[Math.toIntExact(tensorOrTemplate(i, k).numel())];
        });
    }

    private Tensor tensorOrTemplate(int i, String key) {
        Tensor t = inputs.get(i).tensors().get(key);
        if (t != null) {
            return t;
        }
        return inputs.get(holders(key).getFirst()).tensors().get(key);
    }

    private static boolean sameValues(Tensor a, Tensor b) {
        if (a == b) {
            return true;
        }
        float[] x = Floats.read(a);
        float[] y = Floats.read(b);
        for (int j = 0; j < x.length; j++) {
            if (Math.abs(x[j] - y[j]) > 1e-6 * Math.abs(x[j])) {
                return false;
            }
        }
        return true;
    }
}
