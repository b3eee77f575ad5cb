package dev.loraid.core.ema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.Floats;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-AVG-1..4: T-35..T-38. */
class LoraBlendTest {
    private static final List<String> NAMES = List.of("lora1", "lora2");

    private static Tensor vec(float... v) {
        return LoraFixtures.tensor(DType.F32, Shape.of(v.length), v);
    }

    private static LoraFile file(Map<String, Tensor> t) {
        return new LoraFile("mem", new TreeMap<>(t), Map.of());
    }

    private static float[] get(LoraFile f, String key) {
        return Floats.read(f.tensors().get(key));
    }

    private static LoraBlend.Options opts(double b, LoraBlend.Mode mode, boolean compat) {
        return new LoraBlend.Options(b, mode, 0.1, compat);
    }

    @Test
    void t35_intelligent_blend() {
        String k = "lora_unet_blocks_0_ffn_0.lora_down.weight";
        List<LoraFile> out = LoraBlend.blend(List.of(file(Map.of(k, vec(0, 0.05f, 1.0f))), file(Map.of(k, vec(0.02f, 0.3f, 0.95f)))),
                NAMES, opts(0.5, LoraBlend.Mode.INTELLIGENT, false), new CollectingReporter());
        assertArrayEquals(new float[] {0.01f, 0.05f, 0.975f}, get(out.get(0), k), 1e-7f);
        assertArrayEquals(new float[] {0.01f, 0.3f, 0.975f}, get(out.get(1), k), 1e-7f);
        assertEquals("intelligent", out.get(0).metadata().get("ss_loraid_blend_mode"));
        assertEquals("0.5", out.get(0).metadata().get("ss_loraid_blend_factor"));
    }

    @Test
    void t36_blend_gates() {
        String k = "lora_unet_blocks_0_self_attn_q.lora_down.weight";
        List<LoraFile> in = List.of(file(Map.of(k, vec(0, 0.05f))), file(Map.of(k, vec(0.02f, 0.06f))));
        CollectingReporter r = new CollectingReporter();
        List<LoraFile> i = LoraBlend.blend(in, NAMES, opts(0.05, LoraBlend.Mode.INTELLIGENT, false), r);
        assertArrayEquals(get(in.get(0), k), get(i.get(0), k));
        assertTrue(r.warned("does nothing below EmaRequest.average 0.1"), r.warnings.toString());
        CollectingReporter r2 = new CollectingReporter();
        List<LoraFile> d = LoraBlend.blend(in, NAMES, opts(0.15, LoraBlend.Mode.DEMOCRATIC, false), r2);
        assertArrayEquals(get(in.get(0), k), get(d.get(0), k));
        assertTrue(r2.warned("self-attention unchanged below EmaRequest.average 0.2"), r2.warnings.toString());
    }

    /** down = fill(d), up = fill(u), alpha 1, rank 2, for module {@code name}. */
    private static void module(Map<String, Tensor> t, String name, float d, float u) {
        t.put(name + ".lora_down.weight", LoraFixtures.constant(d, 2, 4));
        t.put(name + ".lora_up.weight", LoraFixtures.constant(u, 4, 2));
        t.put(name + ".alpha", Tensor.scalar(1));
    }

    @Test
    void t37_democratic_rules() {
        Map<String, Tensor> p = new TreeMap<>();
        Map<String, Tensor> o = new TreeMap<>();
        String leader = "lora_unet_blocks_0_cross_attn_q";
        String consensus = "lora_unet_blocks_0_cross_attn_k";
        String spatial = "lora_unet_blocks_0_self_attn_q";
        String ffn = "lora_unet_blocks_0_ffn_0";
        String norm = "lora_unet_blocks_0_norm_x";
        String general = "lora_unet_head_head";
        module(p, leader, 1, 1);
        module(o, leader, 1, 2); // module magnitude 2×
        module(p, consensus, 1, 1);
        module(o, consensus, 1, 1.2f); // 1.2×
        for (String m : List.of(spatial, ffn, norm, general)) {
            module(p, m, 1, 1);
            module(o, m, 3, 3);
        }
        List<LoraFile> out = LoraBlend.blend(List.of(file(p), file(o)), NAMES, opts(0.3, LoraBlend.Mode.DEMOCRATIC, false),
                new CollectingReporter());
        Object[][] expect = {{leader, 0.5}, {consensus, 0.3}, {spatial, 0.15}, {ffn, 0.21}, {norm, 0.0}, {general, 0.0}};
        for (Object[] e : expect) {
            double r = (double) e[1];
            for (String part : List.of(".lora_down.weight", ".lora_up.weight")) {
                String k = e[0] + part;
                float pv = get(file(p), k)[0];
                float ov = get(file(o), k)[0];
                assertEquals((1 - r) * pv + r * ov, get(out.getFirst(), k)[0], 1e-6, k);
            }
            assertEquals(1f, get(out.getFirst(), e[0] + ".alpha")[0]); // alpha never blended
        }
        // the other direction: lora2 is the larger one, so no leader for it; consensus at b
        assertEquals(0.7 * 2 + 0.3 * 1, get(out.get(1), leader + ".lora_up.weight")[0], 1e-6);
    }

    @Test
    void t38_disjoint_blend_noop() {
        LoraFile a = LoraFixtures.randomLora("a", 1, 0, 11, 2, 1, LoraidMetadata.of(LoraidAllocator.slice(1, 12, 40)));
        LoraFile b = LoraFixtures.randomLora("b", 2, 12, 23, 2, 1, LoraidMetadata.of(LoraidAllocator.slice(2, 12, 40)));
        CollectingReporter r = new CollectingReporter();
        List<LoraFile> out = LoraBlend.blend(List.of(a, b), NAMES, opts(1.0, LoraBlend.Mode.DEMOCRATIC, false), r);
        assertTrue(r.warned("no effect on disjoint LORAID LoRAs"), r.warnings.toString());
        for (int i = 0; i < 2; i++) {
            LoraFile in = List.of(a, b).get(i);
            assertEquals(in.tensors().keySet(), out.get(i).tensors().keySet());
            in.tensors().forEach((k, t) -> Golden.assertSameBytes(k, t, out.get(0 + List.of(a, b).indexOf(in)).tensors().get(k)));
        }
        List<LoraFile> compat = LoraBlend.blend(List.of(a, b), NAMES, opts(1.0, LoraBlend.Mode.DEMOCRATIC, true), new CollectingReporter());
        LoraFile a2 = compat.getFirst();
        assertTrue(a2.tensors().containsKey("lora_unet_blocks_12_self_attn_q.lora_down.weight"));
        assertEquals(a.tensors().size() + b.tensors().size(), a2.tensors().size());
        for (float v : get(a2, "lora_unet_blocks_3_cross_attn_v.lora_up.weight")) {
            assertEquals(0f, v);
        }
        assertEquals("democratic", a2.metadata().get("ss_loraid_blend_mode"));
    }
}
