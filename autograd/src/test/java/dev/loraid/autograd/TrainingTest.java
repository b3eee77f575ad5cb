package dev.loraid.autograd;

import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.GradClip;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.autograd.optim.TrainingState;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end training behaviour: learning, determinism, flat memory, accumulation, resume. */
class TrainingTest {
    private static final int POINTS = 128;

    /** Inputs [128, 2] in [-1, 1)², target y = sin(3·x0)·cos(2·x1) [128, 1]: a non-linear function. */
    private static Tensor[] dataset() {
        Tensor x = f32(77, POINTS, 2);
        float[] y = new float[POINTS];
        for (int i = 0; i < POINTS; i++) {
            y[i] = (float) (Math.sin(3 * x.getDouble(i, 0)) * Math.cos(2 * x.getDouble(i, 1)));
        }
        return new Tensor[] {x, Tensor.of(y, POINTS, 1)};
    }

    private static Sequential mlp() {
        return Sequential.of(Linear.trainable(2, 64, true, 1), Activation.gelu(), Linear.trainable(64, 64, true, 3),
            Activation.silu(), Linear.trainable(64, 1, true, 5));
    }

    private record Run(double[] losses, long[] reserved, long[] peaks) {
    }

    private static Run train(Sequential net, int steps) {
        Tensor[] data = dataset();
        AdamW opt = new AdamW(List.of(new ParamGroup("all", net.trainableParameters(), 1e-2, 0.0)), 0.9, 0.999, 1e-8);
        LrScheduler sched = new LrScheduler(opt, LrSchedules.cosine(20, steps));
        double[] losses = new double[steps];
        long[] reserved = new long[steps];
        long[] peaks = new long[steps];
        for (int s = 0; s < steps; s++) {
            MemoryScope.resetPeak(Device.CPU);
            try (MemoryScope step = MemoryScope.open()) {
                Var loss = Ops.mseLoss(net.forward(Var.constant(data[0])), Var.constant(data[1]), null);
                losses[s] = loss.data().getDouble();
                loss.backward();
                GradClip.clipGlobalNorm(net.trainableParameters().values(), 1.0);
                opt.step();
                opt.zeroGrad();
                sched.step();
            }
            reserved[s] = MemoryScope.bytesReserved(Device.CPU);
            peaks[s] = MemoryScope.peakBytesInUse(Device.CPU);
        }
        return new Run(losses, reserved, peaks);
    }

    @Test
    void tinyMlpLearnsANonLinearFunctionDeterministicallyWithFlatMemory() {
        int steps = 300;
        Run a = train(mlp(), steps);
        double first = a.losses()[0];
        double last = a.losses()[steps - 1];
        System.out.printf("MLP: loss %.5f -> %.7f (%.0fx) in %d steps; scoped peak %d bytes/step, reserved %d%n",
            first, last, first / last, steps, a.peaks()[steps - 1], a.reserved()[steps - 1]);
        assertTrue(last < first / 100, "loss fell only from " + first + " to " + last);

        Run b = train(mlp(), steps);
        assertArrayEquals(a.losses(), b.losses(), 0.0, "fixed seed, same thread count: bit-identical losses");

        for (int s = 1; s < steps; s++) {
            assertEquals(a.peaks()[1], a.peaks()[s], "high-water mark of step " + s);
            assertEquals(a.reserved()[1], a.reserved()[s], "reserved native memory after step " + s);
        }
    }

    @Test
    void accumulatingTwoHalfBatchesGivesTheFullBatchGradient() {
        Tensor[] data = dataset();
        Sequential full = mlp();
        Ops.mseLoss(full.forward(Var.constant(data[0])), Var.constant(data[1]), null).backward();

        Sequential accum = mlp();
        for (int half = 0; half < 2; half++) {
            Var x = Var.constant(data[0].narrow(0, half * POINTS / 2, POINTS / 2));
            Var y = Var.constant(data[1].narrow(0, half * POINTS / 2, POINTS / 2));
            Ops.mseLoss(accum.forward(x), y, null).backward(0.5);
        }
        List<Parameter> pf = new ArrayList<>(full.namedParameters().values());
        List<Parameter> pa = new ArrayList<>(accum.namedParameters().values());
        for (int i = 0; i < pf.size(); i++) {
            assertArrayEquals(pf.get(i).grad().toDoubleArray(), pa.get(i).grad().toDoubleArray(), 1e-6, "parameter " + i);
        }
    }

    @Test
    void resumingFromSavedStateContinuesExactly(@TempDir Path dir) throws Exception {
        Tensor[] data = dataset();
        Sequential net = mlp();
        AdamW opt = new AdamW(net.trainableParameters(), 1e-2);
        LrScheduler sched = new LrScheduler(opt, LrSchedules.linear(5, 40));
        for (int s = 0; s < 10; s++) {
            step(net, opt, sched, data);
        }
        Path file = dir.resolve("state.safetensors");
        TrainingState.save(file, net.trainableParameters(), opt, sched, Map.of("note", "test"));
        double[] continued = new double[5];
        for (int s = 0; s < 5; s++) {
            continued[s] = step(net, opt, sched, data);
        }

        Sequential fresh = mlp();
        AdamW opt2 = new AdamW(fresh.trainableParameters(), 1e-2);
        LrScheduler sched2 = new LrScheduler(opt2, LrSchedules.linear(5, 40));
        TrainingState.load(file, fresh.trainableParameters(), opt2, sched2);
        assertEquals(10, sched2.stepCount());
        assertEquals(10, opt2.stepCount("0.weight"));
        double[] resumed = new double[5];
        for (int s = 0; s < 5; s++) {
            resumed[s] = step(fresh, opt2, sched2, data);
        }
        assertArrayEquals(continued, resumed, 0.0);
    }

    private static double step(Sequential net, AdamW opt, LrScheduler sched, Tensor[] data) {
        try (MemoryScope step = MemoryScope.open()) {
            Var loss = Ops.mseLoss(net.forward(Var.constant(data[0])), Var.constant(data[1]), null);
            double value = loss.data().getDouble();
            loss.backward();
            opt.step();
            opt.zeroGrad();
            sched.step();
            return value;
        }
    }
}
