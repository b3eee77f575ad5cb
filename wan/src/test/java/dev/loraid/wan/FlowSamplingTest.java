package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class FlowSamplingTest {
    /** Spec §5.5 statements: UniPC with shift 5 starts at t = 999, DPM++ at 1000; every grid ends at σ = 0. */
    @Test
    void schedulesFollowTheSpec() {
        FlowSchedule unipc = FlowSchedule.unipc(50, 5.0);
        assertEquals(50, unipc.steps());
        assertEquals(999, unipc.timesteps()[0]);
        assertEquals(0.0, unipc.sigmas()[50]);
        FlowSchedule dpm = FlowSchedule.dpmpp(40, 3.0);
        assertEquals(1000, dpm.timesteps()[0]);
        FlowSchedule euler = FlowSchedule.euler(4, 5.0);
        // σ = 1, .75, .5, .25, 0 shifted by 5: 5σ / (1 + 4σ)
        double[] want = {1, 3.75 / 4, 2.5 / 3, 1.25 / 2, 0};
        assertArrayEquals(want, euler.sigmas(), 1e-15);
        assertEquals((float) (1000 * 3.75 / 4), euler.timesteps()[1], 0, "Euler timesteps stay float32, not truncated");
        for (int i = 0; i < 50; i++) {
            double sigma = 0.999 * (50 - i) / 50;                 // linspace(0.999, 0, 51)[i]
            double shifted = 5 * sigma / (1 + 4 * sigma);
            assertEquals(Math.floor(shifted * 1000), unipc.timesteps()[i], "UniPC timestep " + i);
        }
    }

    /** On the straight path x_σ = (1−σ)x0 + σε the exact velocity ε − x0 is constant, so Euler lands on x0. */
    @Test
    void eulerWithTheExactVelocityRecoversTheCleanLatent() {
        Tensor x0 = Tensor.of(new float[] {0.5f, -1.25f, 2f, 0.125f}, 4);
        Tensor eps = Tensor.of(new float[] {1f, 0.25f, -0.75f, -2f}, 4);
        Tensor v = Tensor.of(new float[] {0.5f, 1.5f, -2.75f, -2.125f}, 4);
        Tensor wrong = Tensor.of(new float[] {9f, 9f, 9f, 9f}, 4);
        List<Double> seen = new ArrayList<>();
        // guidance 1: the (wrong) negative velocity must never be asked for
        Tensor out = EulerSampler.sample(FlowSchedule.euler(7, 5.0), eps, (x, t, neg) -> {
            seen.add(t);
            return neg ? wrong : v;
        }, t -> 1.0);
        assertArrayEquals(x0.toFloatArray(), out.toFloatArray(), 1e-6f);
        assertEquals(7, seen.size(), "guidance 1 runs no negative pass");
    }

    /** CFG combines the two passes as vu + g·(vc − vu); A14B-style guidance changes with t. */
    @Test
    void guidanceCombinesBothPassesPerStep() {
        Tensor zero = Tensor.zeros(DType.F32, 2);
        Tensor vc = Tensor.of(new float[] {1f, 2f}, 2);
        Tensor vu = Tensor.of(new float[] {3f, -1f}, 2);
        FlowSchedule one = FlowSchedule.euler(1, 1.0);
        Tensor out = EulerSampler.sample(one, zero, (x, t, neg) -> neg ? vu : vc, t -> t >= 875 ? 4.0 : 3.0);
        // one step from σ = 1 to 0 at t = 1000 (guidance 4): x = 0 − (vu + 4(vc − vu))
        assertArrayEquals(new float[] {-(3 + 4 * (1 - 3)), -(-1 + 4 * (2 + 1))}, out.toFloatArray(), 1e-6f);
    }

    /** The Wan velocity adapter runs the tiny model: one Euler step from σ = 1 at t = 1000 is x − v. */
    @Test
    void wanVelocityAdapterCallsTheModel() throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile g = Golden.open("wan_tiny_forward_t2.safetensors")) {
            WanModel model = ck.model();
            Tensor x = g.tensor("x").copy();
            Tensor ctx = g.tensor("context").copy();
            FlowSchedule s = new FlowSchedule(new double[] {1.0, 0.0}, new double[] {937.5});
            Tensor out = EulerSampler.sample(s, x, EulerSampler.wan(t -> model, ctx, ctx, null, null), t -> 1.0);
            double[] want = x.toDoubleArray();
            double[] v = g.tensor("output").toDoubleArray();
            for (int i = 0; i < want.length; i++) {
                want[i] -= v[i];
            }
            Golden.assertClose("x − v", Tensor.ofDoubles(want, 4, 2, 4, 6), out, 1e-4, 1e-4);
        }
    }
}
