package dev.loraid.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The scalar definitions of {@link UnaryOp} that the kernels are checked against: erfc (under the exact GELU) at
 * tabulated values, and each op's derivative against a central difference of its definition.
 */
class UnaryOpTest {

    /** erfc against C's libm (values printed by Python's math.erfc), on both sides of the series/fraction switch. */
    @Test
    void erfcAgainstLibm() {
        double[][] table = {{0, 1}, {0.5, 0.4795001221869535}, {1, 0.15729920705028513}, {1.49, 0.03510213515679579},
            {2, 0.004677734981047265}, {2.9, 4.109787809945886e-05}, {3, 2.2090496998585438e-05},
            {4, 1.541725790028002e-08}, {-1, 1.842700792949715}, {-3.5, 1.9999992569016276}};
        for (double[] row : table) {
            double tol = 1e-13 * row[1];
            assertEquals(row[1], UnaryOp.erfc(row[0]), tol, "erfc(" + row[0] + ")");
        }
    }

    @Test
    void geluErfIsXTimesPhi() {
        // Φ(1) = 0.8413447460685429, Φ(−2) = 0.02275013194817921 (libm)
        assertEquals(0.8413447460685429, UnaryOp.GELU_ERF.apply(1.0), 1e-14);
        assertEquals(-2 * 0.02275013194817921, UnaryOp.GELU_ERF.apply(-2.0), 1e-14);
        assertEquals(0.0, UnaryOp.GELU_ERF.apply(0.0), 0.0);
    }

    @Test
    void everyDerivativeMatchesACentralDifference() {
        double h = 1e-6;
        for (UnaryOp op : UnaryOp.values()) {
            for (double x : new double[] {-2.3, -0.7, 0.4, 1.3, 2.9}) {
                double at = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT ? Math.abs(x) : x;
                if (op == UnaryOp.RELU || op == UnaryOp.ABS) {
                    at = x; // kinks at 0 only
                }
                double numeric = (op.apply(at + h) - op.apply(at - h)) / (2 * h);
                assertEquals(numeric, op.derivative(at), 1e-6 * Math.max(1, Math.abs(numeric)), op + " at " + at);
            }
        }
    }
}
