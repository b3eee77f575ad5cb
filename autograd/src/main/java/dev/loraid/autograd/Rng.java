package dev.loraid.autograd;

/**
 * The training random stream of this thread, counter-based: a seed and an offset that every draw advances.
 * Device-side draws ({@link Ops#dropout(Var, double)}, {@link Ops#keepMask}) reserve a range of offsets for the
 * backend's counter-based generator; host-side draws ({@link #nextDouble()}, e.g. module dropout) hash
 * (seed, offset). {@link Recompute} saves the state before a block's forward pass and replays it for the
 * recomputation, so dropout masks are identical both times (PyTorch's {@code preserve_rng_state}).
 */
public final class Rng {
    /** A saved position in the stream. */
    public record State(long seed, long offset) {
    }

    private static final ThreadLocal<long[]> STATE = ThreadLocal.withInitial(() -> new long[] {0, 0});

    private Rng() {
    }

    /** Restarts this thread's stream at offset 0 of {@code seed}. */
    public static void seed(long seed) {
        long[] s = STATE.get();
        s[0] = seed;
        s[1] = 0;
    }

    public static State save() {
        long[] s = STATE.get();
        return new State(s[0], s[1]);
    }

    public static void restore(State state) {
        long[] s = STATE.get();
        s[0] = state.seed();
        s[1] = state.offset();
    }

    /** Reserves {@code count} numbers: returns the offset of the first; the stream moves past them. */
    public static long reserve(long count) {
        long[] s = STATE.get();
        long first = s[1];
        s[1] = Math.addExact(first, count);
        return first;
    }

    public static long currentSeed() {
        return STATE.get()[0];
    }

    /** A uniform double in [0, 1) on the host, number {@link #reserve reserve(1)} of the stream. */
    public static double nextDouble() {
        long[] s = STATE.get();
        long offset = reserve(1);
        return (mix(mix(s[0]) ^ offset) >>> 11) * 0x1.0p-53;
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
