package dev.loraid.core.api;

import dev.loraid.core.generate.LoraSelection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * LoRA / LORAID files and their multipliers, for {@link LoadedModel#attach} and {@link Loraid#merge}. Built by
 * {@link #builder()}: either each file at its own multiplier ({@link Builder#add(Path, double)}), or LORAIDs
 * selected at their multipliers ({@link Builder#loraid(int, double)}) out of the files added with
 * {@link Builder#add(Path)} (spec loraid.md REQ-CLI-5/6 pairs them).
 *
 * @param files           the files, in application order (at least one)
 * @param multipliers     one per file, or one per LORAID when {@code loraids} is not empty
 * @param loraids         the selected LORAIDs, empty to apply every file
 * @param blocksPerLoraid blocks per LORAID for files without that metadata, or null
 * @param allowOverlap    whether two LORAID files may adapt the same block
 */
public record Loras(List<Path> files, List<Double> multipliers, List<Integer> loraids, Integer blocksPerLoraid,
        boolean allowOverlap) {
    public Loras {
        files = List.copyOf(files);
        multipliers = List.copyOf(multipliers);
        loraids = List.copyOf(loraids);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("Loras: no file given");
        }
        int expected = loraids.isEmpty() ? files.size() : loraids.size();
        if (multipliers.size() != expected) {
            throw new IllegalArgumentException("Loras: " + multipliers.size() + " multipliers for " + expected
                    + (loraids.isEmpty() ? " files" : " LORAIDs"));
        }
        for (double m : multipliers) {
            if (!Double.isFinite(m)) {
                throw new IllegalArgumentException("Loras: multiplier " + m + " is not finite");
            }
        }
        if (blocksPerLoraid != null && blocksPerLoraid < 1) {
            throw new IllegalArgumentException("Loras: blocksPerLoraid must be ≥ 1, got " + blocksPerLoraid);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The library's own form of this selection. */
    LoraSelection selection() {
        return new LoraSelection(files, multipliers, loraids.isEmpty() ? Optional.empty() : Optional.of(loraids),
                blocksPerLoraid, allowOverlap);
    }

    /** Collects files and multipliers; {@link #build()} validates. */
    public static final class Builder {
        private final List<Path> files = new ArrayList<>();
        private final List<Double> fileMultipliers = new ArrayList<>();
        private final List<Integer> loraids = new ArrayList<>();
        private final List<Double> loraidMultipliers = new ArrayList<>();
        private boolean plainFiles;
        private Integer blocksPerLoraid;
        private boolean allowOverlap;

        private Builder() {
        }

        /** A file applied at {@code multiplier} (W + multiplier · alpha/rank · up @ down). */
        public Builder add(Path file, double multiplier) {
            files.add(Objects.requireNonNull(file, "file"));
            fileMultipliers.add(multiplier);
            return this;
        }

        /** A file whose LORAID is selected by {@link #loraid}. */
        public Builder add(Path file) {
            files.add(Objects.requireNonNull(file, "file"));
            plainFiles = true;
            return this;
        }

        /** Selects LORAID {@code id} (a file's ss_loraid, else the files' order) at {@code multiplier}. */
        public Builder loraid(int id, double multiplier) {
            loraids.add(id);
            loraidMultipliers.add(multiplier);
            return this;
        }

        /** Blocks per LORAID for files that do not record it. */
        public Builder blocksPerLoraid(int blocks) {
            this.blocksPerLoraid = blocks;
            return this;
        }

        /** Lets two LORAID files adapt the same block (their effects add up). */
        public Builder allowOverlap() {
            this.allowOverlap = true;
            return this;
        }

        public Loras build() {
            if (!loraids.isEmpty() && !fileMultipliers.isEmpty()) {
                throw new IllegalArgumentException("Loras: with LORAIDs selected, multipliers go with the LORAIDs: "
                        + "add the files with add(Path)");
            }
            if (loraids.isEmpty() && plainFiles) {
                throw new IllegalArgumentException("Loras: add(Path) is for LORAID selection; give a multiplier with "
                        + "add(Path, double) or select LORAIDs with loraid(id, multiplier)");
            }
            return new Loras(files, loraids.isEmpty() ? fileMultipliers : loraidMultipliers, loraids, blocksPerLoraid,
                    allowOverlap);
        }
    }
}
