package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.WanModuleFixture;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-ALLOC-5..8, test cases T-08..T-13. */
class ModuleSelectorTest {
    private static final List<String> T2V = WanModuleFixture.modules(40, false);

    private static List<String> select(Optional<LoraidSlice> slice, List<String> include, List<String> exclude, List<String> candidates) {
        return new ModuleSelector(slice, include, exclude).select(candidates, new CollectingReporter());
    }

    private static Optional<LoraidSlice> id(int id, int p) {
        return Optional.of(LoraidAllocator.slice(id, p, 40));
    }

    @Test
    void t08_prefix_no_collision() {
        List<String> got = select(id(1, 2), List.of(), List.of(), T2V);
        assertEquals(20, got.size());
        assertTrue(got.contains("blocks.1.ffn.0"));
        assertTrue(got.stream().allMatch(m -> m.startsWith("blocks.0.") || m.startsWith("blocks.1.")), got.toString());
        assertFalse(got.contains("blocks.10.ffn.0"));
        assertFalse(got.contains("blocks.11.self_attn.q"));
    }

    @Test
    void t09_module_count() {
        CollectingReporter r = new CollectingReporter();
        List<String> t2v = new ModuleSelector(id(3, 12), List.of(), List.of()).select(T2V, r);
        assertEquals(120, t2v.size());
        assertTrue(t2v.stream().allMatch(m -> BlockCount.blockOf(m) >= 24 && BlockCount.blockOf(m) <= 35));
        assertTrue(r.informed("LORAID 3: blocks 24–35, 120 modules"), r.infos.toString());
        List<String> i2v = select(id(3, 12), List.of(), List.of(), WanModuleFixture.modules(40, true));
        assertEquals(144, i2v.size());
        assertTrue(i2v.contains("blocks.30.cross_attn.k_img"));
        assertFalse(i2v.contains("blocks.30.cross_attn.norm_k_img"));
    }

    @Test
    void t10_user_patterns_cannot_widen() {
        List<String> got = select(id(1, 12), List.of("blocks\\.(0|1|20)\\..*"), List.of(".*"), T2V);
        assertEquals(20, got.size());
        assertTrue(got.stream().allMatch(m -> m.startsWith("blocks.0.") || m.startsWith("blocks.1.")), got.toString());
    }

    @Test
    void t11_user_exclude_narrows() {
        List<String> got = select(id(1, 12), List.of(), List.of(".*cross_attn.*"), T2V);
        assertEquals(72, got.size());
        assertTrue(got.stream().noneMatch(m -> m.contains("cross_attn")));
    }

    @Test
    void t12_empty_selection_error() {
        LoraidException e = assertThrows(LoraidException.class,
                () -> select(id(1, 12), List.of("blocks\\.20\\..*"), List.of(".*"), T2V));
        assertTrue(e.getMessage().contains("no modules selected"), e.getMessage());
        assertTrue(e.getMessage().contains("0–11"), e.getMessage());
        assertTrue(e.getMessage().contains("blocks\\.20\\..*"), e.getMessage());
        // the upstream idiom "exclude everything, include some" works without a LORAID
        List<String> got = select(Optional.empty(), List.of("blocks\\.1\\..*"), List.of(".*"), T2V);
        assertEquals(10, got.size());
        assertTrue(got.stream().allMatch(m -> m.startsWith("blocks.1.")));
    }

    @Test
    void t13_builtin_excludes() {
        List<String> candidates = new java.util.ArrayList<>(WanModuleFixture.modules(4, true));
        candidates.addAll(List.of("blocks.0.norm3", "blocks.0.cross_attn.norm_k_img", "blocks.0.norm_q"));
        List<String> got = select(Optional.empty(), List.of(), List.of(), candidates);
        assertEquals(48, got.size());
        assertTrue(got.stream().noneMatch(m -> m.contains("patch_embedding") || m.contains("norm") || m.startsWith("head")
                || m.startsWith("time_") || m.startsWith("text_embedding")), got.toString());
    }

    @Test
    void include_alone_does_not_narrow_and_hints() {
        CollectingReporter r = new CollectingReporter();
        List<String> got = new ModuleSelector(Optional.empty(), List.of("blocks\\.1\\..*"), List.of()).select(T2V, r);
        assertEquals(400, got.size());
        assertTrue(r.informed("exclude pattern"), r.infos.toString());
    }

    @Test
    void invalid_user_regex_names_it() {
        LoraidException e = assertThrows(LoraidException.class, () -> new ModuleSelector(Optional.empty(), List.of("blocks\\.(1"), List.of()));
        assertTrue(e.getMessage().contains("blocks\\.(1"), e.getMessage());
    }
}
