package dev.loraid.wan;

import org.junit.jupiter.api.Test;

import static dev.loraid.wan.CheckpointedStepMemory.STREAM;
import static dev.loraid.wan.CheckpointedStepMemory.heldAndPeak;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block-level gradient checkpointing (training.md §3.5) costs one residual stream [L, D] per block: after the forward
 * (the block's input, kept for its recomputation) and at the peak of the backward pass (each block's input gradient
 * is given back once the block before it has used it), measured as the difference between the same model with 6
 * and with 2 blocks. Before, each block kept three sub-block inputs and the backward pass three gradients more.
 */
class WanCheckpointMemoryTest {
    @Test
    void eachCheckpointedBlockCostsOneResidualStream() {
        long[] two = heldAndPeak(2, m -> { });
        long[] six = heldAndPeak(6, m -> { });
        long held = six[0] - two[0];
        long peak = six[1] - two[1];
        System.out.printf("4 more checkpointed blocks: %d bytes more after the forward, %d more at the backward's "
                + "peak (one residual stream: %d bytes)%n", held, peak, STREAM);
        assertTrue(held >= 4 * STREAM && held <= 4 * STREAM + 4 * 1024,
                "held after the forward: " + held + " bytes for 4 blocks, expected 4 x " + STREAM);
        assertTrue(peak <= 5 * STREAM, "backward peak: " + peak + " bytes for 4 blocks, expected about 4 x " + STREAM);
    }
}
