package dev.loraid.tensor.cpu;

import dev.loraid.tensor.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * The fp32 vector bodies of {@link UnaryOp} and its derivative over padded work buffers (length a multiple of the
 * vector length; lanes past the real count compute garbage that is never stored). Each op's loop is its own small
 * method: the JIT compiles it once, whole, and a new op showing up later never deoptimizes the others. The fp64 path uses {@link UnaryOp#apply} directly.
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
            case NEG -> fwdNeg(x, y, n);
            case ABS -> fwdAbs(x, y, n);
            case EXP -> fwdExp(x, y, n);
            case LOG, SIN, COS, TANH -> { for (int i = 0; i < n; i++) y[i] = (float) op.apply(x[i]); }
            case SQRT -> fwdSqrt(x, y, n);
            case RSQRT -> fwdRsqrt(x, y, n);
            case SQUARE -> fwdSquare(x, y, n);
            case RECIPROCAL -> fwdReciprocal(x, y, n);
            case SIGMOID -> fwdSigmoid(x, y, n);
            case RELU -> fwdRelu(x, y, n);
            case SILU -> fwdSilu(x, y, n);
            case GELU_TANH -> fwdGeluTanh(x, y, n);
            case GELU_ERF -> fwdGeluErf(x, y, n);
        }
    }

    /** {@code dx = dy · op'(x)}. */
    static void backward(UnaryOp op, float[] x, float[] dy, float[] dx, int n) {
        switch (op) {
            case NEG -> bwdNeg(dy, dx, n);
            case ABS -> bwdAbs(x, dy, dx, n);
            case EXP -> bwdExp(x, dy, dx, n);
            case LOG -> bwdLog(x, dy, dx, n);
            case SQRT -> bwdSqrt(x, dy, dx, n);
            case RSQRT -> bwdRsqrt(x, dy, dx, n);
            case SQUARE -> bwdSquare(x, dy, dx, n);
            case RECIPROCAL -> bwdReciprocal(x, dy, dx, n);
            case SIN, COS, TANH -> { for (int i = 0; i < n; i++) dx[i] = (float) (dy[i] * op.derivative(x[i])); }
            case SIGMOID -> bwdSigmoid(x, dy, dx, n);
            case RELU -> bwdRelu(x, dy, dx, n);
            case SILU -> bwdSilu(x, dy, dx, n);
            case GELU_TANH -> bwdGeluTanh(x, dy, dx, n);
            case GELU_ERF -> bwdGeluErf(x, dy, dx, n);
        }
    }

    /** Coefficients of t in the exponent of erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes §6.2). */
    private static final float[] ERFC_P = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f, 0.27886807f,
        -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    private static final float SQRT_HALF = (float) Math.sqrt(0.5);
    private static final float INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));

    /**
     * Φ(x) = ½·erfc(−x/√2) by the Chebyshev fit of erfc (relative error below 1.2e-7 for z ≥ 0: exact at fp32) on
     * z = |x|/√2, reflected for x ≥ 0 (erfc(−z) = 2 − erfc(z)).
     */
    private static FloatVector phi(FloatVector x) {
        FloatVector z = x.abs().mul(SQRT_HALF);
        FloatVector t = one().div(z.fma(c(0.5f), one()));
        FloatVector poly = c(ERFC_P[ERFC_P.length - 1]);
        for (int k = ERFC_P.length - 2; k >= 0; k--) {
            poly = poly.fma(t, c(ERFC_P[k]));
        }
        FloatVector erfc = t.mul(VecMath.exp(poly.sub(z.mul(z))));
        FloatVector half = erfc.mul(0.5f); // Φ(−|x|)
        return half.blend(one().sub(half), x.compare(VectorOperators.GE, 0f));
    }

    private static void fwdGeluErf(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            a.mul(phi(a)).intoArray(y, i);
        }
    }

    /** Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π). */
    private static void bwdGeluErf(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            FloatVector density = VecMath.exp(a.mul(a).mul(-0.5f)).mul(INV_SQRT_2PI);
            v(dy, i).mul(phi(a).add(a.mul(density))).intoArray(dx, i);
        }
    }

    private static void bwdNeg(float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).neg().intoArray(dx, i);
        }
    }

    private static void bwdAbs(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).mul(sign(v(x, i))).intoArray(dx, i);
        }
    }

    private static void bwdExp(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).mul(VecMath.exp(v(x, i))).intoArray(dx, i);
        }
    }

    private static void bwdLog(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).div(v(x, i)).intoArray(dx, i);
        }
    }

    private static void bwdSqrt(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).mul(0.5f).div(v(x, i).sqrt()).intoArray(dx, i);
        }
    }

    private static void bwdRsqrt(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            v(dy, i).mul(-0.5f).div(a.mul(a.sqrt())).intoArray(dx, i);
        }
    }

    private static void bwdSquare(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).mul(v(x, i)).mul(2f).intoArray(dx, i);
        }
    }

    private static void bwdReciprocal(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            v(dy, i).neg().div(a.mul(a)).intoArray(dx, i);
        }
    }

    private static void bwdSigmoid(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector s = VecMath.sigmoid(v(x, i));
            v(dy, i).mul(s.mul(one().sub(s))).intoArray(dx, i);
        }
    }

    private static void bwdRelu(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            v(dy, i).blend(0f, v(x, i).compare(VectorOperators.LE, 0f)).intoArray(dx, i);
        }
    }

    /** s·(1 + x·(1 − s)), s = sigmoid(x). */
    private static void bwdSilu(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            FloatVector s = VecMath.sigmoid(a);
            v(dy, i).mul(s.mul(a.mul(one().sub(s)).add(1f))).intoArray(dx, i);
        }
    }

    /** s + 2·x·s·(1 − s)·du, since 0.5·(1 + tanh u) = s and 1 − tanh² u = 4·s·(1 − s). */
    private static void bwdGeluTanh(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector a = v(x, i);
            FloatVector s = geluGate(a);
            FloatVector du = a.mul(a).mul(3 * GELU_A * GELU_C).add(GELU_C);
            FloatVector d = a.mul(2f).mul(s).mul(one().sub(s)).mul(du).add(s);
            v(dy, i).mul(d).intoArray(dx, i);
        }
    }

    private static void fwdNeg(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            v(x, i).neg().intoArray(y, i);
        }
    }

    private static void fwdAbs(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            v(x, i).abs().intoArray(y, i);
        }
    }

    private static void fwdExp(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            VecMath.exp(v(x, i)).intoArray(y, i);
        }
    }

    private static void fwdSqrt(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            v(x, i).sqrt().intoArray(y, i);
        }
    }

    private static void fwdRsqrt(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            one().div(v(x, i).sqrt()).intoArray(y, i);
        }
    }

    private static void fwdSquare(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            { FloatVector a = v(x, i); a.mul(a).intoArray(y, i); }
        }
    }

    private static void fwdReciprocal(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            one().div(v(x, i)).intoArray(y, i);
        }
    }

    private static void fwdSigmoid(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            VecMath.sigmoid(v(x, i)).intoArray(y, i);
        }
    }

    private static void fwdRelu(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            v(x, i).max(0f).intoArray(y, i);
        }
    }

    private static void fwdSilu(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            { FloatVector a = v(x, i); a.mul(VecMath.sigmoid(a)).intoArray(y, i); }
        }
    }

    private static void fwdGeluTanh(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i += VL) {
            { FloatVector a = v(x, i); a.mul(geluGate(a)).intoArray(y, i); }
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

    private static FloatVector c(float value) {
        return FloatVector.broadcast(F, value);
    }

    private static FloatVector one() {
        return FloatVector.broadcast(F, 1f);
    }
}
