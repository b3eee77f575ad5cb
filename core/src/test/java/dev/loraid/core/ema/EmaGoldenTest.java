package dev.loraid.core.ema;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Post-hoc EMA of the four golden epoch files (testdata/golden README) in numeric order, to 1e-6 abs + 1e-5 rel. */
class EmaGoldenTest {
    @TempDir
    Path dir;

    private void run(EmaSchedule schedule, String golden) throws Exception {
        List<Path> epochs = IntStream.rangeClosed(1, 4).mapToObj(i -> Golden.path("ema_lora-00000" + i + ".safetensors")).toList();
        Path out = dir.resolve("out.safetensors");
        EmaRequest req = new EmaRequest(new TreeMap<>(), epochs, out, new TreeMap<>(), schedule, EpochDiscovery.SortBy.MTIME, true,
                0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false);
        EmaTool.run(req, new CollectingReporter());
        Golden.assertClose(Golden.path(golden), out, 1e-6, 1e-5);
    }

    @Test
    void ema_linear() throws Exception {
        run(EmaSchedule.select(null, 0.95, 0.99, false), "ema_linear.safetensors");
    }

    @Test
    void ema_sigma_rel() throws Exception {
        run(EmaSchedule.select(0.2, null, null, false), "ema_sigma_rel.safetensors");
    }

    @Test
    void ema_sigma_rel_reference_compat() throws Exception {
        run(EmaSchedule.select(0.2, null, null, true), "ema_sigma_rel_reference_compat.safetensors");
    }
}
