package dev.loraid.core;

import java.util.ArrayList;
import java.util.List;

/** Records what library code reports, for assertions. */
public final class CollectingReporter implements Reporter {
    public final List<String> infos = new ArrayList<>();
    public final List<String> warnings = new ArrayList<>();

    @Override
    public void info(String message) {
        infos.add(message);
    }

    @Override
    public void warn(String message) {
        warnings.add(message);
    }

    public boolean warned(String fragment) {
        return warnings.stream().anyMatch(w -> w.contains(fragment));
    }

    public boolean informed(String fragment) {
        return infos.stream().anyMatch(w -> w.contains(fragment));
    }
}
