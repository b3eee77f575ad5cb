package dev.loraid.core.ema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md REQ-EMA-1..3: T-31, T-32 and the ordering rules. */
class EpochDiscoveryTest {
    @TempDir
    Path dir;

    private Path file(String rel, long mtime) throws Exception {
        return EmaTestFiles.write(EmaTestFiles.constant(0, 1, DType.F32, Map.of()), dir.resolve(rel), mtime);
    }

    @Test
    void t31_discovery() throws Exception {
        Path r1 = file("saves/tanya/run1/tanya_512-000005.safetensors", 100);
        Path r2a = file("saves/tanya/run2/tanya_512-000005.safetensors", 200);
        Path r2b = file("saves/tanya/run2/tanya_512-000010.safetensors", 300);
        file("saves/tanya/run1/tanya_512-ema.safetensors", 350);
        Path other = file("saves/tanya/other/tanya_512-000007.safetensors", 400);
        file("saves/tanya/run1/tanya_5120-000001.safetensors", 50); // another base name
        List<Path> found = EpochDiscovery.discover(r1, EpochDiscovery.SortBy.MTIME, new CollectingReporter());
        assertEquals(List.of(r1.toRealPath(), r2a.toRealPath(), r2b.toRealPath(), other.toRealPath()), found);
        // by epoch number: 5, 5 (mtime tie-break), 7, 10
        List<Path> byEpoch = EpochDiscovery.discover(r1, EpochDiscovery.SortBy.EPOCH, new CollectingReporter());
        assertEquals(List.of(r1.toRealPath(), r2a.toRealPath(), other.toRealPath(), r2b.toRealPath()), byEpoch);
    }

    @Test
    void equal_mtimes_break_ties_by_epoch_then_path() throws Exception {
        Path b = file("d/x-000002.safetensors", 100);
        Path a = file("d/x-000001.safetensors", 100);
        assertEquals(List.of(a.toRealPath(), b.toRealPath()), EpochDiscovery.discover(b, EpochDiscovery.SortBy.MTIME, new CollectingReporter()));
    }

    @Test
    void t32_discovery_no_match() throws Exception {
        Path sarah = file("s/Sarah_epoch_005.safetensors", 100);
        file("s/Sarah_epoch_006.safetensors", 200);
        CollectingReporter r = new CollectingReporter();
        assertEquals(List.of(sarah), EpochDiscovery.discover(sarah, EpochDiscovery.SortBy.MTIME, r));
        assertTrue(r.warned("no epoch discovery"), r.warnings.toString());
    }

    @Test
    void glob_characters_are_literal() throws Exception {
        Path a = file("g/we[i]rd*-000001.safetensors", 100);
        file("g/weird-000002.safetensors", 200);
        assertEquals(List.of(a.toRealPath()), EpochDiscovery.discover(a, EpochDiscovery.SortBy.MTIME, new CollectingReporter()));
    }
}
