package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanPresets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BlockModulesTest {
    @Test
    void preset_blocks_hold_the_ten_linears_and_the_i2v_image_keys() {
        List<String> t2v = BlockModules.of(WanKeys.expectedShapes(WanPresets.get("t2v-1.3B").config()));
        assertEquals(30 * 10, t2v.size());
        assertEquals(List.of("blocks.0.self_attn.q", "blocks.0.self_attn.k", "blocks.0.self_attn.v", "blocks.0.self_attn.o",
                "blocks.0.cross_attn.q", "blocks.0.cross_attn.k", "blocks.0.cross_attn.v", "blocks.0.cross_attn.o",
                "blocks.0.ffn.0", "blocks.0.ffn.2"), t2v.subList(0, 10));
        List<String> i2v = BlockModules.of(WanKeys.expectedShapes(WanPresets.get("i2v-14B").config()));
        assertEquals(40 * 12, i2v.size());
        assertEquals("blocks.39.cross_attn.v_img", i2v.get(i2v.size() - 3));
    }

    @Test
    void checkpoint_names_lose_their_prefix_and_norms_modulation_and_top_level_weights_are_skipped() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.diffusion_model.blocks.3.ffn.0.weight", new long[] {8, 4});
        shapes.put("model.diffusion_model.blocks.3.ffn.0.bias", new long[] {8});
        shapes.put("model.diffusion_model.blocks.3.norm3.weight", new long[] {4});
        shapes.put("model.diffusion_model.blocks.3.modulation", new long[] {1, 6, 4});
        shapes.put("model.diffusion_model.head.head.weight", new long[] {16, 4});
        shapes.put("model.diffusion_model.patch_embedding.weight", new long[] {4, 4, 1, 2, 2});
        assertEquals(List.of("blocks.3.ffn.0"), BlockModules.of(shapes));
    }
}
