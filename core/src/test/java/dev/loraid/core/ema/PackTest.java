package dev.loraid.core.ema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.BaseModelFixture;
import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.PartitionedLora;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md REQ-PACK-1..6: T-39, T-40, T-41, through the ema command. */
class PackTest {
    @TempDir
    Path dir;
    Path a;
    Path b;

    @BeforeEach
    void fixtures() throws Exception {
        a = EmaTestFiles.write(LoraFixtures.randomLora("a", 1, 0, 11, 2, 1, LoraidMetadata.of(LoraidAllocator.slice(1, 12, 40))),
                dir.resolve("a/alice-000001.safetensors"), 1000);
        b = EmaTestFiles.write(LoraFixtures.randomLora("b", 2, 12, 23, 2, 1, LoraidMetadata.of(LoraidAllocator.slice(2, 12, 40))),
                dir.resolve("b/bob-000001.safetensors"), 1000);
    }

    private void ema(Path out, String mode, Map<Integer, Path> seriesOutputs) {
        EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, a, 2, b)), List.of(), out, new TreeMap<>(seriesOutputs),
                EmaSchedule.select(null, null, null, false), EpochDiscovery.SortBy.MTIME, false, 0, LoraBlend.Mode.INTELLIGENT,
                0.1, false, mode, false), new CollectingReporter());
    }

    @Test
    void t39_partitioned_pack_roundtrip() throws Exception {
        Path out = dir.resolve("combined.safetensors");
        ema(out, "partitioned", Map.of());
        LoraFile c = LoraFiles.read(out);
        Map<String, String> m = c.metadata();
        assertEquals("2", m.get("lora_count"));
        assertEquals("lora1,lora2", m.get("lora_names"));
        assertEquals("channel_partitioned", m.get("merge_method"));
        assertEquals("namespace_with_channel_assignment", m.get("partition_type"));
        assertEquals("360", m.get("lora1_original_count"));
        assertEquals("1", m.get("lora2_lora_index"));
        assertEquals("720", m.get("total_tensors"));
        assertTrue(m.get("lora1_keys").startsWith("lora1_lora_unet_blocks_0_"), m.get("lora1_keys"));
        assertFalse(m.containsKey("ss_loraid"));
        assertEquals("[1,2]", m.get("ss_loraid_list"));
        assertTrue(c.tensors().containsKey("lora2_lora_unet_blocks_12_self_attn_q.lora_down.weight"));
        List<LoraFile> parts = PartitionedLora.split(c);
        List<Path> inputs = List.of(a, b);
        for (int i = 0; i < 2; i++) {
            LoraFile orig = LoraFiles.read(inputs.get(i));
            LoraFile part = parts.get(i);
            assertEquals(orig.tensors().keySet(), part.tensors().keySet());
            orig.tensors().forEach((k, t) -> Golden.assertSameBytes(k, t, part.tensors().get(k)));
            assertEquals(Integer.toString(i + 1), part.metadata().get("ss_loraid"));
            assertEquals(orig.metadata().get("ss_loraid_block_start"), part.metadata().get("ss_loraid_block_start"));
        }
    }

    @Test
    void t40_union_pack() throws Exception {
        Path out = dir.resolve("union.safetensors");
        ema(out, "union", Map.of());
        LoraFile u = LoraFiles.read(out);
        assertEquals(720, u.tensors().size());
        assertEquals("[1,2]", u.metadata().get("ss_loraid_list"));
        assertFalse(u.metadata().containsKey("ss_loraid"));
        assertTrue(u.metadata().get("ss_loraid_union").contains("\"start\":12"), u.metadata().get("ss_loraid_union"));
        // merging the union at 1.0 equals merging both parts at 1.0
        Path base = BaseModelFixture.write(dir.resolve("base.safetensors"), 40, DType.F32, 9);
        Path m1 = dir.resolve("m1.safetensors");
        Path m2 = dir.resolve("m2.safetensors");
        LoraMerger.merge(new MergeRequest(base, List.of(out), Optional.empty(), List.of(), null, false, List.of(), List.of(), null, m1),
                new CollectingReporter());
        LoraMerger.merge(new MergeRequest(base, List.of(a, b), Optional.empty(), List.of(), null, false, List.of(), List.of(), null, m2),
                new CollectingReporter());
        try (SafetensorsFile x = SafetensorsFile.open(m1); SafetensorsFile y = SafetensorsFile.open(m2)) {
            for (String n : x.names()) {
                Golden.assertSameBytes(n, x.tensor(n), y.tensor(n));
            }
        }
        // overlapping ordinary LoRAs cannot be unioned
        Path c = EmaTestFiles.write(LoraFixtures.randomLora("c", 3, 0, 1, 2, 1, Map.of()), dir.resolve("c/c-000001.safetensors"), 1);
        Path d = EmaTestFiles.write(LoraFixtures.randomLora("d", 4, 1, 2, 2, 1, Map.of()), dir.resolve("d/d-000001.safetensors"), 1);
        LoraidException e = assertThrows(LoraidException.class, () -> EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, c, 2, d)), List.of(),
                dir.resolve("u2.safetensors"), new TreeMap<>(), EmaSchedule.select(null, null, null, false), EpochDiscovery.SortBy.MTIME,
                false, 0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "union", false), new CollectingReporter()));
        assertTrue(e.getMessage().contains("partitioned"), e.getMessage());
    }

    @Test
    void combined_file_merges_like_its_parts() throws Exception {
        Path out = dir.resolve("combined.safetensors");
        ema(out, "partitioned", Map.of());
        Path base = BaseModelFixture.write(dir.resolve("base.safetensors"), 40, DType.F32, 9);
        Path m1 = dir.resolve("m1.safetensors");
        Path m2 = dir.resolve("m2.safetensors");
        LoraMerger.merge(new MergeRequest(base, List.of(out), Optional.empty(), List.of(1.0, 0.5), null, false, List.of(), List.of(), null, m1),
                new CollectingReporter());
        LoraMerger.merge(new MergeRequest(base, List.of(a, b), Optional.empty(), List.of(1.0, 0.5), null, false, List.of(), List.of(), null, m2),
                new CollectingReporter());
        try (SafetensorsFile x = SafetensorsFile.open(m1); SafetensorsFile y = SafetensorsFile.open(m2)) {
            for (String n : x.names()) {
                Golden.assertSameBytes(n, x.tensor(n), y.tensor(n));
            }
        }
    }

    @Test
    void t41_outputs_required() throws Exception {
        EmaSchedule s = EmaSchedule.select(null, null, null, false);
        LoraidException none = assertThrows(LoraidException.class, () -> EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, a)), List.of(),
                null, new TreeMap<>(), s, EpochDiscovery.SortBy.MTIME, false, 0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false),
                new CollectingReporter()));
        assertTrue(none.getMessage().contains("no output requested"), none.getMessage());
        LoraidException slot = assertThrows(LoraidException.class, () -> EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, a)), List.of(),
                null, new TreeMap<>(Map.of(3, dir.resolve("x.safetensors"))), s, EpochDiscovery.SortBy.MTIME, false, 0,
                LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false), new CollectingReporter()));
        assertTrue(slot.getMessage().contains("EmaRequest.seriesOutputs[3] given without EmaRequest.series[3]"),
                slot.getMessage());
        LoraidException same = assertThrows(LoraidException.class, () -> EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, a)), List.of(),
                a, new TreeMap<>(), s, EpochDiscovery.SortBy.MTIME, false, 0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false),
                new CollectingReporter()));
        assertTrue(same.getMessage().contains("is also an input"), same.getMessage());
        // single series: --output_file is written even with --output_file_lora1 (REQ-PACK-2)
        Path o1 = dir.resolve("o1.safetensors");
        Path o2 = dir.resolve("o2.safetensors");
        EmaTool.run(new EmaRequest(new TreeMap<>(Map.of(1, a)), List.of(), o2, new TreeMap<>(Map.of(1, o1)), s, EpochDiscovery.SortBy.MTIME,
                false, 0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false), new CollectingReporter());
        assertTrue(Files.exists(o1) && Files.exists(o2));
    }
}
