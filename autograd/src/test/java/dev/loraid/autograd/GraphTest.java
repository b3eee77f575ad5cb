package dev.loraid.autograd;

import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.autograd.ops.TensorMath;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.loraid.autograd.RandomTensors.f32;
import static dev.loraid.autograd.RandomTensors.f64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graph mechanics: frozen weights, no-grad scopes, detach, accumulation, casts, checkpointing. */
class GraphTest {
    @Test
    void frozenBf16WeightGetsNoGradientButPassesTheInputGradient() {
        Tensor w32 = f32(1, 3, 4);
        Parameter w = Parameter.of(w32.to(DType.BF16), false);
        Parameter bias = Parameter.of(f32(3, 3).to(DType.BF16), false);
        Var x = Var.leaf(f32(2, 2, 4));
        Var y = Ops.linear(x, w, bias);
        assertEquals(w.data().getDouble(1, 0) * x.data().getDouble(1, 0) + w.data().getDouble(1, 1) * x.data().getDouble(1, 1)
            + w.data().getDouble(1, 2) * x.data().getDouble(1, 2) + w.data().getDouble(1, 3) * x.data().getDouble(1, 3)
            + bias.data().getDouble(1), y.data().getDouble(1, 1), 1e-5);
        y.sum().backward();
        assertNull(w.grad(), "a frozen weight must never get a gradient");
        assertNull(bias.grad());
        // d sum(x Wᵀ) / dx[i, k] = Σ_o W[o, k], with W as stored in BF16
        Tensor wb = w.data();
        for (int k = 0; k < 4; k++) {
            double expect = 0;
            for (int o = 0; o < 3; o++) {
                expect += wb.getDouble(o, k);
            }
            assertEquals(expect, x.grad().getDouble(1, k), 1e-5);
        }
    }

