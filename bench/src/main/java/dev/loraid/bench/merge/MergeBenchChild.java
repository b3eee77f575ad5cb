package dev.loraid.bench.merge;

import dev.loraid.core.Reporter;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The merge that {@code bench/run merge} times in its own JVM (so that its peak RSS is the merge's alone). */
public final class MergeBenchChild {
    private MergeBenchChild() {
    }

    /** args: BASE LORA OUT. Prints the merge's own seconds (without JVM start) on stdout. */
    public static void main(String[] args) {
        long t0 = System.nanoTime();
        LoraMerger.merge(new MergeRequest(Path.of(args[0]), List.of(Path.of(args[1])), Optional.empty(), List.of(1.0), null, false,
                List.of(), List.of(), null, Path.of(args[2])), Reporter.SILENT);
        System.out.println("merge_seconds=" + (System.nanoTime() - t0) / 1e9);
    }
}
