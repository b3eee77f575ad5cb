package dev.loraid.tensor.testing;

/** The largest magnitudes tests compare a result with a reference by: of the values, and of their differences. */
public final class MaxAbs {
    private MaxAbs() {
    }

    /** max |v[i]| (0 for none; NaN once a value is). */
    public static double of(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /** max |a[i] − b[i]| over arrays of one length (NaN once a difference is: {@link Math#max} keeps it). */
    public static double ofDifference(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " values against " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
