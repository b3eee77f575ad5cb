package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every optimizer {@code train} offers, made by {@link Optimizers#of}, steps the same on {@code -Dloraid.test.device} as
 * on the CPU (whose arithmetic the optimizers' own tests check against their upstream formulas): a 64 × 96 matrix (8-bit
 * moments for AdamW8bit) and a 3 × 5 one, six steps of the same gradients, warmup and weight decay on. Skipped unless
 * a device other than the CPU is given (gpu-check.sh runs it on cuda:0).
 */
class OptimizersOnDeviceTest {

    @ParameterizedTest
    @ValueSource(strings = {"AdamW", "AdamW8bit", "Adafactor", "prodigyopt.Prodigy", "schedulefree.AdamWScheduleFree",
        "lion_pytorch.Lion"})
    void steps_as_on_the_cpu(String type) {
        Device device = Backends.resolve(System.getProperty("loraid.test.device", "cpu"));
        assumeTrue(!device.isCpu(), "a device test: -Dloraid.test.device=cuda runs it");
        String problem = Backends.problem(device);
        assumeTrue(problem == null, () -> device + " is not usable here: " + problem);
        List<String> args = switch (type) {
            case "Adafactor" -> List.of("weight_decay=0.01", "beta1=0.9");
            case "prodigyopt.Prodigy" -> List.of("weight_decay=0.01", "use_bias_correction=True", "slice_p=3");
            case "schedulefree.AdamWScheduleFree" -> List.of("weight_decay=0.01", "warmup_steps=2");
            case "lion_pytorch.Lion" -> List.of("weight_decay=0.01");
            default -> List.of();
        };
        OptimizerConfig config = new OptimizerConfig(type, args, type.startsWith("prodigyopt") ? 1.0 : 1e-2, "constant", "0", "0",
                1, 1, null, null, null, 1);
        long[][] shapes = {{64, 96}, {3, 5}};
        Map<String, Parameter> cpu = new LinkedHashMap<>();
        Map<String, Parameter> dev = new LinkedHashMap<>();
        for (int i = 0; i < shapes.length; i++) {
            Tensor start = random(10 + i, shapes[i]);
            cpu.put("p" + i, Parameter.trainable(start.copy()));
            dev.put("p" + i, Parameter.trainable(start.to(device)));
        }
        Optimizer onCpu = Optimizers.of(cpu, config, null);
        Optimizer onDev = Optimizers.of(dev, config, null);
        onCpu.train();
        onDev.train();
        for (int t = 0; t < 6; t++) {
            for (int i = 0; i < shapes.length; i++) {
                Tensor g = random(100 * t + i, shapes[i]);
                setGrad(cpu.get("p" + i), g);
                setGrad(dev.get("p" + i), g.to(device));
            }
            onCpu.step();
            onDev.step();
        }
        onCpu.eval();
        onDev.eval();
        for (String n : cpu.keySet()) {
            double[] a = cpu.get(n).data().toDoubleArray();
            double[] b = dev.get(n).data().to(Device.CPU).toDoubleArray();
            double rms = 0;
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                rms += a[i] * a[i];
            }
            rms = Math.sqrt(rms / a.length);
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]) / rms);
            }
            // reductions run in another order on a device; AdamW8bit may pick a neighbouring code at a tie
            assertTrue(worst < 1e-3, type + " " + n + ": worst gap " + worst + " of the RMS " + rms);
        }
    }

    private static void setGrad(Parameter p, Tensor g) {
        p.zeroGrad();
        p.mul(Var.constant(g)).sum().backward();
    }

    private static Tensor random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, shape);
    }
}
