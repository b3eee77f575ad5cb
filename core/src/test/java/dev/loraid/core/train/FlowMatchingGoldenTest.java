package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loraid.autograd.Var;
import dev.loraid.core.Floats;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import org.junit.jupiter.api.Test;

/**
 * The flow-matching step against {@code flow_matching_loss.safetensors} (golden README): noisy, target, the
 * tiny model's differentiable forward at σ·1000 (sigma mode) and σ·1000 + 1 (continuous modes), and the loss.
 */
class FlowMatchingGoldenTest {
    @Test
    void noisy_target_pred_and_loss_match_the_oracle() throws Exception {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"), WanPresets.get("tiny").config());
                SafetensorsFile g = SafetensorsFile.open(Golden.path("flow_matching_loss.safetensors"))) {
            WanModel model = ck.model(TestDevice.get());
            Device d = model.device();
            double sigma = g.tensor("sigma").getFloat(0);
            assertEquals(0.3f, (float) sigma);
            try (MemoryScope step = MemoryScope.open()) {
                Var x0 = Var.constant(g.tensor("latents").to(d));
                Var noise = Var.constant(g.tensor("noise").to(d));
                Var context = Var.constant(g.tensor("context").to(d));
                Var noisy = FlowMatching.noisy(x0, noise, sigma);
                Var target = FlowMatching.target(x0, noise);
                Golden.assertClose("noisy", g.tensor("noisy"), TestDevice.host(noisy.data()), 1e-6, 1e-6);
                Golden.assertClose("target", g.tensor("target"), TestDevice.host(target.data()), 1e-6, 1e-6);
                for (String suffix : new String[] {"", "_plus1"}) {
                    double t = g.tensor("timestep" + suffix).getFloat(0);
                    assertEquals(suffix.isEmpty() ? 300.0 : 301.0, t);
                    Var pred = model.forward(noisy, new double[] {t}, context, WanTaps.NONE);
                    Golden.assertClose("pred" + suffix, g.tensor("pred" + suffix), TestDevice.host(pred.data()), 1e-4, 1e-4);
                    double expected = g.tensor("loss" + suffix).getFloat();
                    double loss = Floats.read(TestDevice.host(FlowMatching.loss(pred, target, 1.0).data()))[0];
                    assertEquals(expected, loss, 1e-5 * Math.abs(expected), "loss" + suffix);
                    double weighted = Floats.read(TestDevice.host(FlowMatching.loss(pred, target, 2.5).data()))[0];
                    assertEquals(2.5 * expected, weighted, 2.5e-5 * Math.abs(expected), "weighted loss" + suffix);
                }
            }
        }
    }
}
