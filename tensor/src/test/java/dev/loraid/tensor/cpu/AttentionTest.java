package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;

/**
 * Attention forward and backward against the naive twins (full probability matrix) on odd sizes, masks and the
 * permuted [B, L, H, D] views the models pass, plus a finite-difference check of the backward in F64.
 */
class AttentionTest {
    private static final Backend CPU = new CpuBackend();

    /** q/k/v as permuted views of [B, L, H, D] memory, the layout the model produces. */
    private static Tensor bhld(Random rnd, DType dt, int b, int l, int h, int d) {
        return TestTensors.random(rnd, dt, TestTensors.Layout.CONTIGUOUS, b, l, h, d).permute(0, 2, 1, 3);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F64}) {
            // b, h, lq, lk, d, dv, masked, lse kept for the backward
            out.add(Arguments.of(dt, 1, 1, 1, 1, 8, 8, false, true));
            out.add(Arguments.of(dt, 2, 3, 17, 130, 16, 16, true, true));
            out.add(Arguments.of(dt, 1, 2, 67, 33, 64, 40, false, false));
            out.add(Arguments.of(dt, 2, 1, 130, 70, 128, 128, true, true));
        }
        out.add(Arguments.of(DType.F16, 1, 2, 70, 66, 32, 32, true, true));
        // several query tiles and key blocks per head: with 2 threads, 3 heads are taken one at a time with the
        // tiles and blocks (and the backward's dQ partials) shared over the threads, 2 heads run side by side
        out.add(Arguments.of(DType.F32, 1, 3, 400, 410, 32, 24, true, false));
        out.add(Arguments.of(DType.F32, 1, 2, 400, 410, 32, 24, false, true));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} b={1} h={2} lq={3} lk={4} d={5} dv={6} masked={7} lse={8}")
    @MethodSource("cases")
    void forwardAndBackwardMatchNaive(DType dt, int b, int h, int lq, int lk, int d, int dv, boolean masked,
                                      boolean keepLse) {
        Random rnd = new Random(lq * 131L + lk);
        Tensor q = bhld(rnd, dt, b, lq, h, d);
        Tensor k = bhld(rnd, dt, b, lk, h, d);
        Tensor v = bhld(rnd, dt, b, lk, h, dv);
        Tensor out = Tensor.zeros(dt, b, lq, h, dv).permute(0, 2, 1, 3);
        Tensor lse = Tensor.zeros(dt == DType.F64 ? DType.F64 : DType.F32, b, h, lq);
        int[] kv = masked ? new int[b] : null;
        if (masked) {
            for (int i = 0; i < b; i++) {
                kv[i] = Math.max(1, lk - 7 * i - 3);
            }
        }
        double scale = 1 / Math.sqrt(d);
        CPU.attention(q, k, v, scale, kv, out, lse);
        Tensor dOut = bhld(rnd, dt, b, lq, h, dv);
        Tensor dq = Tensor.zeros(dt, b, lq, h, d).permute(0, 2, 1, 3);
        Tensor dk = Tensor.zeros(dt, b, lk, h, d).permute(0, 2, 1, 3);
        Tensor dvT = Tensor.zeros(dt, b, lk, h, dv).permute(0, 2, 1, 3);
        CPU.attentionBackward(q, k, v, out, dOut, keepLse ? lse : null, scale, kv, dq, dk, dvT);
        double tol = dt == DType.F64 ? 1e-10 : dt == DType.F32 ? 1e-4 : dt == DType.F16 ? 4e-3 : 3e-2;
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int keys = kv == null ? lk : kv[bi];
                double[] qs = head(q, bi, hi);
                double[] ks = head(k, bi, hi);
                double[] vs = head(v, bi, hi);
                String where = "b=" + bi + " h=" + hi;
                assertClose("attention out " + where, Reference.attention(qs, ks, vs, lq, lk, d, dv, keys, scale),
                    head(out, bi, hi), tol);
                assertClose("attention lse " + where, Reference.attentionLse(qs, ks, lq, d, keys, scale),
                    lse.select(0, bi).select(0, hi).toDoubleArray(), dt == DType.F64 ? 1e-10 : 1e-5);
                double[][] grads = Reference.attentionBackward(qs, ks, vs, head(dOut, bi, hi), lq, lk, d, dv, keys, scale);
                assertClose("attention dq " + where, grads[0], head(dq, bi, hi), tol * 2);
                assertClose("attention dk " + where, grads[1], head(dk, bi, hi), tol * 2);
                assertClose("attention dv " + where, grads[2], head(dvT, bi, hi), tol * 2);
            }
        }
    }

    /** A batch with no valid key gets zero output, lse −∞ and zero gradients; lengths past Lk are clamped. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F32", "F64"})
    void emptyAndOverlongKeyLengths(DType dt) {
        Random rnd = new Random(11);
        int lq = 5;
        int lk = 7;
        int d = 8;
        Tensor q = bhld(rnd, dt, 2, lq, 1, d);
        Tensor k = bhld(rnd, dt, 2, lk, 1, d);
        Tensor v = bhld(rnd, dt, 2, lk, 1, d);
        Tensor out = Tensor.zeros(dt, 2, 1, lq, d);
        Tensor lse = Tensor.zeros(dt, 2, 1, lq);
        int[] kv = {0, 100};
        CPU.attention(q, k, v, 0.5, kv, out, lse);
        assertClose("no keys: out", new double[lq * d], head(out, 0, 0), 0);
        for (int i = 0; i < lq; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(Double.NEGATIVE_INFINITY, lse.getDouble(0, 0, i));
        }
        double tol = dt == DType.F64 ? 1e-10 : 1e-4;
        assertClose("clamped keys: out", Reference.attention(head(q, 1, 0), head(k, 1, 0), head(v, 1, 0), lq, lk, d, d, lk, 0.5),
            head(out, 1, 0), tol);
        Tensor g = bhld(rnd, dt, 2, lq, 1, d);
        Tensor dq = Tensor.full(dt, 7, 2, 1, lq, d);
        Tensor dk = Tensor.full(dt, 7, 2, 1, lk, d);
        Tensor dv = Tensor.full(dt, 7, 2, 1, lk, d);
        CPU.attentionBackward(q, k, v, out, g, lse, 0.5, kv, dq, dk, dv);
        assertClose("no keys: dq", new double[lq * d], head(dq, 0, 0), 0);
        assertClose("no keys: dk", new double[lk * d], head(dk, 0, 0), 0);
        assertClose("no keys: dv", new double[lk * d], head(dv, 0, 0), 0);
        double[][] grads = Reference.attentionBackward(head(q, 1, 0), head(k, 1, 0), head(v, 1, 0), head(g, 1, 0),
            lq, lk, d, d, lk, 0.5);
        assertClose("clamped keys: dq", grads[0], head(dq, 1, 0), tol);
        assertClose("clamped keys: dk", grads[1], head(dk, 1, 0), tol);
    }

    /** The backward against central differences of the forward itself, all in F64. */
    @Test
    void backwardMatchesFiniteDifferencesInF64() {
        Random rnd = new Random(7);
        int b = 1;
        int h = 2;
        int lq = 5;
        int lk = 6;
        int d = 4;
        Tensor q = bhld(rnd, DType.F64, b, lq, h, d);
        Tensor k = bhld(rnd, DType.F64, b, lk, h, d);
        Tensor v = bhld(rnd, DType.F64, b, lk, h, d);
        Tensor g = bhld(rnd, DType.F64, b, lq, h, d);
        int[] kv = {5};
        double scale = 0.7;
        Tensor out = Tensor.zeros(DType.F64, b, h, lq, d);
        Tensor lse = Tensor.zeros(DType.F64, b, h, lq);
        CPU.attention(q, k, v, scale, kv, out, lse);
        Tensor dq = Tensor.zeros(DType.F64, b, h, lq, d);
        Tensor dk = Tensor.zeros(DType.F64, b, h, lk, d);
        Tensor dv = Tensor.zeros(DType.F64, b, h, lk, d);
        CPU.attentionBackward(q, k, v, out, g, lse, scale, kv, dq, dk, dv);
        Tensor[] inputs = {q, k, v};
        Tensor[] grads = {dq, dk, dv};
        for (int which = 0; which < 3; which++) {
            Tensor x = inputs[which];
            double[] expect = new double[(int) x.numel()];
            long[] shape = x.shape().toArray();
            long[] idx = new long[4];
            for (int i = 0; i < expect.length; i++) {
                double keep = x.getDouble(idx);
                x.setDouble(keep + 1e-6, idx);
                double up = loss(q, k, v, g, scale, kv);
                x.setDouble(keep - 1e-6, idx);
                double down = loss(q, k, v, g, scale, kv);
                x.setDouble(keep, idx);
                expect[i] = (up - down) / 2e-6;
                for (int dd = 3; dd >= 0; dd--) {
                    if (++idx[dd] < shape[dd]) {
                        break;
                    }
                    idx[dd] = 0;
                }
            }
            assertClose("finite-difference gradient of input " + which, expect, grads[which].toDoubleArray(), 1e-6);
        }
    }

    private static double loss(Tensor q, Tensor k, Tensor v, Tensor g, double scale, int[] kv) {
        Tensor out = Tensor.zeros(DType.F64, q.shape().toArray());
        CPU.attention(q, k, v, scale, kv, out, null);
        double[] o = out.toDoubleArray();
        double[] gs = g.toDoubleArray();
        double s = 0;
        for (int i = 0; i < o.length; i++) {
            s += o[i] * gs[i];
        }
        return s;
    }

    /** Head (b, h) of a [B, H, L, D] tensor as a row-major [L, D] array. */
    private static double[] head(Tensor t, int b, int h) {
        return t.select(0, b).select(0, h).toDoubleArray();
    }
}
