package dev.loraid.core.lora;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.Reporter;
import dev.loraid.core.plan.LoraidMetadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The LoRA files of a merge or validation, loaded and checked: combined (channel-partitioned) files expand into their
 * parts (REQ-PACK-4), each part goes through the strict {@link LoraWeights} checks and the merge-time key filters
 * (REQ-MERGE-6), and becomes a {@link LoraPairing.Candidate} for the REQ-CLI-5/6 validation.
 *
 * @param pathOf the file each LoRA (by source name) came from
 */
public record LoraInputs(List<LoraWeights> loras, List<LoraPairing.Candidate> candidates, Map<String, Path> pathOf) {

    /**
     * @param include REQ-MERGE-6 include patterns (keep matches; unanchored search on the module's lora_down key)
     * @param exclude REQ-MERGE-6 exclude patterns (drop matches, after include)
     */
    public static LoraInputs load(List<Path> files, LoraFiles.Opened opened, List<String> include, List<String> exclude,
            Reporter reporter) {
        LoraKeyFilter filter = LoraKeyFilter.of(include, exclude);
        return load(files, opened, files.stream().map(f -> filter).toList(), reporter);
    }

    /** As {@link #load(List, LoraFiles.Opened, List, List, Reporter)} with its own key filter for each file. */
    public static LoraInputs load(List<Path> files, LoraFiles.Opened opened, List<LoraKeyFilter> filters, Reporter reporter) {
        if (filters.size() != files.size()) {
            throw new IllegalArgumentException(filters.size() + " key filters for " + files.size() + " files");
        }
        List<LoraWeights> loras = new ArrayList<>();
        List<LoraPairing.Candidate> candidates = new ArrayList<>();
        Map<String, Path> pathOf = new LinkedHashMap<>();
        for (int i = 0; i < files.size(); i++) {
            Path p = files.get(i);
            LoraKeyFilter filter = filters.get(i);
            LoraFile f = opened.open(p);
            for (LoraFile part : PartitionedLora.isPartitioned(f.metadata()) ? PartitionedLora.split(f) : List.of(f)) {
                LoraWeights w = filter(LoraWeights.of(part, reporter), filter, reporter);
                if (w != null) {
                    loras.add(w);
                    pathOf.put(w.source(), p);
                    candidates.add(new LoraPairing.Candidate(w.source(), LoraidMetadata.read(part.metadata(), w.source(), reporter),
                            w.modules().keySet()));
                }
            }
        }
        return new LoraInputs(loras, candidates, pathOf);
    }

    /**
     * The input checks of every command that reads a LoRA (merge, validate, convert, tag, ema), in one place: each
     * part of a combined file through {@link LoraWeights#of} (known Wan keys, down and up present with matching rank,
     * finite values, scalar finite alpha). Returns the checked parts.
     */
    public static List<LoraWeights> check(LoraFile f, Reporter reporter) {
        List<LoraWeights> parts = new ArrayList<>();
        for (LoraFile part : PartitionedLora.isPartitioned(f.metadata()) ? PartitionedLora.split(f) : List.of(f)) {
            parts.add(LoraWeights.of(part, reporter));
        }
        return parts;
    }

    private static LoraWeights filter(LoraWeights w, LoraKeyFilter filter, Reporter reporter) {
        if (filter.isEmpty()) {
            return w;
        }
        TreeMap<String, LoraModule> kept = new TreeMap<>();
        w.modules().forEach((name, m) -> {
            if (filter.keeps(name + LoraKeys.Part.DOWN.musubiSuffix())) {
                kept.put(name, m);
            }
        });
        if (kept.isEmpty()) {
            reporter.warn(named(w.source() + ": no keys left after ", param("MergeRequest.includeKeyPatterns"), "/",
                    param("MergeRequest.excludeKeyPatterns"), "; file skipped"));
            return null;
        }
        return new LoraWeights(w.file(), kept);
    }

    public LoraWeights bySource(String source) {
        return loras.stream().filter(l -> l.source().equals(source)).findFirst().orElseThrow();
    }
}
