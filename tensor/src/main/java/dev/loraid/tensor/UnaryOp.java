package dev.loraid.tensor;

/**
 * Elementwise functions of one tensor. {@code GELU_TANH} is GELU's tanh approximation (as Wan's DiT and UMT5 use);
 * {@code GELU_ERF} the exact one, {@code x·Φ(x)} (CLIP and the DiT's {@code img_emb}).
 */
public enum UnaryOp {
    NEG, ABS, EXP, LOG, SQRT, RSQRT, SQUARE, RECIPROCAL, SIN, COS, TANH, SIGMOID, RELU, SILU, GELU_TANH, GELU_ERF;

    /** The plain scalar definition: reference for kernels and tests. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case RELU -> x > 0 ? x : 0.0;
            case SILU -> x / (1.0 + Math.exp(-x));
            case GELU_TANH -> 0.5 * x * (1.0 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * erfc(-x / Math.sqrt(2));
        };
    }

    /** d apply(x) / dx: reference for backward kernels and tests. */
    public double derivative(double x) {
        return switch (this) {
            case NEG -> -1.0;
            case ABS -> Math.signum(x);
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case SQUARE -> 2.0 * x;
            case RECIPROCAL -> -1.0 / (x * x);
            case SIN -> Math.cos(x);
            case COS -> -Math.sin(x);
            case TANH -> 1.0 - Math.tanh(x) * Math.tanh(x);
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield s * (1.0 - s);
            }
            case RELU -> x > 0 ? 1.0 : 0.0;
            case SILU -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield s * (1.0 + x * (1.0 - s));
            }
            case GELU_TANH -> {
                double u = GELU_C * (x + 0.044715 * x * x * x);
                double th = Math.tanh(u);
                double du = GELU_C * (1.0 + 3 * 0.044715 * x * x);
                yield 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du;
            }
            case GELU_ERF -> 0.5 * erfc(-x / Math.sqrt(2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
        };
    }

    /**
     * erfc in double, for the reference: the Maclaurin series of erf for |z| &lt; 1.5 (before its cancellation costs
     * digits), else the continued fraction erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + …)))) evaluated from its
     * 80th term (within 2e-15 of libm's from 1.5 on); erfc(−z) = 2 − erfc(z).
     */
    static double erfc(double z) {
        if (Double.isNaN(z)) {
            return z;
        }
        if (Math.abs(z) < 1.5) {
            double term = z;
            double sum = z;
            for (int n = 1; n < 120; n++) {
                term *= -z * z / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return 1 - 2 / Math.sqrt(Math.PI) * sum;
        }
        if (z < 0) {
            return 2 - erfc(-z);
        }
        double f = z;
        for (int k = 80; k >= 1; k--) {
            f = z + (k / 2.0) / f;
        }
        return Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
    }

    /** sqrt(2/pi) */
    public static final double GELU_C = 0.7978845608028654;
}
