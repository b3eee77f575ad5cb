package dev.loraid.core.demo;

import dev.loraid.core.Reporter;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.lora.LoraApplication;
import dev.loraid.core.lora.LoraKeyFilter;
import dev.loraid.core.train.TrainModels;
import dev.loraid.core.train.ValidationLoss;
import dev.loraid.tensor.Device;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What combining costs each character, measured in the model rather than in pictures: the trainer's
 * {@link ValidationLoss} (flow-matching loss at σ = 0.125, 0.375, 0.625, 0.875 with fixed noise) on held-out pictures
 * of one character, for the base, the base with that character's LoRA alone, and the base with all three. The share of
 * the LoRA's gain that survives the other two, {@code (base − all three) / (base − alone)}, is the interference
 * LORAID's disjoint blocks are meant to avoid: 100 % means combining costs the character nothing. Ordinary LoRAs are
 * combined merged (they adapt the same layers), LORAIDs as adapters, as in the pictures.
 */
final class DemoInterference {
    /** One character under one method: the three losses. */
    record Row(String method, String character, double base, double alone, double combined) {
        /** The share of the LoRA's gain that survives the other two LoRAs. */
        double kept() {
            return (base - combined) / (base - alone);
        }
    }

    private DemoInterference() {
    }

    /** The base's loss on each character's held-out pictures (the same for every method, so measured once). */
    static double[] baseLosses(Path base, List<Path> validation, Device device) throws IOException {
        double[] out = new double[validation.size()];
        for (int c = 0; c < out.length; c++) {
            out[c] = loss(base, data(validation.get(c)), List.of(), Optional.empty(), device);
        }
        return out;
    }

    /**
     * @param baseLoss   {@link #baseLosses} of {@code base}
     * @param validation one held-out dataset TOML per character
     * @param loras      each character's LoRA, in character order
     * @param combined   the DiT with all three merged (ordinary), or null to attach all three as LORAIDs 1, 2, 3
     */
    static List<Row> measure(String method, Path base, double[] baseLoss, List<Path> validation, List<Path> loras,
            boolean loraid, Path combined, Device device) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < loras.size(); c++) {
            DatasetGroup data = data(validation.get(c));
            Optional<List<Integer>> own = loraid ? Optional.of(List.of(c + 1)) : Optional.empty();
            double alone = loss(base, data, List.of(loras.get(c)), own, device);
            double all = combined != null ? loss(combined, data, List.of(), Optional.empty(), device)
                    : loss(base, data, loras, Optional.of(List.of(1, 2, 3)), device);
            rows.add(new Row(method, DemoScenes.CHARACTERS.get(c).phrase(), baseLoss[c], alone, all));
        }
        return rows;
    }

    private static DatasetGroup data(Path toml) {
        return DatasetGroup.open(toml, toml.getParent(), Reporter.SILENT);
    }

    private static double loss(Path dit, DatasetGroup data, List<Path> loras, Optional<List<Integer>> loraids, Device device)
            throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(dit)) {
            WanModel model = ck.model(device);
            LoraApplication app = loras.isEmpty() ? null : LoraApplication.apply(model, loras,
                    Collections.nCopies(loras.size(), LoraKeyFilter.NONE), loraids, List.of(), DemoModel.BLOCKS_PER_LORAID, false,
                    Reporter.SILENT);
            try {
                return new ValidationLoss(data, TrainModels.of(model)).loss();
            } finally {
                if (app != null) {
                    app.detach();
                }
            }
        }
    }

    /**
     * The table as printed: a line per method and character, then per method the pooled share kept, Σ(base − all
     * three) / Σ(base − alone) over the characters (a per-character share swings wildly where a LoRA gains little).
     */
    static List<String> format(List<Row> rows) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%-16s %-9s %8s %8s %10s %10s", "method", "character", "base", "alone", "all three",
                "gain kept"));
        for (Row r : rows) {
            lines.add(String.format(Locale.ROOT, "%-16s %-9s %8.4f %8.4f %10.4f %9.0f%%", r.method(), r.character(), r.base(),
                    r.alone(), r.combined(), 100 * r.kept()));
        }
        for (String m : rows.stream().map(Row::method).distinct().toList()) {
            List<Row> of = rows.stream().filter(r -> r.method().equals(m)).toList();
            double kept = of.stream().mapToDouble(r -> r.base() - r.combined()).sum() / of.stream().mapToDouble(r -> r.base()
                    - r.alone()).sum();
            lines.add(String.format(Locale.ROOT, "%-16s gain kept when combined, over the three: %.0f%%", m, 100 * kept));
        }
        return lines;
    }
}
