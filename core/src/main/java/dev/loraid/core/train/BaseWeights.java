package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.core.LoraidException;
import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.core.lora.WeightUpdate;
import dev.loraid.core.merge.LoraDelta;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.wan.WanModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * {@code --base_weights F1 F2 …} with {@code --base_weights_multiplier m1 m2 …} (training.md §2.6–2.7): LoRA files
 * merged into the frozen DiT before training, as upstream's {@code merge_to}: every weight a module of a file names
 * becomes {@code W + m · (alpha/r) · up · down}, computed in fp32 ({@link LoraDelta}, the merge tool's arithmetic) and
 * stored back in W's dtype, on the host before the model moves to the device. A merged weight is an owned copy (the
 * checkpoint's mapped weights are read-only); the others stay views of the file. A module whose layer the model lacks
 * is skipped with a warning, as upstream's.
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
     * Merges every file into {@code model}'s weights (on the host); returns how many weights changed.
     *
     * @throws LoraidException naming the file and module when a LoRA's shapes do not fit its layer
     */
    public int mergeInto(WanModel model, Reporter reporter) {
        Map<String, Linear> layers = LoraNetwork.candidates(model);
        int merged = 0;
        try (LoraFiles.Opened opened = new LoraFiles.Opened(); MemoryScope outside = MemoryScope.suspend()) {
            for (int i = 0; i < files.size(); i++) {
                LoraFile file = opened.open(files.get(i));
                List<String> skipped = new ArrayList<>();
                for (LoraWeights weights : LoraInputs.check(file, reporter)) { // each part of a combined file
                    for (LoraModule m : weights.modules().values()) {
                        Linear layer = layers.get(m.modulePath());
                        if (layer == null) {
                            skipped.add(m.loraName());
                            continue;
                        }
                        merge(layer.weight(), m, multipliers.get(i), weights.source());
                        merged++;
                    }
                }
                if (!skipped.isEmpty()) {
                    reporter.warn(files.get(i) + ": " + skipped.size() + " module(s) with no Linear layer in the DiT, "
                            + "skipped: first " + skipped.getFirst());
                }
                reporter.info("merged " + files.get(i).getFileName() + " into the DiT at multiplier " + multipliers.get(i));
            }
        }
        return merged;
    }

    /** {@code weight ← weight + multiplier · scale · up · down}, in fp32, stored as a new tensor of the weight's dtype. */
    private static void merge(Parameter weight, LoraModule m, double multiplier, String source) {
        LoraDelta.checkShapes(weight.data().shape(), m.up().shape(), m.down().shape(), m.loraName(), source);
        WeightUpdate.apply(weight, sum -> LoraDelta.addTo(sum, m, multiplier * m.scale()));
    }
}
