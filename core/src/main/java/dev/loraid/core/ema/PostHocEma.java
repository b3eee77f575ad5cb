package dev.loraid.core.ema;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Stage 1 of {@code loraid ema}: post-hoc EMA over the epoch files of one run, oldest first (spec loraid.md
 * REQ-EMA-6..8, REQ-META-5). Floating tensors are averaged in fp32 and cast back to the oldest file's dtype;
 * {@code .alpha} is never averaged, only checked; key sets and LORAIDs must agree across all files.
 */
public final class PostHocEma {
    private PostHocEma() {
    }

    public static LoraFile average(List<LoraFile> oldestFirst, EmaSchedule schedule, Reporter reporter) {
        LoraFile f0 = oldestFirst.getFirst();
        checkKeySets(oldestFirst);
        Map<String, String> metadata = mergedMetadata(oldestFirst);
        if (oldestFirst.size() == 1) {
            return new LoraFile(f0.source(), f0.tensors(), metadata);
        }
        double[] betas = schedule.betas(oldestFirst.size());
        reporter.info(schedule.describe() + ": betas " + Arrays.toString(betas) + ", file weights "
                + Arrays.toString(EmaSchedule.effectiveWeights(betas)));
        TreeMap<String, Tensor> out = new TreeMap<>();
        List<String> copied = new ArrayList<>();
        for (var e : f0.tensors().entrySet()) {
            String key = e.getKey();
            Tensor t0 = e.getValue();
            for (LoraFile f : oldestFirst) {
                Tensor t = f.tensors().get(key);
                if (!t.shape().equals(t0.shape())) {
                    throw new LoraidException(key + " has shape " + t.shape() + " in " + f.source() + " but " + t0.shape()
                            + " in " + f0.source());
                }
            }
            if (key.endsWith(LoraKeys.Part.ALPHA.musubiSuffix())) {
                checkAlpha(key, oldestFirst);
                out.put(key, t0);
            } else if (!t0.dtype().isFloatingPoint()) {
                copied.add(key);
                out.put(key, t0);
            } else {
                float[] s = Floats.read(t0);
                for (int k = 1; k < oldestFirst.size(); k++) {
                    float[] x = Floats.read(oldestFirst.get(k).tensors().get(key));
                    double beta = betas[k - 1];
                    for (int j = 0; j < s.length; j++) {
                        s[j] = (float) (beta * s[j] + (1 - beta) * x[j]);
                    }
                }
                out.put(key, Floats.write(s, t0.shape(), t0.dtype()));
            }
        }
        if (!copied.isEmpty()) {
            reporter.info("non-floating tensors copied from " + f0.source() + ": " + copied);
        }
        return new LoraFile(f0.source(), out, metadata);
    }

    private static void checkKeySets(List<LoraFile> files) {
        TreeSet<String> keys0 = new TreeSet<>(files.getFirst().tensors().keySet());
        for (LoraFile f : files.subList(1, files.size())) {
            TreeSet<String> missing = new TreeSet<>(keys0);
            missing.removeAll(f.tensors().keySet());
            TreeSet<String> extra = new TreeSet<>(f.tensors().keySet());
            extra.removeAll(keys0);
            if (!missing.isEmpty() || !extra.isEmpty()) {
                throw new LoraidException(f.source() + " does not have the keys of " + files.getFirst().source()
                        + (missing.isEmpty() ? "" : ": missing " + firstTen(missing)) + (extra.isEmpty() ? "" : ": extra " + firstTen(extra)));
            }
        }
    }

    private static String firstTen(TreeSet<String> keys) {
        List<String> l = new ArrayList<>(keys).subList(0, Math.min(10, keys.size()));
        return l + (keys.size() > 10 ? " and " + (keys.size() - 10) + " more" : "");
    }

    private static void checkAlpha(String key, List<LoraFile> files) {
        float a0 = Floats.read(files.getFirst().tensors().get(key))[0];
        for (LoraFile f : files.subList(1, files.size())) {
            float a = Floats.read(f.tensors().get(key))[0];
            if (!(Math.abs(a - a0) <= 1e-8 + 1e-5 * Math.abs(a0))) {
                throw new LoraidException("alpha for " + key + " differs between " + f.source() + " (" + a + ") and "
                        + files.getFirst().source() + " (" + a0 + ")");
            }
        }
    }

    /** REQ-META-5: newest file's metadata, with the oldest file's LORAID keys; all files must agree on ss_loraid. */
    private static Map<String, String> mergedMetadata(List<LoraFile> files) {
        String id0 = files.getFirst().metadata().get(LoraidMetadata.LORAID);
        for (LoraFile f : files) {
            if (!Objects.equals(id0, f.metadata().get(LoraidMetadata.LORAID))) {
                List<String> ids = files.stream().map(x -> x.source() + "=" + x.metadata().get(LoraidMetadata.LORAID)).toList();
                throw new LoraidException("epoch files disagree on ss_loraid: " + ids);
            }
        }
        Map<String, String> m = new LinkedHashMap<>(files.getLast().metadata());
        m.keySet().removeIf(LoraidMetadata::isLoraidKey);
        files.getFirst().metadata().forEach((k, v) -> {
            if (LoraidMetadata.isLoraidKey(k)) {
                m.put(k, v);
            }
        });
        return m;
    }
}
