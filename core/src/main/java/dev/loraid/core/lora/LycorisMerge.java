package dev.loraid.core.lora;

import dev.loraid.autograd.nn.Linear;
import dev.loraid.autograd.Module;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.MemoryScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * LyCORIS files merged into a model's Linear weights at load (upstream's {@code --lycoris}: its generation merges them
 * into the DiT before sampling): each module's update ({@link LycorisModule}) times the file's multiplier, in fp32,
 * stored back in the weight's dtype. A module whose layer the model lacks is skipped with a warning, as upstream's.
 */
public final class LycorisMerge {
    private LycorisMerge() {
    }

    /** Merges every file, in order; returns how many weights changed. */
    public static int mergeInto(Module model, List<Path> files, List<Double> multipliers, Reporter reporter) {
        Map<String, Linear> layers = LoraNetwork.candidates(model);
        int merged = 0;
        try (LoraFiles.Opened opened = new LoraFiles.Opened(); MemoryScope outside = MemoryScope.suspend()) {
            for (int i = 0; i < files.size(); i++) {
                double multiplier = multipliers.isEmpty() ? 1.0 : multipliers.get(i);
                List<String> skipped = new ArrayList<>();
                for (LycorisModule m : LycorisModule.read(opened.open(files.get(i))).values()) {
                    Linear layer = layers.get(m.modulePath());
                    if (layer == null) {
                        skipped.add(m.name());
                        continue;
                    }
                    WeightUpdate.apply(layer.weight(), w -> m.addTo(w, multiplier));
                    merged++;
                }
                if (!skipped.isEmpty()) {
                    reporter.warn(files.get(i) + ": " + skipped.size() + " module(s) with no Linear layer in the DiT, "
                            + "skipped: first " + skipped.getFirst());
                }
                reporter.info("merged the LyCORIS file " + files.get(i).getFileName() + " into the DiT at multiplier "
                        + multiplier);
            }
        }
        return merged;
    }
}
