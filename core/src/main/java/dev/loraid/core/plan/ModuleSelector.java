package dev.loraid.core.plan;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which candidate modules (Linear/Conv layers inside the DiT blocks, by dotted name) get a LoRA (spec loraid.md
 * REQ-ALLOC-5..8). Two independent conditions, both required:
 * <ol>
 *   <li>the LORAID gate, computed from the block index (not a regex): {@code blocks.b.(self_attn|cross_attn|ffn).*}
 *       with b in the slice;</li>
 *   <li>the upstream user filter: skipped iff matched by an exclude pattern (built-in or user) and by no include
 *       pattern — include patterns rescue, they never narrow on their own (whole-name match, like {@code fullmatch}).</li>
 * </ol>
 * So user patterns can narrow a slice but never widen it (D-06, D-07).
 */
public final class ModuleSelector {
    /** The Wan LoRA's default exclusion (training.md §2.1), always applied. */
    public static final String BUILTIN_EXCLUDE = ".*(patch_embedding|text_embedding|time_embedding|time_projection|norm|head).*";

    private final Optional<LoraidSlice> slice;
    private final List<String> include;
    private final List<String> exclude;
    private final List<Pattern> includePatterns;
    private final List<Pattern> excludePatterns;

    /** @param slice the active LORAID, or empty for an ordinary LoRA */
    public ModuleSelector(Optional<LoraidSlice> slice, List<String> userInclude, List<String> userExclude) {
        this.slice = slice;
        this.include = List.copyOf(userInclude);
        List<String> ex = new ArrayList<>(userExclude);
        ex.add(BUILTIN_EXCLUDE);
        this.exclude = List.copyOf(ex);
        this.includePatterns = compile(include);
        this.excludePatterns = compile(exclude);
    }

    private static List<Pattern> compile(List<String> patterns) {
        List<Pattern> out = new ArrayList<>();
        for (String p : patterns) {
            try {
                out.add(Pattern.compile(p));
            } catch (PatternSyntaxException e) {
                throw new LoraidException("invalid regular expression '" + p + "': " + e.getDescription());
            }
        }
        return out;
    }

    /** The LORAID gate alone (REQ-ALLOC-5). */
    public boolean inSlice(String module) {
        if (slice.isEmpty()) {
            return true;
        }
        int b = BlockCount.blockOf(module);
        if (b < 0 || !slice.get().contains(b)) {
            return false;
        }
        String rest = module.substring(module.indexOf('.', "blocks.".length()) + 1);
        for (String part : LoraidAllocator.ADAPTED_PARTS) {
            if (rest.startsWith(part + ".")) {
                return true;
            }
        }
        return false;
    }

    /** The upstream include/exclude rule alone (REQ-ALLOC-6 item 2). */
    public boolean passesUserFilter(String module) {
        boolean excluded = excludePatterns.stream().anyMatch(p -> p.matcher(module).matches());
        return !excluded || includePatterns.stream().anyMatch(p -> p.matcher(module).matches());
    }

    public boolean selects(String module) {
        return inSlice(module) && passesUserFilter(module);
    }

    /**
     * The selected modules, in candidate order. Errors on an empty selection (REQ-ALLOC-7); logs the LORAID summary
     * (REQ-ALLOC-8) and the hint that include patterns alone do not narrow.
     */
    public List<String> select(List<String> candidates, Reporter reporter) {
        List<String> out = candidates.stream().filter(this::selects).toList();
        if (out.isEmpty()) {
            String where = slice.map(s -> "LORAID " + s.id() + " owns blocks " + s.range() + "; ").orElse("");
            throw new LoraidException("no modules selected by LORAID/include/exclude patterns (" + where
                    + "include " + include + ", exclude " + exclude + ")");
        }
        if (!include.isEmpty() && exclude.size() == 1) {
            reporter.info("include patterns only rescue excluded modules; to narrow the selection also give an exclude pattern such as '.*'");
        }
        slice.ifPresent(s -> {
            for (String m : out) {
                int b = BlockCount.blockOf(m);
                if (!s.contains(b)) {
                    throw new IllegalStateException("module " + m + " selected outside LORAID " + s.id() + " blocks " + s.range());
                }
            }
            reporter.info("LORAID " + s.id() + ": blocks " + s.range() + ", " + out.size() + " modules");
        });
        return out;
    }
}
