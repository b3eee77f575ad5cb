package dev.loraid.core.lora;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The inference-time key filter of a LoRA file (spec loraid.md REQ-MERGE-6, training.md §6.3): include patterns keep the
 * modules whose underscore-form key ({@code lora_unet_blocks_3_ffn_0.lora_down.weight}) they find (unanchored search),
 * then exclude patterns drop matches. Not the training rule (REQ-ALLOC-6, module names, whole match; D-42).
 */
public record LoraKeyFilter(List<Pattern> include, List<Pattern> exclude) {
    public static final LoraKeyFilter NONE = new LoraKeyFilter(List.of(), List.of());

    public LoraKeyFilter {
        include = List.copyOf(include);
        exclude = List.copyOf(exclude);
    }

    /** @throws java.util.regex.PatternSyntaxException for a pattern that does not compile */
    public static LoraKeyFilter of(List<String> include, List<String> exclude) {
        return new LoraKeyFilter(include.stream().map(Pattern::compile).toList(), exclude.stream().map(Pattern::compile).toList());
    }

    /**
     * One filter per file for {@code generate} (upstream applies the i-th pattern to the i-th LoRA file): for each list,
     * no pattern filters nothing, one pattern applies to every file, otherwise there must be one pattern per file.
     *
     * @throws LoraidException when a list has another length, naming it
     */
    public static List<LoraKeyFilter> perFile(int files, List<String> include, List<String> exclude) {
        checkCount("LoraSelection.includePatterns", include, files);
        checkCount("LoraSelection.excludePatterns", exclude, files);
        List<LoraKeyFilter> out = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            out.add(of(pick(include, i), pick(exclude, i)));
        }
        return out;
    }

    private static void checkCount(String parameter, List<String> patterns, int files) {
        if (patterns.size() > 1 && patterns.size() != files) {
            throw new LoraidException(named(param(parameter), ": " + patterns.size() + " patterns for " + files
                    + " LoRA files: give none, one for every file, or one per file in file order"));
        }
    }

    private static List<String> pick(List<String> patterns, int i) {
        return patterns.isEmpty() ? List.of() : List.of(patterns.size() == 1 ? patterns.getFirst() : patterns.get(i));
    }

    public boolean isEmpty() {
        return include.isEmpty() && exclude.isEmpty();
    }

    /** Whether the module with this key survives: kept by an include pattern (or there is none) and by no exclude. */
    public boolean keeps(String key) {
        boolean in = include.isEmpty() || include.stream().anyMatch(p -> p.matcher(key).find());
        return in && exclude.stream().noneMatch(p -> p.matcher(key).find());
    }
}
