package dev.loraid.core.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Golden merges (testdata/golden README): lora_tiny at 0.8, and lora_id1 ×1.0 + lora_id2 ×0.7. */
class LoraMergerGoldenTest {
    @TempDir
    Path dir;

    static MergeRequest request(Path base, List<Path> loras, Optional<List<Integer>> ids, List<Double> mult, Integer p, Path out) {
        return new MergeRequest(base, loras, ids, mult, p, false, List.of(), List.of(), null, out);
    }

    private void assertMerged(Path golden, Path out, Path base) throws Exception {
        Golden.assertClose(golden, out, 1e-6, 1e-5);
        try (SafetensorsFile b = SafetensorsFile.open(base); SafetensorsFile g = SafetensorsFile.open(golden);
                SafetensorsFile o = SafetensorsFile.open(out)) {
            assertEquals(b.names(), o.names());
            int changed = 0;
            for (String n : b.names()) {
                if (Golden.sameBytes(b.tensor(n), g.tensor(n))) {
                    Golden.assertSameBytes(n, b.tensor(n), o.tensor(n)); // untouched keys byte-identical
                } else {
                    changed++;
                }
            }
            assertEquals(40, changed);
            assertTrue(o.metadata().get("ss_loraid_merged").contains("\"multiplier\""), o.metadata().toString());
        }
    }

    @Test
    void lora_tiny_at_0_8_matches_golden() throws Exception {
        Path base = Golden.path("wan_tiny_weights.safetensors");
        Path out = dir.resolve("merged.safetensors");
        LoraMerger.merge(request(base, List.of(Golden.path("lora_tiny.safetensors")), Optional.empty(), List.of(0.8), null, out),
                new CollectingReporter());
        assertMerged(Golden.path("lora_merged_weights.safetensors"), out, base);
    }

    @Test
    void two_loraid_loras_match_golden() throws Exception {
        Path base = Golden.path("wan_tiny_weights.safetensors");
        Path out = dir.resolve("merged_ids.safetensors");
        // the golden LoRAs carry no ss_loraid: --LORAID 1 2 assigns them by position, ranges checked at P=2
        CollectingReporter r = new CollectingReporter();
        LoraMerger.merge(request(base, List.of(Golden.path("lora_id1.safetensors"), Golden.path("lora_id2.safetensors")),
                Optional.of(List.of(1, 2)), List.of(1.0, 0.7), 2, out), r);
        assertMerged(Golden.path("lora_id_merged_weights.safetensors"), out, base);
        assertTrue(r.informed("no block overlaps"), r.infos.toString());
    }
}
