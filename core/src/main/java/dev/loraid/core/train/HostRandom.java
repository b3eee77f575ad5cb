package dev.loraid.core.train;

import java.nio.charset.StandardCharsets;

/**
 * A counter-based host random stream: draw i is a pure function of (key, i) — SplitMix64's output for seed
 * {@code key} at position i, the same finaliser as {@code dev.loraid.autograd.Rng}. The only state is the counter,
 * so a stream is resumed bit-exactly from (key, position), and independent streams come from {@link #key}.
 *
 * <p>Each {@link #uniform()} and each {@link #normal()} takes one counter value: a normal is the inverse normal CDF
 * ({@link #probit}) of the uniform at its position, not Box–Muller, so one draw is one number.
 */
public final class HostRandom {
    private static final long GAMMA = 0x9e3779b97f4a7c15L;

    private final long key;
    private long position;

    public HostRandom(long key) {
        this(key, 0);
    }

    /** The stream {@code key} positioned at draw {@code position} (what {@link #position()} returned). */
    public HostRandom(long key, long position) {
        if (position < 0) {
            throw new IllegalArgumentException("host random position " + position + " must not be negative");
        }
        this.key = key;
        this.position = position;
    }

    public long key() {
        return key;
    }

    /** The index of the next draw. */
    public long position() {
        return position;
    }

    /** A uniform double in [0, 1): draw {@link #position()}; advances the counter. */
    public double uniform() {
        return uniformAt(key, position++);
    }

    /** A standard normal: {@link #probit} of the next uniform; advances the counter. */
    public double normal() {
        return probit(uniform());
    }

    /** Draw {@code index} of stream {@code key}: a uniform double in [0, 1) with 53 random bits. */
    public static double uniformAt(long key, long index) {
        return (mix(key + (index + 1) * GAMMA) >>> 11) * 0x1.0p-53;
    }

    /**
     * An independent stream key for (seed, stream name, counters), e.g. {@code key(seed, "timestep", step)}: the
     * name (UTF-8, FNV-1a) and each counter are folded in through the SplitMix64 finaliser, so keys that differ in
     * any part are unrelated.
     */
    public static long key(long seed, String stream, long... counters) {
        long h = mix(seed ^ 0x6a09e667f3bcc909L);
        long fnv = 0xcbf29ce484222325L;
        for (byte b : stream.getBytes(StandardCharsets.UTF_8)) {
            fnv = (fnv ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = mix(h + GAMMA + fnv);
        h = mix(h + GAMMA + counters.length);
        for (long c : counters) {
            h = mix(h + GAMMA + mix(c));
        }
        return h;
    }

    /**
     * Φ⁻¹(p), the standard normal quantile: Acklam's rational approximation (relative error below 1.2e-9), ∓∞ at
     * p ≤ 0 and p ≥ 1.
     */
    public static double probit(double p) {
        if (p <= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (p >= 1) {
            return Double.POSITIVE_INFINITY;
        }
        final double pLow = 0.02425;
        if (p < pLow) {
            double q = Math.sqrt(-2 * Math.log(p));
            return tail(q);
        }
        if (p > 1 - pLow) {
            double q = Math.sqrt(-2 * Math.log1p(-p));
            return -tail(q);
        }
        double q = p - 0.5;
        double r = q * q;
        return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
                + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
    }

    private static double tail(double q) {
        return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                + 3.754408661907416e+00) * q + 1);
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
