package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.json.Json;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.lora.LoraFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md REQ-META-1, -3, test cases T-21 (keys; hashes in the lora package) and T-22. */
class LoraidMetadataTest {

    @Test
    void t21_metadata_written() {
        Map<String, String> m = LoraidMetadata.of(LoraidAllocator.slice(2, 3, 40));
        assertEquals("2", m.get("ss_loraid"));
        assertEquals("3", m.get("ss_loraid_blocks_per_loraid"));
        assertEquals("3", m.get("ss_loraid_block_start"));
        assertEquals("5", m.get("ss_loraid_block_end"));
        assertEquals("40", m.get("ss_loraid_total_blocks"));
        List<?> inc = (List<?>) Json.parse(m.get("ss_loraid_include_patterns"));
        assertEquals(9, inc.size());
        assertEquals("blocks\\.3\\.self_attn\\.", inc.get(0));
        assertEquals("blocks\\.5\\.ffn\\.", inc.get(8));
        assertEquals("[]", m.get("ss_loraid_exclude_patterns"));
        LoraidMetadata back = LoraidMetadata.read(m, "f", Reporter.SILENT);
        assertEquals(LoraidAllocator.slice(2, 3, 40), back.slice(40, null, "f"));
        // every written LoRA carries the content hashes (REQ-META-4)
        Path f = dir.resolve("id2.safetensors");
        LoraFiles.write(LoraFixtures.randomLora("id2", 1, 3, 5, 2, 1, m), f);
        Map<String, String> written = LoraFiles.read(f).metadata();
        assertEquals("2", written.get("ss_loraid"));
        assertEquals(64, written.get("sshs_model_hash").length());
        assertEquals(8, written.get("sshs_legacy_hash").length());
    }

    @TempDir
    Path dir;

    @Test
    void t22_metadata_mismatch() {
        LoraidMetadata forty = LoraidMetadata.read(LoraidMetadata.of(LoraidAllocator.slice(1, 12, 40)), "a.safetensors", Reporter.SILENT);
        LoraidException e = assertThrows(LoraidException.class, () -> forty.slice(30, null, "a.safetensors"));
        assertTrue(e.getMessage().contains("a.safetensors") && e.getMessage().contains("40-block")
                && e.getMessage().contains("30 blocks"), e.getMessage());
        LoraidException p = assertThrows(LoraidException.class, () -> forty.slice(40, 3, "a.safetensors"));
        assertTrue(p.getMessage().contains("a.safetensors") && p.getMessage().contains("12")
                && p.getMessage().contains("MergeRequest.blocksPerLoraid is 3"), p.getMessage());
        // consistent CLI value is fine
        assertEquals(0, forty.slice(40, 12, "a").start());
    }

    @Test
    void invalid_ss_loraid_is_warned_and_ignored() {
        CollectingReporter r = new CollectingReporter();
        assertTrue(LoraidMetadata.read(Map.of("ss_loraid", "abc"), "f", r).loraid().isEmpty());
        assertTrue(LoraidMetadata.read(Map.of("ss_loraid", "0"), "f", r).loraid().isEmpty());
        assertEquals(2, r.warnings.size());
        assertEquals(7, LoraidMetadata.read(Map.of("ss_loraid", " 7 "), "f", r).loraid().getAsInt());
    }

    @Test
    void range_keys_must_agree() {
        Map<String, String> m = Map.of("ss_loraid", "2", "ss_loraid_blocks_per_loraid", "12", "ss_loraid_block_start", "11");
        LoraidException e = assertThrows(LoraidException.class,
                () -> LoraidMetadata.read(m, "b", Reporter.SILENT).slice(40, null, "b"));
        assertTrue(e.getMessage().contains("b: metadata range 11–?"), e.getMessage());
    }
}
