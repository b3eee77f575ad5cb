package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.core.lora.WeightUpdate;
import dev.loraid.core.merge.LoraDelta;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * {@code --base_weights F1 F2 …} with {@code --base_weights_multiplier m1 m2 …} (training.md §2.6–2.7): LoRA files
 * merged into the frozen DiT before training, as upstream's {@code merge_to}: every weight a module of a file names
 * becomes {@code W + m · (alpha/r) · up · down}, computed in fp32 ({@link LoraDelta}, the merge tool's arithmetic) and
 * stored back in W's dtype, while the checkpoint loads ({@link #atLoad}): on the host, before the model moves to the
 * device and before any fp8 quantisation. A merged weight is an owned copy (the checkpoint's mapped weights are
 * read-only); the others stay views of the file. A module whose weight the DiT lacks is skipped with a warning, as
 * upstream's.
 *
 * @param files       the LoRA files, merged in this order
 * @param multipliers one per file, or empty for 1.0 each
 */
public record BaseWeights(List<Path> files, List<Double> multipliers) {
    /** No base weights. */
    public static final BaseWeights NONE = new BaseWeights(List.of(), List.of());

    public BaseWeights {
        files = List.copyOf(files);
        multipliers = multipliers.isEmpty() ? Collections.nCopies(files.size(), 1.0) : List.copyOf(multipliers);
        if (multipliers.size() != files.size()) {
            throw new ParameterException(named(param("BaseWeights.multipliers"), " has " + multipliers.size()
                    + " value(s) for " + files.size() + " file(s): give one per file, or none for 1.0 each"));
        }
        for (double m : multipliers) {
            if (!Double.isFinite(m)) {
                throw new ParameterException(named(param("BaseWeights.multipliers"), " must be finite, got " + m));
            }
        }
    }

    public boolean isEmpty() {
        return files.isEmpty();
    }

    /**
     * The files as a transform of the DiT's tensors while it loads ({@code WanCheckpoint.open(…, atLoad)}), before any
     * fp8 quantisation: each weight of {@code weightNames} (the DiT's prefix-free keys) that a module names comes out as
     * a new tensor of its dtype, every file's update added in order in fp32 and rounded once; any other tensor as it is.
     * A module whose weight the DiT lacks is skipped with a warning.
     *
     * @throws LoraidException (when the weight loads) naming the file and module when a LoRA's shapes do not fit it
     */
    public BiFunction<String, Tensor, Tensor> atLoad(LoraFiles.Opened opened, Set<String> weightNames, Reporter reporter) {
        Map<String, List<Scheduled>> updates = new LinkedHashMap<>();
        for (int i = 0; i < files.size(); i++) {
            LoraFile file = opened.open(files.get(i));
            List<String> skipped = new ArrayList<>();
            for (LoraWeights weights : LoraInputs.check(file, reporter)) { // each part of a combined file
                for (LoraModule m : weights.modules().values()) {
                    String key = m.modulePath() + ".weight";
                    if (!weightNames.contains(key)) {
                        skipped.add(m.loraName());
                        continue;
                    }
                    updates.computeIfAbsent(key, k -> new ArrayList<>()).add(new Scheduled(m, multipliers.get(i), weights.source()));
                }
            }
            if (!skipped.isEmpty()) {
                reporter.warn(files.get(i) + ": " + skipped.size() + " module(s) with no weight in the DiT, skipped: first "
                        + skipped.getFirst());
            }
            reporter.info("merging " + files.get(i).getFileName() + " into the DiT at multiplier " + multipliers.get(i));
        }
        return (key, w) -> {
            List<Scheduled> ups = updates.get(key);
            if (ups == null) {
                return w;
            }
            for (Scheduled u : ups) {
                LoraDelta.checkShapes(w.shape(), u.module().up().shape(), u.module().down().shape(), u.module().loraName(),
                        u.source());
            }
            return WeightUpdate.updated(w, sum -> ups.forEach(u -> LoraDelta.addTo(sum, u.module(),
                    u.multiplier() * u.module().scale())));
        };
    }

    /** One module's update at its file's multiplier; {@code source} names the file (or its part) in errors. */
    private record Scheduled(LoraModule module, double multiplier, String source) {
    }
}
