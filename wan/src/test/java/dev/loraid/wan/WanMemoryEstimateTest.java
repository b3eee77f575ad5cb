package dev.loraid.wan;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WanMemoryEstimateTest {
    /** Spec §1.2 and §6.2: 81 frames at 480×832 give a 21×60×104 latent and 21·30·52 = 32,760 tokens. */
    @Test
    void tokenCountsMatchTheSpec() {
        WanVariant t2v = WanPresets.get("t2v-14B");
        WanMemoryEstimate e = WanMemoryEstimate.of(t2v.config(), t2v.vaeStride(), 832, 480, 81, 0);
        assertEquals(21, e.latentFrames());
        assertEquals(32_760, e.tokens());
        // the largest sub-block working set: 15 fp32 [L, D] rows in self-attention (5120-wide), about 10 GB
        assertEquals(15L * 32_760 * 5120 * 4, e.subBlockBytes());
        // pitfall 20: TI2V-5B at 704×1280 has a 44×80 latent and a 22×40 token grid per latent frame
        WanVariant ti2v = WanPresets.get("ti2v-5B");
        assertEquals(31L * 22 * 40, WanMemoryEstimate.of(ti2v.config(), ti2v.vaeStride(), 1280, 704, 121, 0).tokens());
    }

    @Test
    void sizesThatDoNotMapOntoPatchesAreRejected() {
        WanVariant t2v = WanPresets.get("t2v-1.3B");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanMemoryEstimate.of(t2v.config(), t2v.vaeStride(), 832, 470, 81, 0));
        assertTrue(e.getMessage().contains("multiples of 16 and 16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WanMemoryEstimate.of(t2v.config(), t2v.vaeStride(), 832, 480, 80, 0));
    }
}
