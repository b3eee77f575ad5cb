package dev.loraid.autograd;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The ops mixed precision runs on (bf16 autocast): a Linear and a GELU writing a half-precision result, attention
 * over half-precision q, k, v with its result (and, for BF16, its backward) in that dtype, and a LoRA sum into a
 * half-precision base. Each against the same op computed in fp32 from the same (bf16) inputs: the only difference is
 * the rounding of results to bf16, at most 2⁻⁸ of a value (half an ulp of its 8-bit significand, plus the next
 * rounding downstream).
 */
class MixedPrecisionOpsTest {
    private static final double BF16_REL = 1.0 / 256;

    @Test
    void linearWithABf16ResultIsTheFp32ResultRoundedAndItsInputGradientStaysF32() {
        Tensor x = f32(1, 5, 16).to(DType.BF16);
        Tensor w = f32(2, 7, 16);
        Tensor b = f32(3, 7);
        Var xh = Var.leaf(x);
        Var half = Ops.linear(xh, Var.constant(w), Var.constant(b), DType.BF16);
        Var x32 = Var.leaf(x);
        Var full = Ops.linear(x32, Var.constant(w), Var.constant(b));
        assertEquals(DType.BF16, half.dtype());
        assertClose(full.data().toDoubleArray(), half.data().toDoubleArray(), BF16_REL, "linear result");
        half.sum().backward();
        full.sum().backward();
        assertEquals(DType.F32, xh.grad().dtype());
        assertArrayEquals(x32.grad().toDoubleArray(), xh.grad().toDoubleArray(), 0, "dx = ones·W either way");
    }

    @Test
    void halfAttentionKeepsItsDtypeAndMatchesFp32Attention() {
        Tensor q = f32(4, 1, 2, 6, 8).to(DType.BF16);
        Tensor k = f32(5, 1, 2, 9, 8).to(DType.BF16);
        Tensor v = f32(6, 1, 2, 9, 8).to(DType.BF16);
        Tensor r = f32(7, 1, 2, 6, 8);
        Var[] h = {Var.leaf(q), Var.leaf(k), Var.leaf(v)};
        Var[] f = {Var.leaf(q), Var.leaf(k), Var.leaf(v)};
        Var half = Ops.attentionHalf(h[0], h[1], h[2]);
        Var full = Ops.attention(f[0], f[1], f[2]);
        assertEquals(DType.BF16, half.dtype());
        assertEquals(DType.F32, full.dtype());
        assertClose(full.data().toDoubleArray(), half.data().toDoubleArray(), BF16_REL, "attention output");
        half.mul(Var.constant(r)).sum().backward();
        full.mul(Var.constant(r)).sum().backward();
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < 3; i++) {
            assertEquals(DType.F32, h[i].grad().dtype(), names[i]);
            // dOut and the kernel's gradient are each rounded to bf16
            assertClose(f[i].grad().toDoubleArray(), h[i].grad().toDoubleArray(), 2 * BF16_REL, names[i]);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.attentionHalf(Var.constant(q), Var.constant(k.to(DType.F32)), Var.constant(v)));
        assertEquals("half-precision attention: q BF16, k F32, v BF16: expected all BF16 or all F16", e.getMessage());
    }

    /**
     * An F16 attention's backward stays fp32 (no loss scaling): gradients of 1e-9, far below F16's smallest subnormal
     * (6e-8), come back as the fp32 attention's, not flushed to zero.
     */
    @Test
    void f16AttentionGradientsBelowTheF16RangeSurvive() {
        Tensor q = f32(11, 1, 2, 6, 8).to(DType.F16);
        Tensor k = f32(12, 1, 2, 9, 8).to(DType.F16);
        Tensor v = f32(13, 1, 2, 9, 8).to(DType.F16);
        Var tiny = Var.constant(f32(14, 1, 2, 6, 8)).scale(1e-9);
        Var[] h = {Var.leaf(q), Var.leaf(k), Var.leaf(v)};
        Var[] f = {Var.leaf(q), Var.leaf(k), Var.leaf(v)};
        Var half = Ops.attentionHalf(h[0], h[1], h[2]);
        assertEquals(DType.F16, half.dtype());
        half.mul(tiny).sum().backward();
        Ops.attention(f[0], f[1], f[2]).mul(tiny).sum().backward();
        for (int i = 0; i < 3; i++) {
            // the saved output is F16-rounded (2⁻¹¹ relative), which the backward's row sums read
            assertClose(f[i].grad().toDoubleArray(), h[i].grad().toDoubleArray(), 1.0 / 512, "F16 gradient " + i);
        }
    }

    @Test
    void geluWithABf16ResultIsTheFp32GeluRoundedAndItsGradientStaysF32() {
        Tensor x = f32(15, 6, 10).to(DType.BF16);
        Var xh = Var.leaf(x);
        Var x32 = Var.leaf(x);
        Var half = Ops.unary(UnaryOp.GELU_TANH, xh, DType.BF16);
        Var full = Ops.gelu(x32);
        assertEquals(DType.BF16, half.dtype());
        assertClose(full.data().toDoubleArray(), half.data().toDoubleArray(), BF16_REL, "gelu");
        half.sum().backward();
        full.sum().backward();
        assertEquals(DType.F32, xh.grad().dtype());
        assertArrayEquals(x32.grad().toDoubleArray(), xh.grad().toDoubleArray(), 0, "gelu'(x) from the same input");
    }

    @Test
    void aLoraSumIntoABf16BaseStaysBf16() {
        Tensor base = f32(8, 4, 6).to(DType.BF16);
        Tensor h = f32(9, 4, 3);
        Tensor w = f32(10, 6, 3);
        Var sum = Ops.linearAddInPlace(Var.constant(base.copy()), Var.constant(h), Var.constant(w), 0.5);
        Var expected = Ops.addScaled(Var.constant(base), 1, Ops.linear(Var.constant(h), Var.constant(w), null), 0.5);
        assertEquals(DType.BF16, sum.dtype());
        assertClose(expected.data().toDoubleArray(), sum.data().toDoubleArray(), BF16_REL, "base + 0.5·h·Wᵀ");
    }

    /** |a − b| ≤ rel · max |a| elementwise (bf16 rounding is relative to each value; the max bounds it). */
    private static void assertClose(double[] a, double[] b, double rel, String what) {
        double max = 0;
        for (double v : a) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], rel * max, what + " at " + i);
        }
    }
}