    @Test
    void noGradScopeRecordsNothingAndDetachCutsTheGraph() {
        Var x = Var.leaf(f64(3, 2, 2));
        try (GradMode.Scope s = GradMode.noGrad()) {
            Var y = x.mul(x);
            assertFalse(y.requiresGrad());
            assertNull(y.node());
        }
        assertTrue(GradMode.isEnabled());
        Var z = x.mul(x.detach());     // d/dx = x (the detached factor is a constant)
        z.sum().backward();
        assertArrayEquals(x.data().toDoubleArray(), x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void gradientsAccumulateOverBackwardPassesUntilZeroed() {
        Var x = Var.leaf(f64(4, 3));
        x.scale(2).sum().backward();
        x.scale(3).sum().backward();
        assertArrayEquals(new double[] {5, 5, 5}, x.grad().toDoubleArray(), 0);
        x.zeroGrad();
        assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void productGradientsAccumulateIntoParameterGradientsOverPasses() {
        // the second pass writes dW and dx straight into the existing gradients (GEMM beta = 1): same sums as
        // one pass over the doubled loss, up to rounding
        Tensor x = f32(13, 5, 8);
        Tensor g = f32(14, 5, 6);
        Parameter w1 = Parameter.trainable(f32(15, 6, 8));
        Parameter w2 = Parameter.trainable(f32(15, 6, 8));
        Var once = Var.leaf(x);
        Ops.linear(once, w1, null).backward(g);
        Ops.linear(once, w1, null).backward(g);
        Var twice = Var.leaf(x);
        Ops.linear(twice, w2, null).backward(TensorMath.scale(g, 2));
        assertArrayEquals(w2.grad().toDoubleArray(), w1.grad().toDoubleArray(), 1e-5);
        assertArrayEquals(twice.grad().toDoubleArray(), once.grad().toDoubleArray(), 1e-5);
    }

    @Test
    void linearAddInPlaceReusesTheBaseBufferOnlyWhenItCan() {
        Var h = Var.leaf(f32(16, 4, 2));
        Var up = Var.leaf(f32(17, 3, 2));
        Var base = Var.constant(f32(18, 4, 3));
        double[] expect = Ops.linearAdd(base, h, up, 0.25).data().toDoubleArray();
        Var sum = Ops.linearAddInPlace(base, h, up, 0.25);
        assertTrue(sum.data().storage() == base.data().storage(), "a contiguous F32 base is added into");
        assertArrayEquals(expect, sum.data().toDoubleArray(), 0.0);
        // a transposed base, or an F64 one under F32 math, is copied first and left as it was
        for (Tensor other : new Tensor[] {f32(19, 3, 4).transpose(0, 1), f32(20, 4, 3).to(DType.F64)}) {
            double[] before = other.toDoubleArray();
            Var out = Ops.linearAddInPlace(Var.constant(other), h, up, 0.25);
            assertFalse(out.data().storage() == other.storage());
            assertArrayEquals(before, other.toDoubleArray(), 0.0);
        }
        // a contiguous half-precision base (a mixed-precision Linear's output) is added into, in its dtype
        Tensor half = f32(21, 4, 3).to(DType.BF16);
        Var out = Ops.linearAddInPlace(Var.constant(half), h, up, 0.25);
        assertTrue(out.data().storage() == half.storage() && out.dtype() == DType.BF16, "a BF16 base is added into");
    }

    @Test
    void backwardTwiceThroughTheSameGraphFailsClearly() {
        Var x = Var.leaf(f64(5, 3));
        Var loss = x.mul(x).sum();
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("already backpropagated"), e.getMessage());
    }

    @Test
    void castPassesTheGradientBackInTheInputsGradientDtype() {
        Var x = Var.leaf(f32(6, 4));
        Var y = x.to(DType.BF16).to(DType.F32).scale(3);
        y.sum().backward();
        assertEquals(DType.F32, x.grad().dtype());
        assertArrayEquals(new double[] {3, 3, 3, 3}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void checkpointedBlockGivesIdenticalGradientsWithLowerPeakMemory() {
        long dim = 64;
        long tokens = 256;
        Sequential block = Sequential.of(Linear.trainable(dim, 4 * dim, true, 10), Activation.gelu(),
            Linear.trainable(4 * dim, dim, true, 12), Activation.silu(), Linear.trainable(dim, dim, true, 14));
        Tensor input = f32(7, tokens, dim);

        long plainPeak = runStep(block, input, false);
        double[][] plainGrads = grads(block);
        block.zeroGrad();
        long ckptPeak = runStep(block, input, true);
        double[][] ckptGrads = grads(block);
        for (int i = 0; i < plainGrads.length; i++) {
            assertArrayEquals(plainGrads[i], ckptGrads[i], 0.0, "parameter " + i);
        }
        System.out.printf("checkpointing: peak scoped memory %d -> %d bytes (%.1f%% lower)%n", plainPeak, ckptPeak,
            100.0 * (plainPeak - ckptPeak) / plainPeak);
        assertTrue(ckptPeak < 0.5 * plainPeak, "checkpointed peak " + ckptPeak + " vs plain " + plainPeak);
    }

    @Test
    void checkpointReplaysTheRandomStreamSoDropoutMasksMatch() {
        Sequential block = Sequential.of(Linear.trainable(8, 16, true, 20), Activation.gelu(), Linear.trainable(16, 8, true, 22));
        Tensor input = f32(8, 5, 8);
        double[][] plain = null;
        for (boolean checkpoint : new boolean[] {false, true}) {
            block.zeroGrad();
            Rng.seed(99);
            try (MemoryScope step = MemoryScope.open()) {
                Var x = Var.constant(input);
                for (int i = 0; i < 2; i++) {
                    Recompute.Block f = in -> Ops.dropout(block.forward(Ops.dropout(in[0], 0.3)), 0.5);
                    x = checkpoint ? Recompute.apply(block, f, x) : f.forward(x);
                }
                x.mul(x).sum().backward();
            }
            if (plain == null) {
                plain = grads(block);
            } else {
                double[][] ckpt = grads(block);
                for (int i = 0; i < plain.length; i++) {
                    assertArrayEquals(plain[i], ckpt[i], 0.0, "parameter " + i);
                }
            }
        }
        assertEquals(2 * (5 * 8 + 5 * 8), Rng.save().offset(), "the stream advanced once per draw, not again in backward");
    }

    @Test
    void aBlockWhoseOnlyTrainableWeightsAreAnAdaptersIsCheckpointedToo() {
        // a frozen Linear with a trainable adapter (how LoRA trains): the block's input is a constant, its module has no
        // trainable parameter of its own, yet the block must be checkpointed and its adapter weights get gradients
        Linear frozen = new Linear(Parameter.of(f32(1, 8, 8), false), null);
        Parameter a = Parameter.trainable(f32(2, 8, 8));
        frozen.setAdapter(new Linear.Adapter() {
            @Override
            public Var apply(Var x, Var baseOut) {
                return baseOut.add(Ops.linear(x, a, null));
            }

            @Override
            public boolean trainable() {
                return true;
            }
        });
        Sequential block = Sequential.of(frozen, Activation.gelu());
        assertTrue(block.trainableParameters().isEmpty());
        assertTrue(block.hasTrainableWeights());
        double[] plain = null;
        for (boolean checkpoint : new boolean[] {false, true}) {
            a.zeroGrad();
            try (MemoryScope step = MemoryScope.open()) {
                Var x = Var.constant(f32(3, 5, 8));
                Var y = checkpoint ? Recompute.apply(block, in -> block.forward(in[0]), x) : block.forward(x);
                if (checkpoint) {
                    assertTrue(y.node() instanceof Recompute, "the block ran without checkpointing: " + y.node());
                }
                y.mul(y).sum().backward();
            }
            if (plain == null) {
                plain = a.grad().toDoubleArray();
            } else {
                assertArrayEquals(plain, a.grad().toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void hostDrawsAreReproducibleUniformNumbers() {
        Rng.seed(5);
        double[] a = {Rng.nextDouble(), Rng.nextDouble(), Rng.nextDouble()};
        Rng.seed(5);
        assertArrayEquals(a, new double[] {Rng.nextDouble(), Rng.nextDouble(), Rng.nextDouble()}, 0.0);
        double sum = 0;
        for (int i = 0; i < 10000; i++) {
            double u = Rng.nextDouble();
            assertTrue(u >= 0 && u < 1);
            sum += u;
        }
        assertEquals(0.5, sum / 10000, 0.01);
    }

    /** Runs the block four times in sequence (the second one's input needs the first one's gradient) and returns the peak. */
    private static long runStep(Sequential block, Tensor input, boolean checkpoint) {
        MemoryScope.resetPeak(input.device());
        try (MemoryScope step = MemoryScope.open()) {
            Var x = Var.constant(input);
            for (int i = 0; i < 4; i++) {
                x = checkpoint ? Recompute.apply(block, in -> block.forward(in[0]), x) : block.forward(x);
            }
            x.mul(x).mean().backward();
        }
        return MemoryScope.peakBytesInUse(input.device());
    }

    private static double[][] grads(Sequential block) {
        return block.namedParameters().values().stream().map(p -> p.grad().toDoubleArray()).toArray(double[][]::new);
    }
}
