package dev.loraid.wan;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.MaxAbs;
import dev.loraid.tensor.testing.TestDevice;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mixed precision ({@link WanModel#setActivationDType}, spec wan.md §2.11): the Linear and attention activations are
 * half precision, the norms, time embedding and residual stream fp32, and the result stays close to the fp32
 * forward.
 */
class WanMixedPrecisionTest {
    /**
     * bf16 keeps 8 significant bits: each rounding moves a value by at most 2⁻⁹ ≈ 2e-3 of itself. The tiny DiT
     * rounds every Linear input and output and q, k, v, ~10 roundings per block on the path to the output (4
     * blocks, plus the text embedding and the head); independent roundings add up to well under 2e-2 of the output's
     * range, the same order as the spec's "relative L2 error of about 1e-2 per block" (§2.11) for a bf16 port.
     */
    private static final double BF16_TOLERANCE = 2e-2;

    @Test
    void halfPrecisionForwardsAreCloseToTheFp32ForwardButNotEqual() throws IOException {
        WanModel model = goldenTiny();
        WanInputs in = goldenInputs();
        Tensor reference = model.forward(in);
        double range = MaxAbs.of(reference.toDoubleArray());
        for (DType half : new DType[] {DType.BF16, DType.F16}) {
            model.setActivationDType(half);
            Map<String, DType> dtypes = new HashMap<>();
            Tensor out = model.forward(in, (name, t) -> dtypes.put(name, t.dtype()));
            assertEquals(DType.F32, out.dtype(), half + ": the velocity is handed back in fp32");
            double err = MaxAbs.ofDifference(reference.toDoubleArray(), out.toDoubleArray());
            System.out.printf("%s activations vs fp32: max abs error %.2e of max |out| %.2e%n", half, err, range);
            assertTrue(err > 0, half + ": bit-equal to the fp32 forward, so the half path did not run");
            assertTrue(err < BF16_TOLERANCE * range, half + ": max abs error " + err + " vs max |out| " + range);
            // the half dtype where upstream's autocast has it, fp32 where upstream keeps fp32 (§2.4, §2.11)
            for (String name : new String[] {"context_emb", "block0.self_attn.q", "block0.self_attn.k",
                    "block1.self_attn_out", "block1.cross_attn_out", "block1.ffn_out"}) {
                assertEquals(half, dtypes.get(name), half + ": " + name);
            }
            for (String name : new String[] {"tokens", "e", "e0", "block0.out", "block1.out", "head_out"}) {
                assertEquals(DType.F32, dtypes.get(name), half + ": " + name);
            }
        }
        model.setActivationDType(DType.F32);
        assertTrue(Golden.sameBytes(reference, model.forward(in)), "back to F32: the fp32 forward bit for bit");
    }

    /**
     * The norms run in fp32 on the fp32 residual stream: a block input of 1000 + N(0, 1) per channel keeps its unit
     * variations (fp32 resolves 6e-5 at 1000), which its LayerNorms normalise. Were the norm's input or statistics
     * bf16 (steps of 4 at 1000), those variations would be gone — the control below feeds the fp32 block the
     * bf16-rounded input and its update moves by far more than the tolerance, so this test can fail.
     */
    @Test
    void normsSeeTheFp32ResidualStreamWithALargeOffset() throws IOException {
        WanModel model = goldenTiny();
        WanConfig c = model.config();
        Random rng = new Random(11);
        int f = 1;
        int h = 2;
        int w = 3;
        long tokens = (long) f * h * w;
        Tensor x = gaussian(rng, 1000, 1, tokens, c.dim());
        Var e0 = Var.constant(gaussian(rng, 0, 0.1, 1, 6, c.dim()));
        Var ctx = Var.constant(gaussian(rng, 0, 1, c.textLen(), c.dim()));
        RopeTables rope = RopeTables.of(c.headDim(), f, h, w);
        WanBlock block = model.blocks().getFirst();

        double[] exact = update(block, x, e0, ctx, rope);
        model.setActivationDType(DType.BF16);
        double[] mixed = update(block, x, e0, ctx, rope);
        model.setActivationDType(DType.F32);
        double[] roundedInput = update(block, x.to(DType.BF16).to(DType.F32), e0, ctx, rope);

        double range = MaxAbs.of(exact);
        double err = MaxAbs.ofDifference(exact, mixed);
        double control = MaxAbs.ofDifference(exact, roundedInput);
        System.out.printf("offset 1000: bf16 activations %.2e, bf16-rounded block input %.2e, of max |update| %.2e%n",
                err, control, range);
        assertTrue(err < BF16_TOLERANCE * range, "bf16 activations: block update error " + err + " vs max " + range);
        assertTrue(control > 10 * BF16_TOLERANCE * range, "control: a bf16 norm input moves the update by " + control);
    }

    @Test
    void onlyF32Bf16AndF16AreActivationDtypes() {
        WanModel model = new WanModel(WanPresets.TINY);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.setActivationDType(DType.F64));
        assertEquals("activation dtype F64: expected F32, BF16 or F16", e.getMessage());
    }

    /** block(x) − x, the block's contribution to the residual stream (x is fp32 around 1000). */
    private static double[] update(WanBlock block, Tensor x, Var e0, Var ctx, RopeTables rope) {
        double[] in = x.toDoubleArray();
        double[] out = block.forward(Var.constant(x), e0, ctx, rope, WanTaps.NONE).data().toDoubleArray();
        for (int i = 0; i < out.length; i++) {
            out[i] -= in[i];
        }
        return out;
    }

    private static WanModel goldenTiny() throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (SafetensorsFile f = Golden.open("wan_tiny_weights.safetensors")) {
            for (String n : f.names()) {
                weights.put(n, f.tensor(n).copy());
            }
        }
        Device device = TestDevice.get();
        return WanModel.load(WanPresets.TINY, new WanWeights(weights, "wan_tiny_weights")).to(device);
    }

    private static WanInputs goldenInputs() throws IOException {
        try (SafetensorsFile g = Golden.open("wan_tiny_forward.safetensors")) {
            return WanInputs.of(g.tensor("x").copy(), g.tensor("t").copy(), g.tensor("context").copy());
        }
    }

    private static Tensor gaussian(Random rng, double mean, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * rng.nextGaussian());
        }
        return Tensor.of(v, shape);
    }
}
