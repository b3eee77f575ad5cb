package dev.loraid.tensor.cpu;

import dev.loraid.tensor.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * The fp32 vector bodies of {@link UnaryOp} and its derivative over padded work buffers (length a multiple of the
 * vector length; lanes past the real count compute garbage that is never stored). The switch sits outside the
 * loops so each loop is one straight vector body. The fp64 path uses {@link UnaryOp#apply} directly.
 * log, sin, cos and tanh go through {@link Math} element by element: the Vector API's versions may round
 * differently before and after JIT compilation, which would break bit-for-bit reproducible runs.
 */
final class UnaryKernels {
    private UnaryKernels() {
    }

    private static final float GELU_C = (float) UnaryOp.GELU_C;
    private static final float GELU_A = 0.044715f;

    private static FloatVector v(float[] a, int i) {
        return FloatVector.fromArray(F, a, i);
    }

    /** {@code y = op(x)} for the first {@code n} elements (rounded up to whole vectors). */
    static void forward(UnaryOp op, float[] x, float[] y, int n) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i += VL) v(x, i).neg().intoArray(y, i); }
            case ABS -> { for (int i = 0; i < n; i += VL) v(x, i).abs().intoArray(y, i); }
            case EXP -> { for (int i = 0; i < n; i += VL) VecMath.exp(v(x, i)).intoArray(y, i); }
            case LOG, SIN, COS, TANH -> { for (int i = 0; i < n; i++) y[i] = (float) op.apply(x[i]); }
            case SQRT -> { for (int i = 0; i < n; i += VL) v(x, i).sqrt().intoArray(y, i); }
            case RSQRT -> { for (int i = 0; i < n; i += VL) one().div(v(x, i).sqrt()).intoArray(y, i); }
            case SQUARE -> { for (int i = 0; i < n; i += VL) { FloatVector a = v(x, i); a.mul(a).intoArray(y, i); } }
            case RECIPROCAL -> { for (int i = 0; i < n; i += VL) one().div(v(x, i)).intoArray(y, i); }
            case SIGMOID -> { for (int i = 0; i < n; i += VL) VecMath.sigmoid(v(x, i)).intoArray(y, i); }
            case RELU -> { for (int i = 0; i < n; i += VL) v(x, i).max(0f).intoArray(y, i); }
            case SILU -> { for (int i = 0; i < n; i += VL) { FloatVector a = v(x, i); a.mul(VecMath.sigmoid(a)).intoArray(y, i); } }
            case GELU_TANH -> { for (int i = 0; i < n; i += VL) { FloatVector a = v(x, i); a.mul(geluGate(a)).intoArray(y, i); } }
        }
    }

    /** {@code dx = dy · op'(x)}. */
    static void backward(UnaryOp op, float[] x, float[] dy, float[] dx, int n) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i += VL) v(dy, i).neg().intoArray(dx, i); }
            case ABS -> { for (int i = 0; i < n; i += VL) v(dy, i).mul(sign(v(x, i))).intoArray(dx, i); }
            case EXP -> { for (int i = 0; i < n; i += VL) v(dy, i).mul(VecMath.exp(v(x, i))).intoArray(dx, i); }
            case LOG -> { for (int i = 0; i < n; i += VL) v(dy, i).div(v(x, i)).intoArray(dx, i); }
            case SQRT -> { for (int i = 0; i < n; i += VL) v(dy, i).mul(0.5f).div(v(x, i).sqrt()).intoArray(dx, i); }
            case RSQRT -> {
                for (int i = 0; i < n; i += VL) {
                    FloatVector a = v(x, i);
                    v(dy, i).mul(-0.5f).div(a.mul(a.sqrt())).intoArray(dx, i);
                }
            }
            case SQUARE -> { for (int i = 0; i < n; i += VL) v(dy, i).mul(v(x, i)).mul(2f).intoArray(dx, i); }
            case RECIPROCAL -> {
                for (int i = 0; i < n; i += VL) {
                    FloatVector a = v(x, i);
                    v(dy, i).neg().div(a.mul(a)).intoArray(dx, i);
                }
            }
            case SIN, COS, TANH -> { for (int i = 0; i < n; i++) dx[i] = (float) (dy[i] * op.derivative(x[i])); }
            case SIGMOID -> {
                for (int i = 0; i < n; i += VL) {
                    FloatVector s = VecMath.sigmoid(v(x, i));
                    v(dy, i).mul(s.mul(one().sub(s))).intoArray(dx, i);
                }
            }
            case RELU -> { for (int i = 0; i < n; i += VL) v(dy, i).blend(0f, v(x, i).compare(VectorOperators.LE, 0f)).intoArray(dx, i); }
            case SILU -> {
                for (int i = 0; i < n; i += VL) {
                    FloatVector a = v(x, i);
                    FloatVector s = VecMath.sigmoid(a);
                    // s · (1 + x·(1 − s))
                    v(dy, i).mul(s.mul(a.mul(one().sub(s)).add(1f))).intoArray(dx, i);
                }
            }
            case GELU_TANH -> {
                for (int i = 0; i < n; i += VL) {
                    FloatVector a = v(x, i);
                    FloatVector s = geluGate(a);
                    FloatVector du = a.mul(a).mul(3 * GELU_A * GELU_C).add(GELU_C);
                    // s + 2·x·s·(1 − s)·du, since 0.5·(1 + tanh u) = s and 1 − tanh² u = 4·s·(1 − s)
                    FloatVector d = a.mul(2f).mul(s).mul(one().sub(s)).mul(du).add(s);
                    v(dy, i).mul(d).intoArray(dx, i);
                }
            }
        }
    }

    /** 0.5·(1 + tanh u) with u = c·(x + 0.044715·x³), written as sigmoid(2u), which needs only exp. */
    private static FloatVector geluGate(FloatVector x) {
        FloatVector u = x.mul(x).mul(GELU_A).add(1f).mul(x).mul(2 * GELU_C);
        return VecMath.sigmoid(u);
    }

    private static FloatVector sign(FloatVector x) {
        return FloatVector.zero(F).blend(1f, x.compare(VectorOperators.GT, 0f)).blend(-1f, x.lt(0f));
    }

    private static FloatVector one() {
        return FloatVector.broadcast(F, 1f);
    }
}
