package dev.loraid.core.lora;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * LyCORIS files merged into a DiT's weights (upstream's {@code --lycoris}, and its merge of LoHa/LoKr files: it merges
 * them into the DiT before sampling): each module's update ({@link LycorisModule}) times the file's multiplier, in
 * fp32, stored back in the weight's dtype — while the DiT loads ({@link #atLoad}) or into a new file
 * ({@code core.merge.LycorisMerger}). A module whose weight the DiT lacks is skipped with a warning, as upstream's.
 */
public final class LycorisMerge {
    private LycorisMerge() {
    }

    /**
     * Each file's multiplier from the ones given: none → 1.0 each, one → for every file, else one per file.
     *
     * @throws LoraidException when neither
     */
    public static List<Double> perFile(List<Double> given, int files) {
        if (given.size() > 1 && given.size() != files) {
            throw new LoraidException(given.size() + " multipliers for " + files + " LyCORIS files: give one, or one per file");
        }
        return given.isEmpty() ? java.util.Collections.nCopies(files, 1.0)
            : given.size() == 1 ? java.util.Collections.nCopies(files, given.getFirst()) : List.copyOf(given);
    }

    /**
     * The first of {@code files} holding LoHa, LoKr or full tensors, which only a merge applies (upstream's generation
     * merges such files at load with or without {@code --lycoris}: {@code detect_network_type}); null when all are LoRAs.
     */
    public static Path firstNeedingMerge(List<Path> files) {
        try (LoraFiles.Opened opened = new LoraFiles.Opened()) {
            for (Path f : files) {
                if (LycorisModule.holdsLycoris(opened.open(f))) {
                    return f;
                }
            }
        }
        return null;
    }

    /**
     * The files as a transform of a DiT's tensors while it loads ({@code WanCheckpoint.open(…, atLoad)}): each weight
     * of {@code weightNames} (the DiT's prefix-free keys) that a module updates comes out as a new tensor of its dtype,
     * every update of every file added in order in fp32 and rounded once; any other tensor as it is. Before fp8
     * quantisation, as upstream merges before its fp8 optimisation.
     *
     * @throws LoraidException naming the file when none of its modules has a weight in the DiT
     */
    public static BiFunction<String, Tensor, Tensor> atLoad(LoraFiles.Opened opened, List<Path> files, List<Double> multipliers,
            Set<String> weightNames, Reporter reporter) {
        Map<String, Consumer<Tensor>> updates = updatesByWeight(opened, files, multipliers,
                path -> weightNames.contains(path + ".weight") ? path + ".weight" : null, reporter);
        for (int i = 0; i < files.size(); i++) {
            reporter.info("merging the LyCORIS file " + files.get(i).getFileName() + " into the DiT at multiplier "
                    + multipliers.get(i));
        }
        return (key, w) -> {
            Consumer<Tensor> update = updates.get(key);
            return update == null ? w : WeightUpdate.updated(w, update);
        };
    }

    /** One module's update at its file's multiplier. */
    private record Scheduled(LycorisModule module, double multiplier, Path file) {
    }

    /**
     * Every module of every file, in order, by the target ({@code targetOf} its module path) it updates; a module without
     * one is skipped with a warning, as upstream's.
     */
    private static Map<String, List<Scheduled>> schedule(LoraFiles.Opened opened, List<Path> files, List<Double> multipliers,
            Function<String, String> targetOf, Reporter reporter) {
        Map<String, List<Scheduled>> updates = new LinkedHashMap<>();
        for (int i = 0; i < files.size(); i++) {
            List<String> skipped = new ArrayList<>();
            for (LycorisModule m : LycorisModule.read(opened.open(files.get(i))).values()) {
                String target = targetOf.apply(m.modulePath());
                if (target == null) {
                    skipped.add(m.name());
                } else {
                    updates.computeIfAbsent(target, k -> new ArrayList<>()).add(new Scheduled(m, multipliers.get(i),
                            files.get(i)));
                }
            }
            if (!skipped.isEmpty()) {
                reporter.warn(files.get(i) + ": " + skipped.size() + " module(s) with no weight in the DiT, skipped: first "
                        + skipped.getFirst());
            }
        }
        return updates;
    }

    /** {@code w += m · ΔW} for each update in order. */
    private static void addAll(Tensor w, List<Scheduled> updates) {
        for (Scheduled u : updates) {
            u.module().addTo(w, u.multiplier());
        }
    }

    /**
     * The updates of {@code files} by the name of the base tensor each changes ({@code weightOf}: a module path's weight
     * name, or null when the base has none): each applies every module of every file for that weight, in order, to an
     * fp32 copy of it. A module without a weight is skipped with a warning, as upstream's.
     *
     * @throws LoraidException naming the file when none of its modules has a weight in the base
     */
    public static Map<String, Consumer<Tensor>> updatesByWeight(LoraFiles.Opened opened, List<Path> files,
            List<Double> multipliers, Function<String, String> weightOf, Reporter reporter) {
        Map<String, List<Scheduled>> updates = schedule(opened, files, multipliers, weightOf, reporter);
        for (Path file : files) {
            if (updates.values().stream().flatMap(List::stream).noneMatch(u -> u.file().equals(file))) {
                throw new LoraidException(file + ": none of its modules has a weight in the DiT (see the warning)");
            }
        }
        Map<String, Consumer<Tensor>> out = new LinkedHashMap<>();
        updates.forEach((weight, ups) -> out.put(weight, w -> addAll(w, ups)));
        return out;
    }
}
