package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-ALLOC-1: B from the weights, never assumed. */
class BlockCountTest {
    private static List<String> weights(String prefix, int... blocks) {
        List<String> out = new ArrayList<>(List.of(prefix + "patch_embedding.weight", prefix + "head.head.weight"));
        for (int b : blocks) {
            out.add(prefix + "blocks." + b + ".self_attn.q.weight");
            out.add(prefix + "blocks." + b + ".norm3.bias");
        }
        return out;
    }

    private static int[] range(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    @Test
    void counts_blocks_with_and_without_prefix() {
        assertEquals(40, BlockCount.fromWeightNames(weights("", range(40))));
        assertEquals(30, BlockCount.fromWeightNames(weights("model.diffusion_model.", range(30))));
        assertEquals(4, BlockCount.fromWeightNames(weights("diffusion_model.", range(4))));
    }

    @Test
    void gap_is_an_error_naming_the_missing_block() {
        LoraidException e = assertThrows(LoraidException.class, () -> BlockCount.fromWeightNames(weights("", 0, 1, 3)));
        assertTrue(e.getMessage().contains("missing [2]"), e.getMessage());
    }

    @Test
    void no_blocks_is_an_error() {
        LoraidException e = assertThrows(LoraidException.class, () -> BlockCount.fromWeightNames(List.of("a.weight")));
        assertTrue(e.getMessage().contains("cannot determine model block count"), e.getMessage());
    }

    @Test
    void block_of_ignores_lookalikes() {
        assertEquals(12, BlockCount.blockOf("blocks.12.ffn.0"));
        assertEquals(-1, BlockCount.blockOf("xblocks.1.ffn.0"));
        assertEquals(-1, BlockCount.blockOf("blocks.x.ffn"));
        assertEquals(-1, BlockCount.blockOf("blocks.3"));
    }
}
