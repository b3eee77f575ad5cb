package dev.loraid.wan;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ErfGeluTest {
    /** erf in double: Maclaurin series for |x| ≤ 2, Lentz continued fraction for erfc beyond (both to ~1e-15). */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a <= 2) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 60; n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            return Math.signum(x) * 2 / Math.sqrt(Math.PI) * sum;
        }
        // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...))))
        double f = a;
        double c = a;
        double d = 0;
        for (int n = 1; n < 200; n++) {
            double an = n / 2.0;
            d = a + an * d;
            d = 1 / d;
            c = a + an / c;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        double erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1 - erfc);
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    @Test
    void matchesTheExactGeluOverItsWholeRange() {
        int n = 4001;
        double[] xs = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -10 + 20.0 * i / (n - 1);
        }
        Tensor y = new ErfGelu().forward(Var.constant(Tensor.ofDoubles(xs, n))).data();
        for (int i = 0; i < n; i++) {
            double want = gelu(xs[i]);
            assertEquals(want, y.getDouble(i), 1e-12 + 2e-7 * Math.abs(xs[i]), "gelu(" + xs[i] + ")");
        }
        assertEquals(0.8413447460685429, gelu(1.0), 1e-15, "the reference itself: Φ(1)");
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[] xs = {-3.1, -0.7, -1e-3, 0.25, 1.3, 4.2};
        Var x = Var.leaf(Tensor.ofDoubles(xs, xs.length));
        new ErfGelu().forward(x).backward(Tensor.ofDoubles(new double[] {1, 1, 1, 1, 1, 1}, xs.length));
        for (int i = 0; i < xs.length; i++) {
            double h = 1e-6;
            double numeric = (gelu(xs[i] + h) - gelu(xs[i] - h)) / (2 * h);
            assertEquals(numeric, x.grad().getDouble(i), 1e-6, "d gelu / dx at " + xs[i]);
        }
    }
}
