package dev.loraid.core.lora;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.core.plan.LoraidSlice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * Which LoRA files are applied, with which LORAID and multiplier, and whether they may be applied together
 * (spec loraid.md REQ-CLI-5, REQ-CLI-6). Runs on file summaries before any base weight is touched.
 */
public final class LoraPairing {
    /** One LoRA file as the pairing sees it: its name, its LORAID metadata and its module names ({@code lora_unet_…}). */
    public record Candidate(String file, LoraidMetadata metadata, Collection<String> loraNames) {
    }

    /** A file that will be applied, in application order. */
    public record Applied(Candidate candidate, Optional<LoraidSlice> slice, double multiplier, TreeSet<Integer> blocks) {
        public String file() {
            return candidate.file();
        }

        public OptionalInt loraid() {
            return slice.map(s -> OptionalInt.of(s.id())).orElse(OptionalInt.empty());
        }
    }

    private LoraPairing() {
    }

    /**
     * @param loraids            the de-duplicated {@code --LORAID} list, or empty when the flag was absent
     * @param multipliers        none (all 1.0), one (for every file or LORAID), or one per file (per LORAID when
     *                           {@code loraids} is given): {@link #multipliers}
     * @param modelBlocks        B of the DiT
     * @param cliBlocksPerLoraid {@code --blocks_per_loraid} if given, else null
     */
    public static List<Applied> pair(List<Candidate> files, Optional<List<Integer>> loraids, List<Double> multipliers,
            int modelBlocks, Integer cliBlocksPerLoraid, boolean allowOverlap, Reporter reporter) {
        List<Candidate> chosen = new ArrayList<>();
        List<LoraidMetadata> ids = new ArrayList<>();
        double[] perFile;
        if (loraids.isEmpty()) {
            perFile = multipliers(multipliers, files.size());
            for (Candidate c : files) {
                chosen.add(c);
                ids.add(c.metadata());
            }
        } else {
            List<Integer> wanted = loraids.get();
            double[] perId = multipliers(multipliers, wanted.size());
            Map<Integer, List<Candidate>> byId = new LinkedHashMap<>();
            for (int i = 0; i < files.size(); i++) {
                Candidate c = files.get(i);
                int id;
                if (c.metadata().loraid().isPresent()) {
                    id = c.metadata().loraid().getAsInt();
                } else if (files.size() == wanted.size()) {
                    id = wanted.get(i);
                    reporter.info(c.file() + " has no ss_loraid: assigned LORAID " + id + " by position");
                } else {
                    throw new LoraidException("cannot assign a LORAID to " + c.file() + ": no ss_loraid metadata (and "
                            + files.size() + " files for " + wanted.size() + " LORAIDs)");
                }
                if (!wanted.contains(id)) {
                    reporter.info("skipping " + c.file() + ": LORAID " + id + " not selected");
                    continue;
                }
                byId.computeIfAbsent(id, k -> new ArrayList<>()).add(c);
            }
            for (int id : wanted) {
                List<Candidate> cs = byId.get(id);
                if (cs == null) {
                    throw new LoraidException(named("LORAID " + id + " requested but no ",
                            param("MergeRequest.loras"), " file has it"));
                }
                for (Candidate c : cs) {
                    chosen.add(c);
                    ids.add(c.metadata().loraid().isPresent() ? c.metadata() : c.metadata().withLoraid(id));
                }
            }
            // duplicates within one ID are reported below; the multiplier index follows the --LORAID list
            perFile = new double[chosen.size()];
            for (int i = 0; i < chosen.size(); i++) {
                perFile[i] = perId[wanted.indexOf(ids.get(i).loraid().getAsInt())];
            }
        }
        checkDuplicateIds(chosen, ids);
        List<Applied> applied = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            Candidate c = chosen.get(i);
            LoraidMetadata m = ids.get(i);
            Optional<LoraidSlice> slice = m.loraid().isPresent()
                    ? Optional.of(m.slice(modelBlocks, cliBlocksPerLoraid, c.file())) : Optional.empty();
            TreeSet<Integer> blocks = touchedBlocks(c, slice);
            if (!blocks.isEmpty() && blocks.last() >= modelBlocks) {
                // a LoRA for a deeper model: merging would silently drop those blocks' adapters (issue 16 §2)
                throw new LoraidException(c.file() + " has adapters for block(s) " + blocks.tailSet(modelBlocks)
                        + " but the model has " + modelBlocks + " blocks (0-" + (modelBlocks - 1) + "): a LoRA for another architecture or model size?");
            }
            applied.add(new Applied(c, slice, perFile[i], blocks));
        }
        checkOverlaps(applied, allowOverlap, reporter);
        logPairing(applied, reporter);
        return applied;
    }

    /**
     * The multipliers of {@code n} LoRAs (REQ-CLI-4): none → all 1.0; one → for all; n → as given; anything else is an
     * error (the reference padded with 1.0 and truncated silently — D-14).
     */
    public static double[] multipliers(List<Double> given, int n) {
        double[] out = new double[n];
        if (given.size() <= 1) {
            Arrays.fill(out, given.isEmpty() ? 1.0 : given.getFirst());
        } else if (given.size() == n) {
            for (int i = 0; i < n; i++) {
                out[i] = given.get(i);
            }
        } else {
            throw new LoraidException("got " + given.size() + " multipliers for " + n + " LoRAs");
        }
        for (double m : out) {
            if (!Double.isFinite(m)) {
                throw new LoraidException("multipliers must be finite, got " + given);
            }
        }
        return out;
    }

    private static void checkDuplicateIds(List<Candidate> files, List<LoraidMetadata> ids) {
        Map<Integer, String> first = new LinkedHashMap<>();
        for (int i = 0; i < files.size(); i++) {
            OptionalInt id = ids.get(i).loraid();
            if (id.isPresent()) {
                String prev = first.putIfAbsent(id.getAsInt(), files.get(i).file());
                if (prev != null) {
                    throw new LoraidException("duplicate LORAID " + id.getAsInt() + ": " + prev + ", " + files.get(i).file());
                }
            }
        }
    }

    /** The blocks a file touches; for a LORAID file every module must lie inside its slice (REQ-CLI-6). */
    private static TreeSet<Integer> touchedBlocks(Candidate c, Optional<LoraidSlice> slice) {
        TreeSet<Integer> blocks = new TreeSet<>();
        List<String> outside = new ArrayList<>();
        for (String name : c.loraNames()) {
            OptionalInt b = LoraKeys.blockIndex(name);
            b.ifPresent(blocks::add);
            if (slice.isPresent() && (b.isEmpty() || !slice.get().contains(b.getAsInt()))) {
                outside.add(b.isPresent() ? Integer.toString(b.getAsInt()) : name);
            }
        }
        if (!outside.isEmpty()) {
            LoraidSlice s = slice.get();
            throw new LoraidException(c.file() + " (LORAID " + s.id() + ", blocks " + s.range()
                    + ") contains adapters for block(s) " + new TreeSet<>(outside));
        }
        return blocks;
    }

    private static void checkOverlaps(List<Applied> applied, boolean allowOverlap, Reporter reporter) {
        boolean any = false;
        for (int i = 0; i < applied.size(); i++) {
            for (int j = i + 1; j < applied.size(); j++) {
                TreeSet<Integer> shared = new TreeSet<>(applied.get(i).blocks());
                shared.retainAll(applied.get(j).blocks());
                if (shared.isEmpty()) {
                    continue;
                }
                any = true;
                String msg = "block overlap between " + applied.get(i).file() + " and " + applied.get(j).file()
                        + ": blocks " + shared;
                boolean bothTagged = applied.get(i).slice().isPresent() && applied.get(j).slice().isPresent();
                if (bothTagged && !allowOverlap) {
                    throw new LoraidException(named(msg + " (both are LORAID LoRAs; ",
                            param("MergeRequest.allowOverlap"), " to proceed anyway)"));
                }
                reporter.warn(bothTagged ? named(msg, " (allowed by ", param("MergeRequest.allowOverlap"), ")")
                        : named(msg, " (ordinary LoRA involved: effects add up)"));
            }
        }
        if (!any) {
            reporter.info("no block overlaps");
        }
    }

    private static void logPairing(List<Applied> applied, Reporter reporter) {
        reporter.info("file | LORAID | blocks | multiplier");
        for (int i = 0; i < applied.size(); i++) {
            Applied a = applied.get(i);
            String id = a.slice().map(s -> Integer.toString(s.id())).orElse("-");
            String blocks = a.slice().map(LoraidSlice::range).orElse(a.blocks().isEmpty() ? "-" : a.blocks().first() + "–" + a.blocks().last());
            reporter.info("LoRA " + i + " (LORAID " + id + ") " + a.file() + " | " + id + " | " + blocks + " | " + a.multiplier());
        }
    }
}
