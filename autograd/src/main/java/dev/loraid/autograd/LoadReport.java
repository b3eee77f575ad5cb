package dev.loraid.autograd;

import java.util.List;

/**
 * What {@link Module#loadStateDict} found: keys the module wanted but the source lacks, keys the source has that
 * the module does not know, and keys whose shapes differ ("name: expected [a, b], got [c, d]").
 */
public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched) {
    public LoadReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
    }

    public boolean isClean() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    /** A multi-line description naming every problem key, for error messages. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        append(sb, "missing keys", missing);
        append(sb, "unexpected keys", unexpected);
        append(sb, "shape mismatches", mismatched);
        return sb.toString().strip();
    }

    private static void append(StringBuilder sb, String title, List<String> keys) {
        if (!keys.isEmpty()) {
            sb.append(title).append(" (").append(keys.size()).append("): ").append(String.join(", ", keys)).append('\n');
        }
    }
}
