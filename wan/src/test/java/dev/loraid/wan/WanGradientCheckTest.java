package dev.loraid.wan;

import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Backward pass of the whole tiny DiT in float64: the gradients of {@code Σ out·R} (R fixed random) with respect to
 * the latent, the context and two weights made trainable, against central finite differences. Runs on
 * {@link TestDevice}: elements are perturbed and read in place through one-element views, on any device.
 */
class WanGradientCheckTest {
    private static final double H = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny-v22"})
    void gradientsMatchFiniteDifferences(String variant) throws IOException {
        Device device = TestDevice.get();
        WanConfig config = WanPresets.get(variant).config();
        Map<String, Tensor> f64 = new LinkedHashMap<>();
        Tensor x;
        Tensor context;
        double[] t;
        try (SafetensorsFile w = Golden.open("wan_tiny_weights.safetensors");
             SafetensorsFile g = Golden.open("wan_tiny_forward_v22.safetensors")) {
            for (String n : w.names()) {
                f64.put(n, w.tensor(n).to(DType.F64));
            }
            x = g.tensor("x").to(DType.F64).to(device);
            context = g.tensor("context").to(DType.F64).to(device);
            t = config.perTokenTime() ? g.tensor("t").toDoubleArray() : new double[] {500.0};
        }
        WanModel model = WanModel.load(config, new WanWeights(f64, "wan_tiny_weights (F64)")).to(device);
        Parameter ffn = model.namedParameters().get("blocks.1.ffn.0.weight").requiresGrad(true);
        Parameter mod = model.namedParameters().get("blocks.0.modulation").requiresGrad(true);
        Tensor r = random(new Random(7), 4, 2, 4, 6).to(device);

        Var xv = Var.leaf(x);
        Var cv = Var.leaf(context);
        try (MemoryScope step = MemoryScope.open()) {
            // seeded with R directly: the gradient of Σ out·R with respect to out is R
            model.forward(xv, t, cv, WanTaps.NONE).backward(r);
            Supplier<Double> loss = () -> {
                try (MemoryScope s = MemoryScope.open()) {
                    Tensor out = model.forward(Var.constant(x), t, Var.constant(context), WanTaps.NONE).data();
                    double sum = 0;
                    double[] o = out.toDoubleArray();
                    double[] rr = r.toDoubleArray();
                    for (int i = 0; i < o.length; i++) {
                        sum += o[i] * rr[i];
                    }
                    return sum;
                }
            };
            Random pick = new Random(11);
            check("latent", x, xv.grad(), loss, pick);
            check("context", context, cv.grad(), loss, pick);
            check("blocks.1.ffn.0.weight", ffn.data(), ffn.grad(), loss, pick);
            check("blocks.0.modulation", mod.data(), mod.grad(), loss, pick);
        }
    }

    /** Checkpointed blocks give the same gradients (latent and a trainable weight) and keep fewer activations. */
    @org.junit.jupiter.api.Test
    void gradientCheckpointingChangesNoGradient() throws IOException {
        Device device = TestDevice.get();
        Map<String, Tensor> f64 = new LinkedHashMap<>();
        Tensor x;
        Tensor context;
        try (SafetensorsFile w = Golden.open("wan_tiny_weights.safetensors");
             SafetensorsFile g = Golden.open("wan_tiny_forward.safetensors")) {
            for (String n : w.names()) {
                f64.put(n, w.tensor(n).to(DType.F64));
            }
            x = g.tensor("x").to(DType.F64).to(device);
            context = g.tensor("context").to(DType.F64).to(device);
        }
        WanModel model = WanModel.load(WanPresets.TINY, new WanWeights(f64, "wan_tiny_weights (F64)")).to(device);
        Parameter w = model.namedParameters().get("blocks.2.cross_attn.q.weight").requiresGrad(true);
        Tensor r = random(new Random(3), 4, 2, 4, 6).to(device);
        double[][] grads = new double[2][];
        double[][] weightGrads = new double[2][];
        long[] held = new long[2];
        for (int mode = 0; mode < 2; mode++) {
            model.setGradientCheckpointing(mode == 1);
            w.clearGrad();
            try (MemoryScope step = MemoryScope.open()) {
                Var xv = Var.leaf(x);
                Var out = model.forward(xv, new double[] {500}, Var.constant(context), WanTaps.NONE);
                held[mode] = step.bytesInUse(device);
                out.backward(r);
                grads[mode] = xv.grad().toDoubleArray();
                weightGrads[mode] = w.grad().toDoubleArray();
            }
        }
        System.out.printf("activations held after the forward on %s: %d bytes without checkpointing, %d with%n", device,
                held[0], held[1]);
        org.junit.jupiter.api.Assertions.assertArrayEquals(grads[0], grads[1], 1e-12);
        org.junit.jupiter.api.Assertions.assertArrayEquals(weightGrads[0], weightGrads[1], 1e-12);
        org.junit.jupiter.api.Assertions.assertTrue(held[1] < held[0] / 2,
                "activations held after the forward: " + held[1] + " with checkpointing, " + held[0] + " without");
    }

    /** Central differences on 6 random elements of {@code param} (perturbed in place, then restored). */
    private static void check(String what, Tensor param, Tensor grad, Supplier<Double> loss, Random pick) {
        for (int n = 0; n < 6; n++) {
            long i = pick.nextInt((int) param.numel());
            long[] idx = unravel(i, param.shape().toArray());
            Tensor element = element(param, idx);
            double old = element.toDoubleArray()[0];
            param.backend().fill(element, old + H);
            double plus = loss.get();
            param.backend().fill(element, old - H);
            double minus = loss.get();
            param.backend().fill(element, old);
            double numeric = (plus - minus) / (2 * H);
            assertEquals(numeric, element(grad, idx).toDoubleArray()[0], 1e-6 + 1e-5 * Math.abs(numeric),
                    what + " gradient at " + java.util.Arrays.toString(idx));
        }
    }

    /** The one-element view of {@code t} at {@code idx}: read and written through its backend, on any device. */
    private static Tensor element(Tensor t, long[] idx) {
        Tensor e = t;
        for (int d = 0; d < idx.length; d++) {
            e = e.narrow(d, idx[d], 1);
        }
        return e;
    }

    private static long[] unravel(long i, long[] dims) {
        long[] idx = new long[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            idx[d] = i % dims[d];
            i /= dims[d];
        }
        return idx;
    }

    private static Tensor random(Random rng, long... dims) {
        double[] v = new double[(int) dev.loraid.tensor.Shape.of(dims).numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Tensor.ofDoubles(v, dims);
    }
}
