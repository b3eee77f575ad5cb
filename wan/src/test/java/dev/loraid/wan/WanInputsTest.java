package dev.loraid.wan;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WanInputsTest {
    private static final WanConfig C = WanPresets.TINY;

    private static WanInputs inputs(long[] x, long[] t, long[] ctx) {
        return WanInputs.of(Tensor.zeros(DType.F32, x), Tensor.zeros(DType.F32, t), Tensor.zeros(DType.F32, ctx));
    }

    @Test
    void theGoldenShapesAreAccepted() {
        WanInputs in = inputs(new long[] {4, 2, 4, 6}, new long[] {1}, new long[] {5, 32});
        assertDoesNotThrow(() -> in.validate(C, "in.safetensors"));
        assertArrayEquals(new int[] {2, 2, 3}, in.grid(C));
        WanInputs perToken = inputs(new long[] {4, 2, 4, 6}, new long[] {12}, new long[] {5, 32});
        assertDoesNotThrow(() -> perToken.validate(WanPresets.TINY_V22, "in.safetensors"));
    }

    @Test
    void eachBadShapeGetsAMessageNamingTheInput() {
        assertMessage(inputs(new long[] {4, 2, 5, 6}, new long[] {1}, new long[] {5, 32}),
                "in.safetensors: x has shape [4, 2, 5, 6]: latent height 5 is not a multiple of the patch size 2");
        assertMessage(inputs(new long[] {3, 2, 4, 6}, new long[] {1}, new long[] {5, 32}), "x has 3 channels");
        assertMessage(inputs(new long[] {4, 2, 4, 6}, new long[] {1}, new long[] {9, 32}),
                "context has shape [9, 32]: expected [L ≤ 8, 32]");
        assertMessage(inputs(new long[] {4, 2, 4, 6}, new long[] {12}, new long[] {5, 32}),
                "per-token timesteps need a Wan 2.2 model");
    }

    /** The differentiable call does not move its inputs (that would cut their gradient): another device is named. */
    @Test
    void inputsOnAnotherDeviceThanTheModelAreNamed() throws java.io.IOException {
        // a tensor that only claims to be on cuda:0: the check reads the claim, no backend is asked
        Tensor onGpu = new Tensor(new Storage(Device.cuda(0), MemorySegment.ofArray(new float[4 * 2 * 4 * 6]), null),
                DType.F32, Shape.of(4, 2, 4, 6), Shape.of(4, 2, 4, 6).contiguousStrides(), 0);
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"))) {
            WanModel model = ck.model();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(
                    Var.constant(onGpu), new double[] {500}, Var.constant(Tensor.zeros(DType.F32, 5, 32)), WanTaps.NONE));
            assertTrue(e.getMessage().contains("latent is on cuda:0 but the model is on cpu"), e.getMessage());
        }
    }

    private static void assertMessage(WanInputs in, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> in.validate(C, "in.safetensors"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
