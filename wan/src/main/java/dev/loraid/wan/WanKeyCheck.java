package dev.loraid.wan;

import dev.loraid.wan.quant.Fp8Scales;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Compares a checkpoint's key table with the one a config expects (spec wan.md §3): every missing, unexpected and
 * mis-shaped key is reported by name. musubi loads strictly, so the key set must match exactly; the only extras
 * allowed are the {@code .scale_weight} tensors of fp8-scaled weights (§3.3).
 */
public final class WanKeyCheck {
    private WanKeyCheck() {
    }

    /** Throws one message listing every problem (at most a few of each kind) if the key table does not fit. */
    public static void requireMatches(WanConfig config, Map<String, long[]> shapes, String source) {
        List<String> problems = problems(config, shapes);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + " does not match " + config.describe() + ": "
                    + String.join("; ", problems));
        }
    }

    /** The problems, one line per kind; empty when the checkpoint fits the config. */
    public static List<String> problems(WanConfig config, Map<String, long[]> shapes) {
        Map<String, long[]> expected = WanKeys.expectedShapes(config);
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] got = shapes.get(e.getKey());
            if (got == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(got, e.getValue())) {
                misShaped.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", got "
                        + Arrays.toString(got));
            }
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String k = e.getKey();
            if (expected.containsKey(k)) {
                continue;
            }
            if (k.endsWith(WanKeys.SCALE_SUFFIX)) {
                String weight = k.substring(0, k.length() - WanKeys.SCALE_SUFFIX.length()) + ".weight";
                long[] w = expected.get(weight);
                if (w != null && Fp8Scales.isTarget(weight)) {
                    if (!Fp8Scales.isValidScaleShape(e.getValue(), w)) {
                        misShaped.add(k + ": expected a scale of shape [" + w[0] + ", " + w[1] / Fp8Scales.BLOCK
                                + ", 1], [" + w[0] + ", 1] or [1], got " + Arrays.toString(e.getValue()));
                    }
                    continue;
                }
            }
            unexpected.add(k);
        }
        List<String> out = new ArrayList<>();
        add(out, "missing", missing);
        add(out, "mis-shaped", misShaped);
        add(out, "unexpected", unexpected);
        return out;
    }

    private static void add(List<String> out, String kind, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        int shown = Math.min(keys.size(), 5);
        String more = keys.size() > shown ? " … (" + keys.size() + " in all)" : "";
        out.add(kind + " " + String.join(", ", keys.subList(0, shown)) + more);
    }
}
