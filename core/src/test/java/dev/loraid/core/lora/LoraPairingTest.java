package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.WanModuleFixture;
import dev.loraid.core.plan.LoraidMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-CLI-5/6, test cases T-17..T-20. */
class LoraPairingTest {

    /** A candidate with ss_loraid {@code id} (0 = none) adapting every Linear of blocks first..last. */
    static LoraPairing.Candidate file(String name, int id, int first, int last) {
        Map<String, String> meta = new HashMap<>();
        if (id > 0) {
            meta.put(LoraidMetadata.LORAID, Integer.toString(id));
        }
        List<String> names = new ArrayList<>();
        for (int b = first; b <= last; b++) {
            for (String m : WanModuleFixture.T2V_LINEARS) {
                names.add(LoraKeys.loraName("blocks." + b + "." + m));
            }
        }
        return new LoraPairing.Candidate(name, LoraidMetadata.read(meta, name, Reporter.SILENT), names);
    }

    private static List<LoraPairing.Applied> pair(List<LoraPairing.Candidate> files, List<Integer> ids, List<Double> mult,
            CollectingReporter r) {
        return LoraPairing.pair(files, ids == null ? Optional.empty() : Optional.of(ids), mult, 40, 12, false, r);
    }

    @Test
    void t17_pairing_by_metadata() {
        CollectingReporter r = new CollectingReporter();
        var applied = pair(List.of(file("J", 2, 12, 23), file("S", 1, 0, 11)), List.of(1, 2), List.of(1.0, 0.7), r);
        assertEquals(2, applied.size());
        assertEquals("S", applied.get(0).file());
        assertEquals(1.0, applied.get(0).multiplier());
        assertEquals("J", applied.get(1).file());
        assertEquals(0.7, applied.get(1).multiplier());
        assertTrue(r.informed("file | LORAID | blocks | multiplier"));
        assertTrue(r.informed("no block overlaps"));
    }

    @Test
    void t18_selective_activation() {
        CollectingReporter r = new CollectingReporter();
        var files = List.of(file("A", 1, 0, 11), file("B", 2, 12, 23), file("C", 3, 24, 35));
        var applied = pair(files, List.of(2), List.of(), r);
        assertEquals(1, applied.size());
        assertEquals("B", applied.get(0).file());
        assertEquals(1.0, applied.get(0).multiplier());
        assertTrue(r.informed("skipping A: LORAID 1 not selected"), r.infos.toString());
        LoraidException e = assertThrows(LoraidException.class, () -> pair(files, List.of(4), List.of(), r));
        assertTrue(e.getMessage().contains("LORAID 4 requested but no MergeRequest.loras file has it"), e.getMessage());
    }

    @Test
    void untagged_file_takes_positional_id_only_when_counts_match() {
        var applied = LoraPairing.pair(List.of(file("A", 0, 36, 38)), Optional.of(List.of(13)), List.of(), 40, 3, false,
                new CollectingReporter());
        assertEquals(13, applied.get(0).loraid().getAsInt());
        LoraidException e = assertThrows(LoraidException.class,
                () -> pair(List.of(file("A", 0, 0, 11), file("B", 2, 12, 23)), List.of(1), List.of(), new CollectingReporter()));
        assertTrue(e.getMessage().contains("cannot assign a LORAID to A"), e.getMessage());
        // --LORAID 4 on an untagged file: the range check of REQ-ALLOC-3 applies
        assertThrows(LoraidException.class, () -> pair(List.of(file("A", 0, 36, 39)), List.of(4), List.of(), new CollectingReporter()));
    }

    @Test
    void t19_duplicate_file_ids() {
        LoraidException e = assertThrows(LoraidException.class,
                () -> pair(List.of(file("X1", 1, 0, 11), file("X2", 1, 0, 11)), null, List.of(), new CollectingReporter()));
        assertTrue(e.getMessage().contains("duplicate LORAID 1: X1, X2"), e.getMessage());
    }

    @Test
    void t20_overlap_tagged_vs_untagged() {
        LoraidException out = assertThrows(LoraidException.class,
                () -> pair(List.of(file("X", 1, 0, 11), file("Y", 2, 11, 22)), null, List.of(), new CollectingReporter()));
        assertTrue(out.getMessage().contains("Y (LORAID 2, blocks 12–23) contains adapters for block(s) [11]"), out.getMessage());
        CollectingReporter r = new CollectingReporter();
        var applied = pair(List.of(file("X", 1, 0, 11), file("Z", 0, 0, 39)), null, List.of(), r);
        assertEquals(2, applied.size());
        assertTrue(r.warned("block overlap between X and Z"), r.warnings.toString());
    }

    @Test
    void overlap_between_tagged_files_with_different_p_is_an_error_unless_allowed() {
        // ID 2 at P=12 is blocks 12–23, ID 5 at P=3 is blocks 12–14 (D-05)
        Map<String, String> m = new HashMap<>(Map.of(LoraidMetadata.LORAID, "5", LoraidMetadata.BLOCKS_PER_LORAID, "3"));
        var y = new LoraPairing.Candidate("Y", LoraidMetadata.read(m, "Y", Reporter.SILENT), file("-", 0, 12, 14).loraNames());
        var files = List.of(file("X", 2, 12, 23), y);
        LoraidException e = assertThrows(LoraidException.class,
                () -> LoraPairing.pair(files, Optional.empty(), List.of(), 40, null, false, new CollectingReporter()));
        assertTrue(e.getMessage().contains("blocks [12, 13, 14]"), e.getMessage());
        CollectingReporter r = new CollectingReporter();
        assertEquals(2, LoraPairing.pair(files, Optional.empty(), List.of(), 40, null, true, r).size());
        assertTrue(r.warned("MergeRequest.allowOverlap"));
    }

    @Test
    void t16_multiplier_count_rules() {
        assertArrayEquals(new double[] {1, 1, 1}, LoraPairing.multipliers(List.of(), 3));
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, LoraPairing.multipliers(List.of(0.5), 3));
        assertArrayEquals(new double[] {1, 0.7, 0.3}, LoraPairing.multipliers(List.of(1.0, 0.7, 0.3), 3));
        LoraidException few = assertThrows(LoraidException.class, () -> LoraPairing.multipliers(List.of(1.0, 0.5), 3));
        assertTrue(few.getMessage().contains("got 2 multipliers for 3 LoRAs"), few.getMessage());
        assertThrows(LoraidException.class, () -> LoraPairing.multipliers(List.of(1.0, 1.0, 1.0, 1.0), 3));
        assertThrows(LoraidException.class, () -> LoraPairing.multipliers(List.of(Double.NaN), 1));
    }
}
