package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraPairing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The value rules of the LORAID command-line lists (spec loraid.md REQ-CLI-1, -3, -4), on the raw tokens the CLI
 * collected from every occurrence of a flag in command-line order; the library takes the typed values.
 */
final class LoraidArgs {
    private LoraidArgs() {
    }

    /** Splits comma-separated tokens and drops empty pieces: {@code ["1,2", "3"]} → {@code ["1", "2", "3"]}. */
    static List<String> flatten(List<String> tokens) {
        List<String> out = new ArrayList<>();
        for (String t : tokens) {
            for (String piece : t.split(",")) {
                if (!piece.isBlank()) {
                    out.add(piece.strip());
                }
            }
        }
        return out;
    }

    /**
     * {@code --LORAID} values (REQ-CLI-1): integers in order, duplicates removed keeping the first with a warning.
     * Range is not checked here (REQ-ALLOC-3 does, with the model's block count).
     *
     * @param multiplierCount how many {@code --lora_multiplier} values were given: duplicates together with more
     *                        than one multiplier are an error, because removing one would shift the pairing (D-10)
     */
    static List<Integer> loraids(List<String> tokens, int multiplierCount, Reporter reporter) {
        Set<Integer> ids = new LinkedHashSet<>();
        List<Integer> duplicates = new ArrayList<>();
        for (String v : flatten(tokens)) {
            int id;
            try {
                id = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new LoraidException("invalid LORAID value '" + v + "' (expected an integer)");
            }
            if (!ids.add(id)) {
                duplicates.add(id);
            }
        }
        if (!duplicates.isEmpty() && multiplierCount > 1) {
            throw new LoraidException("duplicate LORAIDs make the multiplier pairing ambiguous: LORAID " + duplicates
                    + " given more than once with " + multiplierCount + " --lora_multiplier values");
        }
        for (int d : duplicates) {
            reporter.warn("duplicate LORAID " + d + " ignored");
        }
        return List.copyOf(ids);
    }

    /** The one LORAID a training run may take (REQ-ALLOC-9); empty = an ordinary LoRA over all blocks. */
    static OptionalInt trainingLoraid(List<Integer> loraids) {
        if (loraids.size() > 1) {
            throw new LoraidException("training accepts a single LORAID; got " + loraids);
        }
        return loraids.isEmpty() ? OptionalInt.empty() : OptionalInt.of(loraids.getFirst());
    }

    /**
     * {@code --lora_multiplier} values (REQ-CLI-4), comma-separated or not; how many there must be is the library's
     * rule ({@link LoraPairing#multipliers}).
     */
    static List<Double> multipliers(List<String> tokens) {
        List<Double> out = new ArrayList<>();
        for (String v : flatten(tokens)) {
            double d;
            try {
                d = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new LoraidException("invalid --lora_multiplier value '" + v + "' (expected a number)");
            }
            if (!Double.isFinite(d)) {
                throw new LoraidException("--lora_multiplier must be finite, got " + v);
            }
            out.add(d);
        }
        return out;
    }

    /**
     * {@code --lora_weight} paths (REQ-CLI-3): flattened in order; missing files and repeated paths are errors. A
     * value that names an existing file as a whole is that file, commas included; only other values are split on
     * commas. An empty value or piece ({@code --lora_weight ''}, {@code a,,b}) is an error, not silently skipped.
     */
    static List<Path> loraFiles(List<String> tokens) {
        List<Path> out = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        for (String token : tokens) {
            List<String> pieces = token.contains(",") && !Files.exists(Path.of(token)) ? List.of(token.split(",", -1)) : List.of(token);
            for (String v : pieces) {
                if (v.isBlank()) {
                    throw new LoraidException("empty LoRA file name in --lora_weight '" + token + "'");
                }
                Path p = Files.exists(Path.of(v)) ? Path.of(v) : Path.of(v.strip());
                LoraFiles.checkInputFile(p, "LoRA file");
                if (!seen.add(p.toAbsolutePath().normalize())) {
                    throw new LoraidException("LoRA file given twice: " + p);
                }
                out.add(p);
            }
        }
        return out;
    }

}
