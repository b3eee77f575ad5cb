package dev.loraid.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Synthetic Wan-like module lists (spec loraid.md §8 fixtures): per block the ten adaptable Linear layers
 * (twelve with the Wan 2.1 I2V {@code k_img}/{@code v_img}), plus non-adaptable names that the built-in
 * exclusion must reject.
 */
public final class WanModuleFixture {
    private WanModuleFixture() {
    }

    public static final List<String> T2V_LINEARS = List.of("self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o",
            "cross_attn.q", "cross_attn.k", "cross_attn.v", "cross_attn.o", "ffn.0", "ffn.2");

    /** Candidate module names of a B-block model. */
    public static List<String> modules(int blocks, boolean i2v) {
        List<String> out = new ArrayList<>(List.of("patch_embedding", "text_embedding.0", "text_embedding.2",
                "time_embedding.0", "time_embedding.2", "time_projection.1"));
        for (int b = 0; b < blocks; b++) {
            for (String m : T2V_LINEARS) {
                out.add("blocks." + b + "." + m);
            }
            if (i2v) {
                out.add("blocks." + b + ".cross_attn.k_img");
                out.add("blocks." + b + ".cross_attn.v_img");
            }
        }
        out.add("head.head");
        return out;
    }
}
